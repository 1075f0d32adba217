"""Soft rules (warnings): a report that breaks one is suspicious, not malformed."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from report.agencies import RULE_MAKING_LEVELS
from report.catalogue import FORMATS, SECTION_KEYS, SECTIONS, T3_OTHER_SPLIT_ROWS, cell_specs
from report.record import ReportRecord
from report.rules.base import Cells, Hit, fmt
from report.rules.identities import T3_COLUMN_KEYS

_T3_COLUMN_NAMES = dict(zip(T3_COLUMN_KEYS, ("自然人", "商业企业", "科研机构", "社会公益组织",
                                             "法律服务机构", "其他", "总计"), strict=True))
# The 2019 format's 对外公开总数量 counts 规章 an agency publishes, its superiors' included
# (county portals republish them); only 本年新制作/新公开 say the agency made rules.
PUBLICATION_COUNTS: frozenset[str] = frozenset({"t2.rules.total_public"})


# ---------------------------------------------------------------- CARRY-OVER
def check_carry_over(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """This year's 上年结转 = last year's 结转下年度继续办理, per column."""
    if previous is None or not _follows(record, previous):
        return
    now, before = Cells(record), Cells(previous)
    for column in T3_COLUMN_KEYS:
        key = f"t3.carried_over.{column}"
        carried_over, carried_forward = now.number(key), before.number(f"t3.carried_forward.{column}")
        if carried_over is None or carried_forward is None or carried_over == carried_forward:
            continue
        yield Hit((key,),
                  f"表三 {_T3_COLUMN_NAMES[column]}列：上年结转 印为 {fmt(carried_over)}，"
                  f"但{_year(previous)}年报告的结转下年度继续办理为 {fmt(carried_forward)}",
                  f"t3 column {column}: carried_over printed {fmt(carried_over)} but the "
                  f"{_year(previous)} report carried forward {fmt(carried_forward)}")


def _follows(record: ReportRecord, previous: ReportRecord) -> bool:
    """The previous record is the same agency's report for the year before (when known)."""
    if record.agency and previous.agency and _fold(record.agency) != _fold(previous.agency):
        return False
    return record.year is None or previous.year is None or previous.year == record.year - 1


def _fold(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def _year(record: ReportRecord) -> str:
    return str(record.year) if record.year is not None else "上一"


# ---------------------------------------------------------------- STOCK
def check_stock(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """现行有效件数(Y) = 现行有效件数(Y−1) + 本年制发(Y) − 本年废止(Y), for 规章 and 行政规范性文件."""
    if previous is None or not _follows(record, previous):
        return
    now, before = Cells(record), Cells(previous)
    for row, name in (("rules", "规章"), ("normative_docs", "行政规范性文件")):
        keys = (f"t2.{row}.in_force", f"t2.{row}.issued", f"t2.{row}.repealed")
        figures = [now.number(key) for key in keys]
        in_force_before = before.number(f"t2.{row}.in_force")
        if in_force_before is None or any(figure is None for figure in figures):
            continue
        in_force, issued, repealed = (figure or 0 for figure in figures)
        expected = in_force_before + issued - repealed
        if expected != in_force:
            yield Hit(keys,
                      f"表二 {name}：现行有效件数 印为 {fmt(in_force)}，但上年现行有效 {fmt(in_force_before)}"
                      f" + 本年制发 {fmt(issued)} − 本年废止 {fmt(repealed)} = {fmt(expected)}",
                      f"t2 {row}: in_force printed {fmt(in_force)} but last year's {fmt(in_force_before)}"
                      f" + issued {fmt(issued)} − repealed {fmt(repealed)} = {fmt(expected)}")


# ---------------------------------------------------------------- FORMAT-YEAR
def expected_format(year: int | None) -> str | None:
    """The format in force for a report year (国办公开办函〔2021〕30号, 〔2019〕60号, 国办发〔2014〕32号)."""
    if year is None or year < 2014:
        return None
    if year >= 2021:
        return "2021"
    return "2019" if year >= 2019 else "2014"


def check_format_year(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    expected = expected_format(record.year)
    if expected and record.format != "unknown" and record.format != expected:
        yield Hit((), f"{record.year}年报告应使用{expected}年格式，但按{record.format}年格式印制",
                  f"a {record.year} report should use the {expected} format but is printed in the {record.format} format")
    yield from _mixed_formats(record)


def _mixed_formats(record: ReportRecord) -> Iterator[Hit]:
    """Cells that only the other format has (e.g. 2019 表二 columns in a 2021-format report)."""
    exclusive = {fmt_: set(cell_specs(fmt_)) - set().union(*(cell_specs(o) for o in FORMATS if o != fmt_))
                 for fmt_ in FORMATS}
    present = {fmt_: sorted(keys & set(record.cells)) for fmt_, keys in exclusive.items()}
    if record.format in FORMATS:
        foreign = [key for fmt_, keys in present.items() if fmt_ != record.format for key in keys]
        mixed = bool(foreign)
    else:
        foreign = [key for keys in present.values() for key in keys]
        mixed = all(present.values())
    if mixed:
        yield Hit(tuple(foreign),
                  f"报告混用两种格式：{len(foreign)} 个单元格属于另一格式（如 {foreign[0]}）",
                  f"the report mixes two formats: {len(foreign)} cells belong to the other format (e.g. {foreign[0]})")


# ---------------------------------------------------------------- CELLS
def check_cells(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """Every cell of the report's format is in the record (printed blank is null, still there):
    a row or a table the reader did not find makes a partial record, and the identities cannot
    see a row of zeros that is missing. 表三 （六） counts in the form printed: the single row or
    its three sub-rows."""
    if record.format not in FORMATS or not record.cells:
        return   # an unknown format has no list of cells; an empty record is EMPTY-SHELL's
    missing = sorted(set(expected_cells(record)) - set(record.cells))
    if missing:
        rows = sorted({key.rsplit(".", 1)[0] for key in missing})
        yield Hit(tuple(missing),
                  f"缺少 {len(missing)} 个单元格（{len(rows)} 行，如 {rows[0]}）：表格未完整读出",
                  f"{len(missing)} cells of the {record.format} format missing ({len(rows)} rows, e.g. "
                  f"{rows[0]}): the tables were not read whole", {"rows": rows})


def expected_cells(record: ReportRecord) -> list[str]:
    """The keys of the record's format, with 表三 （六） in the form the record prints."""
    split = tuple(f"t3.{row}." for row in T3_OTHER_SPLIT_ROWS)
    uses_split = any(key.startswith(split) for key in record.cells)

    def printed_form(key: str) -> bool:
        if key.startswith(split):
            return uses_split
        return not (uses_split and key.startswith("t3.other."))

    return [key for key in cell_specs(record.format) if printed_form(key)]


# ---------------------------------------------------------------- SECTIONS
_SECTION_NAMES = {key: label for key, label, _ in SECTIONS}


def check_sections(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """The six sections of the 2019 and 2021 formats are all present (a heading was printed)."""
    if record.format not in FORMATS:
        return
    missing = [key for key in SECTION_KEYS if key not in record.sections]
    if missing:
        names = "、".join(_SECTION_NAMES[key] for key in missing)
        yield Hit((), f"缺少 {len(missing)} 个部分：{names}",
                  f"{len(missing)} of the six sections missing: {', '.join(missing)}", {"sections": missing})


# ---------------------------------------------------------------- EMPTY-SHELL
def check_empty_shell(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """The template published unfilled: no cell printed, or every printed cell empty."""
    cells = Cells(record)
    if not record.cells:
        if record.format in FORMATS:
            yield Hit((), "报告未印任何统计表数字（空白模板）",
                      "the report prints no table cell at all (an unfilled template)")
        return
    if not cells.any_number(record.cells):
        yield Hit((), f"报告所印 {len(record.cells)} 个单元格全部为空（空白模板）",
                  f"all {len(record.cells)} printed cells are empty (an unfilled template)")


# ---------------------------------------------------------------- RULES-LEVEL
def check_rules_level(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """规章 figures non-zero only for provincial and 设区的市 governments."""
    if record.agency_level is None and record.agency_kind is None:
        return
    if record.agency_kind != "department" and (record.agency_level is None
                                               or record.agency_level in RULE_MAKING_LEVELS):
        return
    cells = Cells(record)
    nonzero = tuple(key for key in sorted(record.cells)
                    if key.startswith("t2.rules.") and key not in PUBLICATION_COUNTS and cells.number(key))
    if nonzero:
        who = " ".join(filter(None, (record.agency_level, record.agency_kind)))
        yield Hit(nonzero,
                  f"表二 规章 有非零数字（{', '.join(nonzero)}），但只有省级和设区的市级人民政府可以制定规章（本机关：{who}）",
                  f"t2 rules has non-zero figures ({', '.join(nonzero)}) but only provincial and "
                  f"prefecture governments make 规章 (this agency: {who})")
