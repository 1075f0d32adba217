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
from report.rules.base import Cells, Hit, Identity, fmt

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
                            (t3("result_total", column), t3("carried_forward", column)))
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
        uses_split = cells.any_number(split) or (cells.any_printed(split) and not cells.any_number((single,)))
        other_rows = split if uses_split else (single,)
        identity = Identity((t3("result_total", column),),
                            (*(t3(row, column) for row in T3_PLAIN_RESULT_ROWS), *other_rows))
        found = identity.broken(cells)
        if found:
            left, right = map(fmt, found)
            yield Hit(identity.keys,
                      f"表三 {name}列：（七）总计 印为 {left}，但各项办理结果之和为 {right}",
                      f"t3 column {column}: result_total printed {left} but the result rows sum to {right}")
        if uses_split and cells.number(single) is not None:
            yield from _other_subtotal(cells, column, single, split)


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
        identity = Identity((t3(row, "total"),), tuple(t3(row, column) for column in T3_APPLICANT_COLUMNS))
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
        identity = Identity((f"t4.{group}.total",), tuple(f"t4.{group}.{part}" for part in T4_PARTS))
        found = identity.broken(cells)
        if found:
            left, right = map(fmt, found)
            yield Hit(identity.keys,
                      f"表四 {_T4_GROUP_NAMES[group]} 总计 印为 {left}，但各项之和为 {right}",
                      f"t4 {group} total printed {left} but its parts sum to {right}")
