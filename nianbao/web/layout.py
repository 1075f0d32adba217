"""The three tables of a report laid out as the official form prints them (report.catalogue).

A table is a title, header rows and body rows; a row is a list of slots, each either a
label (with col/row spans) or a cell key. Templates render any table the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from report.catalogue import CATALOGUE, T3_COLUMNS, T4_COLUMNS, T4_ROWS, SubTable
from warehouse.dictionary import TABLE_TITLES


@dataclass(frozen=True)
class Slot:
    label: str | None = None
    key: str | None = None
    colspan: int = 1
    rowspan: int = 1
    group: bool = False  # a group heading that holds no number


@dataclass
class FormTable:
    id: str
    title: str
    head: list[list[Slot]] = field(default_factory=list)
    body: list[list[Slot]] = field(default_factory=list)


def _t2(subtables: list[SubTable]) -> FormTable:
    table = FormTable("t2", TABLE_TITLES["t2"])
    width = max(len(st.columns) for st in subtables)
    for st in subtables:
        table.body.append([Slot(st.heading, colspan=width + 1, group=True)])
        table.body.append([Slot("信息内容"), *(Slot(c.label) for c in st.columns),
                           *([Slot(colspan=width - len(st.columns))] if width > len(st.columns) else [])])
        for row in st.rows:
            slots = [Slot(row.label)]
            for column in st.columns:
                hole = (row.key, column.key) in st.holes
                slots.append(Slot() if hole else Slot(key=f"t2.{row.key}.{column.key}"))
            if width > len(st.columns):
                slots.append(Slot(colspan=width - len(st.columns)))
            table.body.append(slots)
    return table


_T3_GROUPS = (("disclosed", "三、本年度办理结果"), ("withheld.", "（三）不予公开"), ("unavailable.", "（四）无法提供"),
              ("not_processed.", "（五）不予处理"), ("other.", "（六）其他处理"))


def _t3(subtable: SubTable) -> FormTable:
    table = FormTable("t3", TABLE_TITLES["t3"])
    organisations = [c for c in T3_COLUMNS if c.key not in ("natural_person", "total")]
    table.head = [
        [Slot("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3),
         Slot("申请人情况", colspan=len(T3_COLUMNS))],
        [Slot("自然人", rowspan=2), Slot("法人或其他组织", colspan=len(organisations)), Slot("总计", rowspan=2)],
        [Slot(c.label) for c in organisations],
    ]
    opened: set[str] = set()
    for row in subtable.rows:
        for prefix, heading in _T3_GROUPS:
            if row.key.startswith(prefix) and prefix not in opened:
                opened.add(prefix)
                table.body.append([Slot(heading, colspan=len(T3_COLUMNS) + 1, group=True)])
        table.body.append([Slot(row.label), *(Slot(key=f"t3.{row.key}.{c.key}") for c in T3_COLUMNS)])
    return table


def _t4() -> FormTable:
    table = FormTable("t4", TABLE_TITLES["t4"])
    review, *suits = T4_ROWS
    width = len(T4_COLUMNS)
    table.head = [
        [Slot(review.label, colspan=width, rowspan=2), Slot("行政诉讼", colspan=width * len(suits))],
        [Slot(row.label, colspan=width) for row in suits],
        [Slot(c.label) for _ in T4_ROWS for c in T4_COLUMNS],
    ]
    table.body = [[Slot(key=f"t4.{row.key}.{c.key}") for row in T4_ROWS for c in T4_COLUMNS]]
    return table


def form(format: str) -> list[FormTable]:
    """The printed tables of a format; empty for a format without a catalogue (2014, unknown)."""
    subtables = list(CATALOGUE.get(format, ()))
    if not subtables:
        return []
    t3 = next(st for st in subtables if st.table == "t3")
    return [_t2([st for st in subtables if st.table == "t2"]), _t3(t3), _t4()]


def keys(tables: list[FormTable]) -> set[str]:
    return {slot.key for table in tables for row in table.body for slot in row if slot.key}
