"""Figures are exact end to end: a printed count or amount reads as itself (never through a
float), and comes back equal — value and type — from the record's JSON, the warehouse
(SQLite and PostgreSQL) and every export; a figure past report.values' limits is an
`absurd-value` finding, not a value."""

from __future__ import annotations

import csv
import hashlib
import itertools
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from extract.api import Hints, extract_bytes
from report.record import ReportRecord
from report.validate import validate
from report.values import DECIMAL_DIGITS, DECIMAL_PLACES, MAX_COUNT, parse_cell
from tests.fixtures.warehouse import make_record, register_agency
from warehouse import dictionary
from warehouse.db import session_scope
from warehouse.export import export
from warehouse.facts import previous_record
from warehouse.load import load_report

COUNT, AMOUNT = "t3.new.natural_person", "t2.fees.amount"
counts = st.integers(min_value=0, max_value=MAX_COUNT)
amounts = st.decimals(min_value=0, max_value=Decimal(10) ** (DECIMAL_DIGITS - DECIMAL_PLACES) - 1,
                      places=DECIMAL_PLACES, allow_nan=False, allow_infinity=False)
EXAMPLES = itertools.count()


def record_with(count: int, amount: Decimal, seed: int = 1) -> ReportRecord:
    record = make_record(seed, year=2024)
    record.cells[COUNT], record.raw[COUNT] = count, str(count)
    record.cells[AMOUNT], record.raw[AMOUNT] = amount, format(amount, "f")
    return record


def same(got: object, wanted: int | Decimal) -> bool:
    """Equal in value and an exact type (an int stays an int; nothing is a float)."""
    return not isinstance(got, float) and isinstance(got, int | Decimal) and got == wanted


# ------------------------------------------------------------------ parsing and the record's JSON
@given(counts)
@example(2**53 + 1)
def test_a_printed_count_reads_as_itself(value: int) -> None:
    for printed in (str(value), f"{value:,}", f" {value} "):
        parsed = parse_cell(printed, "count")
        assert type(parsed.value) is int and parsed.value == value and parsed.problem is None


@given(amounts)
@example(Decimal("999999999999999999.999999"))
def test_a_printed_amount_reads_as_itself(value: Decimal) -> None:
    parsed = parse_cell(format(value, "f"), "amount")
    assert same(parsed.value, value) and parsed.problem is None


@given(st.integers(min_value=MAX_COUNT + 1, max_value=10**40))
@example(10**30)
def test_a_count_past_the_limits_is_absurd_not_a_value(value: int) -> None:
    assert parse_cell(str(value), "count").value is None
    assert parse_cell(str(value), "count").problem == "absurd"


@settings(max_examples=60)
@given(counts, amounts)
@example(2**53 + 1, Decimal("0.000001"))
def test_values_round_trip_exactly_through_the_record_json(count: int, amount: Decimal) -> None:
    record = record_with(count, amount)
    again = ReportRecord.from_json(record.to_json())
    assert same(again.cells[COUNT], count) and type(again.cells[COUNT]) is int
    assert same(again.cells[AMOUNT], amount)
    assert again.cells == record.cells


def test_an_absurd_figure_in_a_document_is_a_finding_and_quarantines_it() -> None:
    from nianbao.stages.process import outcome_of

    page = ("<html><head><meta charset='utf-8'></head><body><h1>某县2024年政府信息公开工作年度报告</h1>"
            "<p>三、收到和处理政府信息公开申请情况</p><table><tr><td></td><td>自然人</td><td>商业企业</td>"
            f"</tr><tr><td>一、本年新收政府信息公开申请数量</td><td>{'1' + '0' * 30}</td><td>9007199254740993</td>"
            "</tr></table></body></html>")
    record = extract_bytes(page.encode(), hints=Hints(year=2024), ocr=False)
    absurd = [f for f in record.findings if f.rule == "absurd-value"]
    assert [f.cells for f in absurd] == [["t3.new.natural_person"]], record.findings
    assert record.cells["t3.new.natural_person"] is None and record.raw["t3.new.natural_person"] == "1" + "0" * 30
    assert same(record.cells["t3.new.commercial"], 9007199254740993)
    record.findings += validate(record)
    assert not [f for f in record.findings if f.rule == "DOM" and "t3.new.natural_person" in f.cells]  # one finding
    assert outcome_of(record) == "quarantined"


# ------------------------------------------------------------------ the warehouse and the exports
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(counts, amounts), min_size=1, max_size=3))
@example([(2**53 + 1, Decimal("999999999999999999.999999")), (2**63 - 1, Decimal("0.000001"))])
def test_values_round_trip_exactly_through_the_warehouse_and_every_export(
        warehouse_engine: Engine, warehouse_url: str, tmp_path_factory: pytest.TempPathFactory,
        figures: list[tuple[int, Decimal]]) -> None:
    example_id = next(EXAMPLES)   # the warehouse outlives each example: every one loads its own agencies
    agencies = [f"exact-{example_id}-{n}" for n in range(len(figures))]
    for n, ((count, amount), slug) in enumerate(zip(figures, agencies, strict=True)):
        register_agency(warehouse_engine, slug=slug, name=slug, region_code="320813",
                        level="county", kind="department")
        load_report(warehouse_engine, record_with(count, amount, seed=n), agency_id=slug,
                    document_sha256=hashlib.sha256(slug.encode()).hexdigest())
    with session_scope(warehouse_engine) as session:
        for slug, (count, amount) in zip(agencies, figures, strict=True):
            stored = previous_record(session, slug, 2024)
            assert stored is not None
            assert same(stored.cells[COUNT], count) and same(stored.cells[AMOUNT], amount)
    wanted = dict(zip(agencies, figures, strict=True))
    out = tmp_path_factory.mktemp("export")
    for fmt in ("csv", "parquet", "xlsx"):
        wide, long = export(warehouse_url, year=2024, fmt=fmt, out_dir=out / fmt)[:2]
        found = exported(fmt, wide, long)
        assert {slug: found.get(slug) for slug in agencies} == wanted, fmt


def exported(fmt: str, wide: Path, long: Path) -> dict[str, tuple[int, Decimal]]:
    """(count, amount) of each agency as the wide file holds them, checked against the long file."""
    count_column, amount_column = dictionary.column_name(COUNT), dictionary.column_name(AMOUNT)
    wide_rows, long_rows = read_table(fmt, wide), read_table(fmt, long)
    by_report = {(row["report_id"], row["key"]): row["value"] for row in long_rows}
    found = {}
    for row in wide_rows:
        count, amount = exact(row[count_column]), exact(row[amount_column])
        assert exact(by_report[(row["report_id"], COUNT)]) == count
        assert exact(by_report[(row["report_id"], AMOUNT)]) == amount
        found[row["agency"]] = (count, amount)
    return found


def read_table(fmt: str, path: Path) -> list[dict[str, object]]:
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
    sheet = openpyxl.load_workbook(path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def exact(value: object) -> int | Decimal:
    """A file's figure as an exact number: text and Decimals as they are; an Excel double only
    ever holds a figure of 15 significant digits or fewer, which its shortest repr gives back."""
    if isinstance(value, float):
        assert len(Decimal(repr(value)).normalize().as_tuple().digits) <= 15
        value = Decimal(repr(value))
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else number.normalize()
