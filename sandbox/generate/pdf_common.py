"""What every PDF form shares: the printed content of a report, fonts, and its truth file.

`ReportContent` is a layout-neutral view of one publication (title, prose, and
the three tables as rows of printed strings); each PDF form lays it out its own way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from report.catalogue import SECTIONS, T3_COLUMNS, T4_COLUMNS, T4_ROWS
from report.record import ReportRecord
from sandbox.agencies import Publication, agency, publication_figures, seed_for
from sandbox.corpus import Form, Truth

PDF_MEDIA_TYPE = "application/pdf"

T3_COLUMN_LABELS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
T3_CHECK_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
T3_RESULTS_GROUP = "三、本年度办理结果"


@dataclass
class T2Block:
    """One 第二十条第（N）项 block of 表二: a heading, column labels, and labelled rows."""

    heading: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass
class T3Row:
    """One printed row of 表三: its group (e.g. 三、本年度办理结果), subgroup, label, 7 values."""

    group: str
    subgroup: str
    label: str
    values: list[str]


@dataclass
class ReportContent:
    title: str
    agency: str
    year: int
    format: str
    intro: str
    sections: list[tuple[str, str]]            # (heading, prose) in the order printed
    t2: list[T2Block]
    t3: list[T3Row]
    t4: list[list[str]]                        # 3 groups × 5 columns, printed strings
    record: ReportRecord                       # the truth record (raw as printed)
    expected_rules: list[str]
    variant: str
    notes: list[str] = field(default_factory=list)


def intro_text(who: str, year: int) -> str:
    return (f"本报告由{who}办公室根据《中华人民共和国政府信息公开条例》（国令第711号）要求编制。"
            f"报告中所列数据统计期限自{year}年1月1日起至{year}年12月31日止。"
            f"如对本报告有疑问，请与{who}办公室联系。")


def content_for(publication: Publication, *, amount_in_yuan: bool = False, thousands: bool = False) -> ReportContent:
    """The printed content of a publication; its record's raw strings are what is printed.

    thousands: counts from 1000 up printed with separators (2,581), as some agencies do.
    """
    figures = publication_figures(publication)
    record = figures.record.model_copy(deep=True)
    who = agency(publication.slug)
    notes: list[str] = []
    if thousands:
        for key, value in record.cells.items():
            if isinstance(value, int) and value >= 1000:
                record.raw[key] = f"{value:,}"
        notes.append("counts of 1000 and more printed with thousands separators (raw keeps them)")
    if amount_in_yuan and record.format == "2019":
        notes.append("政府集中采购 采购总金额 printed in 元; the canonical cell is in 万元, raw keeps the printed 元 string")
    sections = [(heading, record.sections.get(key, "")) for key, heading, _ in SECTIONS]
    content = ReportContent(
        title=record.title or "", agency=who.name, year=publication.year, format=record.format,
        intro=intro_text(who.name, publication.year), sections=sections,
        t2=_t2_blocks(record, amount_in_yuan), t3=_t3_rows(record), t4=_t4_values(record),
        record=record, expected_rules=list(figures.expected_rules), variant=figures.variant, notes=notes,
    )
    return content


def _raw(record: ReportRecord, key: str) -> str:
    return record.raw.get(key, "")


def _t2_blocks(record: ReportRecord, amount_in_yuan: bool) -> list[T2Block]:
    r = record
    if r.format == "2021":
        return [
            T2Block("第二十条第（一）项", ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
                    [(label, [_raw(r, f"t2.{row}.{c}") for c in ("issued", "repealed", "in_force")])
                     for row, label in (("rules", "规章"), ("normative_docs", "行政规范性文件"))]),
            T2Block("第二十条第（五）项", ["信息内容", "本年处理决定数量"],
                    [("行政许可", [_raw(r, "t2.licensing.decisions")])]),
            T2Block("第二十条第（六）项", ["信息内容", "本年处理决定数量"],
                    [("行政处罚", [_raw(r, "t2.penalty.decisions")]), ("行政强制", [_raw(r, "t2.coercion.decisions")])]),
            T2Block("第二十条第（八）项", ["信息内容", "本年收费金额（单位：万元）"],
                    [("行政事业性收费", [_raw(r, "t2.fees.amount")])]),
        ]
    three = ("prev_items", "change", "decisions")
    amount_key = "t2.procurement.amount"
    amount = r.cells.get(amount_key)
    if amount_in_yuan and amount is not None:
        r.raw[amount_key] = f"{round(float(amount) * 10000):d}"
    return [
        T2Block("第二十条第（一）项", ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"],
                [(label, [_raw(r, f"t2.{row}.{c}") for c in ("made", "published", "total_public")])
                 for row, label in (("rules", "规章"), ("normative_docs", "规范性文件"))]),
        T2Block("第二十条第（五）项", ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"],
                [(label, [_signed(r, f"t2.{row}.{c}") for c in three])
                 for row, label in (("licensing", "行政许可"), ("other_services", "其他对外管理服务事项"))]),
        T2Block("第二十条第（六）项", ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"],
                [(label, [_signed(r, f"t2.{row}.{c}") for c in three])
                 for row, label in (("penalty", "行政处罚"), ("coercion", "行政强制"))]),
        T2Block("第二十条第（八）项", ["信息内容", "上一年项目数量", "本年增/减"],
                [("行政事业性收费", [_signed(r, f"t2.fees.{c}") for c in ("prev_items", "change")])]),
        T2Block("第二十条第（九）项", ["信息内容", "采购项目数量", "采购总金额（元）" if amount_in_yuan else "采购总金额（万元）"],
                [("政府集中采购", [_raw(r, "t2.procurement.items"), _raw(r, amount_key)])]),
    ]


def _signed(record: ReportRecord, key: str) -> str:
    """本年增/减 is printed with its sign (+3, -2, 0), as in the real 2019-format reports."""
    printed = _raw(record, key)
    change = record.cells.get(key)
    if key.endswith(".change") and change:
        value = int(change)
        printed = f"+{value}" if value > 0 else str(value)
        record.raw[key] = printed
    return printed


_T3_LABELS: tuple[tuple[str, str, str, str], ...] = (
    # (row key, group, subgroup, label)
    ("new", "一、本年新收政府信息公开申请数量", "", ""),
    ("carried_over", "二、上年结转政府信息公开申请数量", "", ""),
    ("disclosed", T3_RESULTS_GROUP, "（一）予以公开", ""),
    ("partly_disclosed", T3_RESULTS_GROUP, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", ""),
    ("withheld.state_secret", T3_RESULTS_GROUP, "（三）不予公开", "1.属于国家秘密"),
    ("withheld.prohibited", T3_RESULTS_GROUP, "（三）不予公开", "2.其他法律行政法规禁止公开"),
    ("withheld.security", T3_RESULTS_GROUP, "（三）不予公开", "3.危及“三安全一稳定”"),
    ("withheld.third_party", T3_RESULTS_GROUP, "（三）不予公开", "4.保护第三方合法权益"),
    ("withheld.internal", T3_RESULTS_GROUP, "（三）不予公开", "5.属于三类内部事务信息"),
    ("withheld.process", T3_RESULTS_GROUP, "（三）不予公开", "6.属于四类过程性信息"),
    ("withheld.enforcement", T3_RESULTS_GROUP, "（三）不予公开", "7.属于行政执法案卷"),
    ("withheld.inquiry", T3_RESULTS_GROUP, "（三）不予公开", "8.属于行政查询事项"),
    ("unavailable.not_held", T3_RESULTS_GROUP, "（四）无法提供", "1.本机关不掌握相关政府信息"),
    ("unavailable.needs_creation", T3_RESULTS_GROUP, "（四）无法提供", "2.没有现成信息需要另行制作"),
    ("unavailable.unclear", T3_RESULTS_GROUP, "（四）无法提供", "3.补正后申请内容仍不明确"),
    ("not_processed.petition", T3_RESULTS_GROUP, "（五）不予处理", "1.信访举报投诉类申请"),
    ("not_processed.duplicate", T3_RESULTS_GROUP, "（五）不予处理", "2.重复申请"),
    ("not_processed.publication", T3_RESULTS_GROUP, "（五）不予处理", "3.要求提供公开出版物"),
    ("not_processed.excessive", T3_RESULTS_GROUP, "（五）不予处理", "4.无正当理由大量反复申请"),
    ("not_processed.confirmation", T3_RESULTS_GROUP, "（五）不予处理", "5.要求行政机关确认或重新出具已获取信息"),
    ("other.no_correction", T3_RESULTS_GROUP, "（六）其他处理",
     "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other.fee_unpaid", T3_RESULTS_GROUP, "（六）其他处理",
     "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other.other", T3_RESULTS_GROUP, "（六）其他处理", "3.其他"),
    ("other", T3_RESULTS_GROUP, "（六）其他处理", ""),
    ("result_total", T3_RESULTS_GROUP, "（七）总计", ""),
    ("carried_forward", "四、结转下年度继续办理", "", ""),
)


def _t3_rows(record: ReportRecord) -> list[T3Row]:
    columns = [c.key for c in T3_COLUMNS]
    rows = []
    for row_key, group, subgroup, label in _T3_LABELS:
        if f"t3.{row_key}.total" not in record.cells:
            continue
        rows.append(T3Row(group, subgroup, label, [_raw(record, f"t3.{row_key}.{c}") for c in columns]))
    return rows


def _t4_values(record: ReportRecord) -> list[list[str]]:
    return [[_raw(record, f"t4.{row.key}.{c.key}") for c in T4_COLUMNS] for row in T4_ROWS]


# ---------------------------------------------------------------- truth
def rng_for(publication: Publication, salt: str = "") -> random.Random:
    return random.Random(f"{seed_for(publication.slug, publication.year)}:{salt}")


def write_truth(out_dir: Path, publication: Publication, content: ReportContent, *, form: Form,
                file: str, notes: list[str], reviewed: bool) -> Truth:
    who = agency(publication.slug)
    truth = Truth(
        name=publication.name, file=file, form=form, kind="report", media_type=PDF_MEDIA_TYPE,
        agency=who.name, year=publication.year, title=content.title, published=publication.published,
        level=who.level, agency_kind=who.kind, region_code=who.region_code, record=content.record,
        expected_rules=content.expected_rules, variant=publication.variant,
        seed=seed_for(publication.slug, publication.year), reviewed=reviewed,
        notes="; ".join([*content.notes, *notes]), site=publication.slug,
    )
    save_truth(out_dir, truth)
    return truth


def save_truth(out_dir: Path, truth: Truth) -> None:
    path = out_dir / f"{truth.name}.truth.json"
    path.write_text(truth.model_dump_json(indent=1) + "\n", encoding="utf-8")
