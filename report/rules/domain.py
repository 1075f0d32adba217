"""DOM: every printed cell holds what its kind allows (counts non-negative integers,
amounts non-negative, 2019 增/减 columns signed, all within report.values' limits) or is
printed empty. A printed figure past the limits that extraction already reported
(`absurd-value`) is not reported twice."""

from __future__ import annotations

from collections.abc import Iterator

from report.catalogue import CellSpec, all_cell_specs, cell_specs
from report.labels import normalise_label
from report.record import ReportRecord
from report.rules.base import Cells, Hit, Number, fmt
from report.values import parse_cell, within_limits

_ABSURD_FINDING = "absurd-value"   # extract.findings.Findings.ABSURD_VALUE (report may not import extract)

_KIND_NAMES = {"count": "非负整数", "decimal": "非负数", "amount": "非负金额", "signed": "整数"}


def check_domain(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    cells = Cells(record)
    specs = cell_specs(record.format) or all_cell_specs()
    fallback = all_cell_specs()
    for key in sorted(set(record.cells) | set(record.raw)):
        spec = specs.get(key) or fallback.get(key)
        if spec is None:
            continue
        value = cells.number(key)
        if value is None:
            yield from _unparsed(record, key, spec)
        elif not within_limits(value, spec.kind):
            yield Hit((key,), f"{_where(spec)}（{key}）为 {fmt(value)}，数值超出任何报告的范围",
                      f"{key} is {fmt(value)}, a figure beyond any report's")
        elif not _allowed(value, spec):
            kind = spec.kind
            yield Hit((key,),
                      f"{_where(spec)}（{key}）为 {fmt(value)}，应为{_KIND_NAMES[kind]}",
                      f"{key} is {fmt(value)}, which is not a {_kind_en(kind)}")


def _unparsed(record: ReportRecord, key: str, spec: CellSpec) -> Iterator[Hit]:
    """A cell without a number is fine when printed empty, an error when it prints text."""
    raw = record.raw.get(key)
    if raw is None:
        return
    parsed = parse_cell(raw, spec.kind)
    if parsed.problem == "absurd":
        if not any(f.rule == _ABSURD_FINDING and key in f.cells for f in record.findings):
            yield Hit((key,), f"{_where(spec)}（{key}）印为“{raw}”，数值超出任何报告的范围",
                      f"{key} prints {raw!r}, a figure beyond any report's")
    elif parsed.value is None and parsed.problem:
        yield Hit((key,),
                  f"{_where(spec)}（{key}）印为“{raw}”，不是数字",
                  f"{key} prints {raw!r}, which is not a number")


def _allowed(value: Number, spec: CellSpec) -> bool:
    if spec.kind in ("count", "signed") and value != int(value):
        return False
    return spec.kind == "signed" or value >= 0


def _where(spec: CellSpec) -> str:
    row, column = normalise_label(spec.row.label), normalise_label(spec.column.label)
    return f"{_table_name(spec.subtable.table)} {row} × {column}"


def _table_name(table: str) -> str:
    return {"t2": "表二", "t3": "表三", "t4": "表四"}.get(table, table)


def _kind_en(kind: str) -> str:
    return {"count": "non-negative integer", "decimal": "non-negative decimal",
            "amount": "non-negative amount", "signed": "whole number"}[kind]
