"""The format catalogue as data: every table, row and column of the 2021 and 2019
formats with its canonical key (shared/spec/FORMAT.md), its official label and the
variants seen in the wild, and the one resolver that maps a printed label to a key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from report.labels import label_segments, leading_enumerator, normalise_label, strip_enumerators

Format = Literal["2021", "2019", "2014", "unknown"]
Kind = Literal["count", "decimal", "signed", "amount"]
Axis = Literal["row", "column"]
TableId = Literal["t2", "t3", "t4"]

FORMATS: tuple[str, ...] = ("2021", "2019")


@dataclass(frozen=True)
class Line:
    """A row or a column: canonical key, official label, variants seen in the wild."""

    key: str
    label: str
    variants: tuple[str, ...] = ()
    kind: Kind = "count"

    def spellings(self) -> tuple[str, ...]:
        return (self.label, *self.variants)


@dataclass(frozen=True)
class SubTable:
    """One printed block: 表二's 第二十条第（N）项 blocks, 表三, 表四."""

    id: str
    table: TableId
    format: str
    heading: str
    rows: tuple[Line, ...]
    columns: tuple[Line, ...]
    # Cells that do not exist in the printed grid, as (row key, column key).
    holes: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def cells(self) -> Iterator[CellSpec]:
        for row in self.rows:
            for column in self.columns:
                if (row.key, column.key) not in self.holes:
                    yield CellSpec(self, row, column)


@dataclass(frozen=True)
class CellSpec:
    subtable: SubTable
    row: Line
    column: Line

    @property
    def key(self) -> str:
        return f"{self.subtable.table}.{self.row.key}.{self.column.key}"

    @property
    def kind(self) -> Kind:
        return self.column.kind if self.column.kind != "count" else self.row.kind

    @property
    def label(self) -> str:
        return f"{self.row.label} × {self.column.label}"


# ---------------------------------------------------------------- 表二, 2021
_ISSUED = Line("issued", "本年制发件数", ("本年发件数", "本年发件", "本年制发件", "本年制发数", "本年制发"))
_REPEALED = Line("repealed", "本年废止件数", ("本年废止件", "本年废止", "本年废止数"))
_IN_FORCE = Line("in_force", "现行有效件数", ("现行有效件", "现行有效", "现行有效数"))
_DECISIONS_2021 = Line("decisions", "本年处理决定数量", ("本年处理决定数", "本年处理决定件数"))
_FEE_AMOUNT = Line("amount", "本年收费金额（单位：万元）", ("本年收费金额", "本年收费金额(万元)", "收费金额"), "decimal")

_RULES = Line("rules", "规章", ("规 章",))
_NORMATIVE_2021 = Line("normative_docs", "行政规范性文件", ("规范性文件", "行政规范性文件件数"))
_LICENSING = Line("licensing", "行政许可")
_PENALTY = Line("penalty", "行政处罚")
_COERCION = Line("coercion", "行政强制")
_FEES = Line("fees", "行政事业性收费", ("行政事业性收费项目",))

T2_2021: tuple[SubTable, ...] = (
    SubTable("t2.art20_1", "t2", "2021", "第二十条第（一）项", (_RULES, _NORMATIVE_2021), (_ISSUED, _REPEALED, _IN_FORCE)),
    SubTable("t2.art20_5", "t2", "2021", "第二十条第（五）项", (_LICENSING,), (_DECISIONS_2021,)),
    SubTable("t2.art20_6", "t2", "2021", "第二十条第（六）项", (_PENALTY, _COERCION), (_DECISIONS_2021,)),
    SubTable("t2.art20_8", "t2", "2021", "第二十条第（八）项", (_FEES,), (_FEE_AMOUNT,)),
)

# ---------------------------------------------------------------- 表二, 2019
_MADE = Line("made", "本年新制作数量", ("本年新制作数",))
_PUBLISHED = Line("published", "本年新公开数量", ("本年新公开数",))
_TOTAL_PUBLIC = Line("total_public", "对外公开总数量", ("对外公开总数",))
_PREV_ITEMS = Line("prev_items", "上一年项目数量", ("上年项目数量", "上一年项目数"))
_CHANGE = Line("change", "本年增/减", ("本年增减", "本年增/减数量", "增/减"), "signed")
_DECISIONS_2019 = Line("decisions", "处理决定数量", ("处理决定数",))
_ITEMS = Line("items", "采购项目数量", ("采购项目数",))
_PROCUREMENT_AMOUNT = Line("amount", "采购总金额", ("采购金额",), "amount")

_NORMATIVE_2019 = Line("normative_docs", "规范性文件", ("行政规范性文件",))
_OTHER_SERVICES = Line("other_services", "其他对外管理服务事项", ("其他对外管理服务",))
_PROCUREMENT = Line("procurement", "政府集中采购")

T2_2019: tuple[SubTable, ...] = (
    SubTable("t2.art20_1", "t2", "2019", "第二十条第（一）项", (_RULES, _NORMATIVE_2019), (_MADE, _PUBLISHED, _TOTAL_PUBLIC)),
    SubTable("t2.art20_5", "t2", "2019", "第二十条第（五）项", (_LICENSING, _OTHER_SERVICES), (_PREV_ITEMS, _CHANGE, _DECISIONS_2019)),
    SubTable("t2.art20_6", "t2", "2019", "第二十条第（六）项", (_PENALTY, _COERCION), (_PREV_ITEMS, _CHANGE, _DECISIONS_2019)),
    SubTable("t2.art20_8", "t2", "2019", "第二十条第（八）项", (_FEES,), (_PREV_ITEMS, _CHANGE)),
    SubTable("t2.art20_9", "t2", "2019", "第二十条第（九）项", (_PROCUREMENT,), (_ITEMS, _PROCUREMENT_AMOUNT)),
)

# ---------------------------------------------------------------- 表三
T3_COLUMNS: tuple[Line, ...] = (
    Line("natural_person", "自然人"),
    Line("commercial", "商业企业"),
    Line("research", "科研机构"),
    Line("social_welfare", "社会公益组织", ("公益组织",)),
    Line("legal_service", "法律服务机构"),
    Line("other_org", "其他", ("其他组织",)),
    Line("total", "总计", ("合计",)),
)
T3_APPLICANT_COLUMNS: tuple[str, ...] = tuple(c.key for c in T3_COLUMNS if c.key != "total")

_T3_HEAD = (
    Line("new", "一、本年新收政府信息公开申请数量", ("本年新收政府信息公开申请", "本年新收申请数量")),
    Line("carried_over", "二、上年结转政府信息公开申请数量", ("上年结转政府信息公开申请", "上年结转申请数量")),
    Line("disclosed", "（一）予以公开"),
    Line("partly_disclosed", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    Line("withheld.state_secret", "1.属于国家秘密"),
    Line("withheld.prohibited", "2.其他法律行政法规禁止公开", ("其他法律行政止公开", "其他法律法规禁止公开")),
    Line("withheld.security", "3.危及“三安全一稳定”", ("危及三安全一稳定",)),
    Line("withheld.third_party", "4.保护第三方合法权益"),
    Line("withheld.internal", "5.属于三类内部事务信息"),
    Line("withheld.process", "6.属于四类过程性信息"),
    Line("withheld.enforcement", "7.属于行政执法案卷"),
    Line("withheld.inquiry", "8.属于行政查询事项"),
    Line("unavailable.not_held", "1.本机关不掌握相关政府信息"),
    Line("unavailable.needs_creation", "2.没有现成信息需要另行制作"),
    Line("unavailable.unclear", "3.补正后申请内容仍不明确"),
    Line("not_processed.petition", "1.信访举报投诉类申请"),
    Line("not_processed.duplicate", "2.重复申请"),
    Line("not_processed.publication", "3.要求提供公开出版物"),
    Line("not_processed.excessive", "4.无正当理由大量反复申请"),
    Line("not_processed.confirmation", "5.要求行政机关确认或重新出具已获取信息"),
)
_T3_OTHER_SPLIT = (
    Line("other.no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
         ("申请人无正当理由逾期不补正",)),
    Line("other.fee_unpaid", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
         ("申请人逾期未按收费通知要求缴纳费用",)),
    Line("other.other", "3.其他"),
)
_T3_OTHER_SINGLE = (Line("other", "（六）其他处理"),)
_T3_TAIL = (
    Line("result_total", "（七）总计", ("总计", "合计")),
    Line("carried_forward", "四、结转下年度继续办理", ("结转下年度继续办理",)),
)

T3_2021 = SubTable("t3", "t3", "2021", "表三", _T3_HEAD + _T3_OTHER_SPLIT + _T3_OTHER_SINGLE + _T3_TAIL, T3_COLUMNS)
T3_2019 = SubTable("t3", "t3", "2019", "表三", _T3_HEAD + _T3_OTHER_SINGLE + _T3_TAIL, T3_COLUMNS)

# Group labels that head rows but hold no numbers of their own.
T3_GROUP_LABELS: tuple[str, ...] = ("三、本年度办理结果", "（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理")
T3_RESULT_ROWS: tuple[str, ...] = tuple(
    line.key for line in _T3_HEAD + _T3_OTHER_SPLIT + _T3_OTHER_SINGLE
    if line.key not in ("new", "carried_over")
)
T3_OTHER_SPLIT_ROWS: tuple[str, ...] = tuple(line.key for line in _T3_OTHER_SPLIT)

# ---------------------------------------------------------------- 表四
T4_COLUMNS: tuple[Line, ...] = (
    Line("upheld", "结果维持", ("维持",)),
    Line("corrected", "结果纠正", ("纠正",)),
    Line("other", "其他结果", ("其他",)),
    Line("pending", "尚未审结", ("未审结",)),
    Line("total", "总计", ("合计",)),
)
T4_ROWS: tuple[Line, ...] = (
    Line("review", "行政复议"),
    Line("suit_direct", "未经复议直接起诉", ("直接起诉",)),
    Line("suit_after_review", "复议后起诉"),
)
T4_2021 = SubTable("t4", "t4", "2021", "表四", T4_ROWS, T4_COLUMNS)
T4_2019 = SubTable("t4", "t4", "2019", "表四", T4_ROWS, T4_COLUMNS)

CATALOGUE: dict[str, tuple[SubTable, ...]] = {
    "2021": (*T2_2021, T3_2021, T4_2021),
    "2019": (*T2_2019, T3_2019, T4_2019),
}

SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("overview", "一、总体情况", ("总体情况", "概述")),
    ("proactive", "二、主动公开政府信息情况", ("主动公开政府信息情况", "主动公开情况")),
    ("applications", "三、收到和处理政府信息公开申请情况", ("收到和处理政府信息公开申请情况", "依申请公开情况")),
    ("review_litigation", "四、政府信息公开行政复议、行政诉讼情况",
     ("政府信息公开行政复议、行政诉讼情况", "政府信息公开行政复议和行政诉讼情况", "行政复议、行政诉讼情况")),
    ("problems", "五、存在的主要问题及改进情况", ("存在的主要问题及改进情况", "存在的主要问题和改进情况", "存在问题及改进情况")),
    ("other", "六、其他需要报告的事项", ("其他需要报告的事项",)),
)
SECTION_KEYS: tuple[str, ...] = tuple(key for key, _, _ in SECTIONS)


def subtables(format: str | None = None) -> tuple[SubTable, ...]:
    if format is None:
        return tuple(st for fmt in FORMATS for st in CATALOGUE[fmt])
    return CATALOGUE.get(format, ())


@cache
def cell_specs(format: str) -> dict[str, CellSpec]:
    """Every canonical cell of a format, by key."""
    return {spec.key: spec for st in CATALOGUE.get(format, ()) for spec in st.cells()}


@cache
def all_cell_specs() -> dict[str, CellSpec]:
    """Every canonical cell of every format; a 2021 spec wins where keys coincide."""
    merged: dict[str, CellSpec] = {}
    for fmt in reversed(FORMATS):
        merged.update(cell_specs(fmt))
    return merged


# ---------------------------------------------------------------- resolving labels
@cache
def _spellings(table: str, axis: Axis, format: str | None) -> dict[str, str]:
    """normalised spelling → key, for one table and axis (and optionally one format)."""
    index: dict[str, str] = {}
    for st in subtables(format):
        if st.table != table:
            continue
        for line in st.rows if axis == "row" else st.columns:
            for spelling in line.spellings():
                index.setdefault(normalise_label(spelling), line.key)
    return index


_FUZZY_CUTOFF = 0.8


def resolve(label: str, table: str, axis: Axis, format: str | None = None) -> str | None:
    """Resolve a printed row or column label of `table` to its key, or None.

    Tries the whole label, then its enumerated segments from the most specific
    (last) one, exactly and then fuzzily (typos such as 其他法律行政止公开).
    """
    index = _spellings(table, axis, format)
    candidates = [label]
    segments = label_segments(label)
    if len(segments) > 1:
        # A label that ends in a numbered item (（六）其他处理 1.…) names that item: its group's
        # words never stand in for an item too garbled to resolve.
        candidates += [segments[-1]] if (leading_enumerator(segments[-1]) or "").isdigit() else list(reversed(segments))
    folded = [normalise_label(c) for c in candidates]
    if table == "t3" and axis == "row":
        folded = [f for f in folded if f not in _T3_PURE_GROUPS]
    for candidate in folded:
        key = index.get(candidate)
        if key:
            return key
    for candidate in folded:
        key = _fuzzy(candidate, index)
        if key:
            return key
    for candidate in candidates:
        key = _fuzzy_within_enumerator(candidate, table, axis, format)
        if key:
            return key
    return None


def _fuzzy(folded: str, index: dict[str, str]) -> str | None:
    if len(folded) < 4:
        return None
    return _closest(folded, index.items(), _FUZZY_CUTOFF)


def _closest(folded: str, spellings: Iterable[tuple[str, str]], cutoff: float) -> str | None:
    """The key of the spelling most like `folded`, if alike by `cutoff` and clearly more than
    any other key's."""
    scored = sorted(((difflib.SequenceMatcher(None, folded, spelling).ratio(), key) for spelling, key in spellings),
                    reverse=True)
    if not scored or scored[0][0] < cutoff:
        return None
    best_score, best_key = scored[0]
    rival = next((score for score, key in scored[1:] if key != best_key), 0.0)
    return best_key if best_score - rival >= 0.05 else None


# A label too short or too garbled for the fuzzy pass (（一）以公开, a character lost to a seal)
# is still told by its enumerator: it is compared only with the spellings that open with the
# same one, more leniently.
_ENUMERATED_CUTOFF = 0.65


@cache
def _spellings_by_enumerator(table: str, axis: Axis, format: str | None) -> dict[str, tuple[tuple[str, str], ...]]:
    """enumerator → (normalised spelling, key) of the spellings that open with it."""
    found: dict[str, list[tuple[str, str]]] = {}
    for st in subtables(format):
        if st.table != table:
            continue
        for line in st.rows if axis == "row" else st.columns:
            for spelling in line.spellings():
                enumerator = leading_enumerator(spelling)
                if enumerator:
                    found.setdefault(enumerator, []).append((normalise_label(spelling), line.key))
    return {enumerator: tuple(spellings) for enumerator, spellings in found.items()}


def _fuzzy_within_enumerator(label: str, table: str, axis: Axis, format: str | None) -> str | None:
    enumerator = leading_enumerator(label)
    words = normalise_label(label)
    if enumerator is None or len(words) < 2:
        return None
    return _closest(words, _spellings_by_enumerator(table, axis, format).get(enumerator, ()), _ENUMERATED_CUTOFF)


@cache
def _column_spellings(format: str, table: str) -> frozenset[str]:
    return frozenset(normalise_label(s) for st in CATALOGUE[format] if st.table == table
                     for column in st.columns for s in column.spellings())


def column_formats(labels: Iterable[str], table: str = "t2") -> set[str]:
    """The formats whose columns explain these printed column labels.

    A label printed only in one format decides; labels common to both leave both.
    """
    folded = {normalise_label(label) for label in labels if label and label.strip()}
    matching = {fmt for fmt in FORMATS if folded & _column_spellings(fmt, table)}
    exclusive = {fmt for fmt in matching
                 if folded & _column_spellings(fmt, table)
                 - set().union(*(_column_spellings(o, table) for o in FORMATS if o != fmt))}
    return exclusive or matching


_T3_PURE_GROUPS = frozenset(normalise_label(g) for g in T3_GROUP_LABELS if "其他处理" not in g)


def is_t3_group_label(label: str) -> bool:
    folded = normalise_label(label)
    return any(folded == normalise_label(group) for group in T3_GROUP_LABELS)


def sections_named(text: str) -> set[str]:
    """The sections whose heading, in any of its spellings, stands somewhere in `text`."""
    squeezed = re.sub(r"\s+", "", text)
    return {key for key, label, variants in SECTIONS
            if any(spelling in squeezed for spelling in (strip_enumerators(label), *variants))}


# 二主动公开政府信息情况: the recogniser lost the 、 after the numeral
_BARE_NUMERAL = re.compile(r"^[一二三四五六七八九十]{1,2}(?=[^、.])")


def resolve_section(heading: str) -> str | None:
    folded = normalise_label(heading)
    bare = _BARE_NUMERAL.sub("", folded)
    for key, label, variants in SECTIONS:
        spellings = {normalise_label(s) for s in (label, *variants)}
        if folded in spellings or bare in spellings:
            return key
    return None
