"""The hard identities of 表三 and 表四 (shared/spec/FORMAT.md), checked per column,
row or group so that a broken one names the cells where it breaks."""

from __future__ import annotations

from collections.abc import Iterator

from report.catalogue import (
    T3_2021,
    T3_APPLICANT_COLUMNS,
    T3_COLUMNS,
    T3_OTHER_SPLIT_ROWS,
    T3_RESULT_ROWS,
    T4_COLUMNS,
    T4_ROWS,
)
from report.labels import normalise_label
from report.record import ReportRecord
from report.rules.base import Cells, Hit, Identity, Number, fmt

T3_COLUMN_KEYS: tuple[str, ...] = tuple(column.key for column in T3_COLUMNS)
T3_ROW_KEYS: tuple[str, ...] = tuple(row.key for row in T3_2021.rows)
T3_PLAIN_RESULT_ROWS: tuple[str, ...] = tuple(
    row for row in T3_RESULT_ROWS if row != "other" and row not in T3_OTHER_SPLIT_ROWS
)
T4_PARTS: tuple[str, ...] = tuple(column.key for column in T4_COLUMNS if column.key != "total")

_T3_COLUMN_NAMES = {column.key: column.label for column in T3_COLUMNS}
_T3_ROW_NAMES = {row.key: normalise_label(row.label) for row in T3_2021.rows}
_T4_GROUP_NAMES = {
    "review": "行政复议",
    "suit_direct": "行政诉讼（未经复议直接起诉）",
    "suit_after_review": "行政诉讼（复议后起诉）",
}


def t3(row: str, column: str) -> str:
    return f"t3.{row}.{column}"


def check_t3_balance(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """T3-BAL: new + carried_over = result_total + carried_forward, per column."""
    cells = Cells(record)
    for column in T3_COLUMN_KEYS:
        identity = Identity((t3("new", column), t3("carried_over", column)),
                            (t3("result_total", column), t3("carried_forward", column)), total=False)
        found = identity.broken(cells)
        if found:
            left, right = map(fmt, found)
            name = _T3_COLUMN_NAMES[column]
            yield Hit(identity.keys,
                      f"表三 {name}列：第一项加第二项之和为 {left}，但第三项加第四项之和为 {right}",
                      f"t3 column {column}: new + carried_over = {left} but result_total + carried_forward = {right}")


def check_t3_results(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """T3-RES: result_total = every result row, per column, with （六） in the form printed."""
    cells = Cells(record)
    for column in T3_COLUMN_KEYS:
        name = _T3_COLUMN_NAMES[column]
        single = t3("other", column)
        split = tuple(t3(row, column) for row in T3_OTHER_SPLIT_ROWS)
        identity, uses_split = _t3_result_identity(cells, column)
        found = identity.broken(cells)
        if found:
            left, right = map(fmt, found)
            yield Hit(identity.keys,
                      f"表三 {name}列：（七）总计 印为 {left}，但各项办理结果之和为 {right}",
                      f"t3 column {column}: result_total printed {left} but the result rows sum to {right}")
        if uses_split and cells.number(single) is not None:
            yield from _other_subtotal(cells, column, single, split)


def _t3_result_identity(cells: Cells, column: str) -> tuple[Identity, bool]:
    """result_total = the result rows, with （六） in the form printed; and whether that is the split form."""
    single = t3("other", column)
    split = tuple(t3(row, column) for row in T3_OTHER_SPLIT_ROWS)
    uses_split = cells.any_number(split) or (cells.any_printed(split) and not cells.any_number((single,)))
    other_rows = split if uses_split else (single,)
    return Identity((t3("result_total", column),),
                    (*(t3(row, column) for row in T3_PLAIN_RESULT_ROWS), *other_rows)), uses_split


def _other_subtotal(cells: Cells, column: str, single: str, split: tuple[str, ...]) -> Iterator[Hit]:
    """Both forms of （六） printed: the single row is the subtotal of the three below it."""
    found = Identity((single,), split).broken(cells)
    if found:
        left, right = map(fmt, found)
        yield Hit((single, *split),
                  f"表三 {_T3_COLUMN_NAMES[column]}列：（六）其他处理 印为 {left}，但其下三项之和为 {right}",
                  f"t3 column {column}: other printed {left} but its three sub-rows sum to {right}")


def check_t3_rows(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """T3-ROW: total = the six applicant columns, per row."""
    cells = Cells(record)
    for row in T3_ROW_KEYS:
        identity = _t3_row_identity(row)
        found = identity.broken(cells)
        if found:
            left, right = map(fmt, found)
            yield Hit(identity.keys,
                      f"表三 {_T3_ROW_NAMES[row]}：总计 印为 {left}，但六类申请人之和为 {right}",
                      f"t3 row {row}: total printed {left} but the six applicant columns sum to {right}")


def check_t4_sums(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """T4-SUM: total = upheld + corrected + other + pending, per group."""
    cells = Cells(record)
    for group in (row.key for row in T4_ROWS):
        identity = _t4_identity(group)
        found = identity.broken(cells)
        if found:
            left, right = map(fmt, found)
            yield Hit(identity.keys,
                      f"表四 {_T4_GROUP_NAMES[group]} 总计 印为 {left}，但各项之和为 {right}",
                      f"t4 {group} total printed {left} but its parts sum to {right}")


def _t3_row_identity(row: str) -> Identity:
    return Identity((t3(row, "total"),), tuple(t3(row, column) for column in T3_APPLICANT_COLUMNS))


def _t4_identity(group: str) -> Identity:
    return Identity((f"t4.{group}.total",), tuple(f"t4.{group}.{part}" for part in T4_PARTS))


def total_identities(cells: Cells) -> Iterator[tuple[Identity, str, str]]:
    """Every identity whose left side is a printed total, with where it is (Chinese, English)."""
    for column in T3_COLUMN_KEYS:
        yield _t3_result_identity(cells, column)[0], f"表三 {_T3_COLUMN_NAMES[column]}列（七）总计", f"t3 column {column} result_total"
    for row in T3_ROW_KEYS:
        yield _t3_row_identity(row), f"表三 {_T3_ROW_NAMES[row]} 总计", f"t3 row {row} total"
    for group in (row.key for row in T4_ROWS):
        yield _t4_identity(group), f"表四 {_T4_GROUP_NAMES[group]} 总计", f"t4 {group} total"


def derived_totals(record: ReportRecord) -> dict[str, Number]:
    """Totals printed blank beside parts that hold numbers, each derived from its parts."""
    cells = Cells(record)
    derived: dict[str, Number] = {}
    for identity, _, _ in total_identities(cells):
        value = identity.blank_total(cells)
        if value is not None:
            derived[identity.left[0]] = value
    return derived


def check_blank_totals(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """BLANK-TOTAL: a total printed blank while its parts hold numbers is not a 0 the report
    printed (a real 2019 report leaves its whole 总计 column blank): one warning per table that
    gives each such total as derived from its parts, never an identity error."""
    cells = Cells(record)
    blank: dict[str, list[tuple[Identity, str, str, Number]]] = {}
    for identity, where, where_en in total_identities(cells):
        value = identity.blank_total(cells)
        if value is not None:
            blank.setdefault(identity.left[0].split(".")[0], []).append((identity, where, where_en, value))
    for found in blank.values():
        keys = tuple(dict.fromkeys(key for identity, *_ in found for key in identity.keys))
        shown = "；".join(f"{where} {fmt(value)}" for _, where, _, value in found[:3])
        shown_en = "; ".join(f"{where_en} {fmt(value)}" for _, _, where_en, value in found[:3])
        more = f" 等 {len(found)} 处" if len(found) > 3 else ""
        more_en = f" and {len(found) - 3} more" if len(found) > 3 else ""
        yield Hit(keys,
                  f"总计未填写（留空），由各项之和推出：{shown}{more}",
                  f"totals printed blank, derived from their parts: {shown_en}{more_en}",
                  {"derived": {identity.left[0]: value for identity, _, _, value in found}})


def hard_identities(cells: Cells) -> Iterator[Identity]:
    """Every identity T3-BAL, T3-RES, T3-ROW and T4-SUM check, for a reader that wants to
    know which of a record's figures agree (extract.ocr_repair)."""
    for column in T3_COLUMN_KEYS:
        yield Identity((t3("new", column), t3("carried_over", column)),
                       (t3("result_total", column), t3("carried_forward", column)), total=False)
    for identity, _, _ in total_identities(cells):
        yield identity
