"""Property tests: consistent tables pass every hard rule, and any one perturbed count
cell is caught by a hard rule that names it."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from report.catalogue import (
    T3_APPLICANT_COLUMNS,
    T3_OTHER_SPLIT_ROWS,
    T3_RESULT_ROWS,
    T4_COLUMNS,
    T4_ROWS,
)
from report.record import ReportRecord
from report.validate import validate
from sandbox.figures import generate

T4_PARTS = [c.key for c in T4_COLUMNS if c.key != "total"]
PLAIN_RESULTS = [r for r in T3_RESULT_ROWS if r != "other" and r not in T3_OTHER_SPLIT_ROWS]
small = st.integers(min_value=0, max_value=40)


@st.composite
def consistent_records(draw: st.DrawFn) -> ReportRecord:
    """表三 and 表四 built so that every identity holds by construction, 表二 random counts."""
    other_rows = draw(st.sampled_from([list(T3_OTHER_SPLIT_ROWS), ["other"]]))
    results = PLAIN_RESULTS + other_rows
    rows = ["new", "carried_over", *results, "result_total", "carried_forward"]
    grid: dict[str, dict[str, int]] = {row: {} for row in rows}
    for column in T3_APPLICANT_COLUMNS:
        counts = draw(st.lists(small, min_size=len(results), max_size=len(results)))
        handled = sum(counts)
        carried_forward = draw(small)
        carried_over = draw(st.integers(min_value=0, max_value=handled + carried_forward))
        for row, count in zip(results, counts, strict=True):
            grid[row][column] = count
        grid["result_total"][column] = handled
        grid["carried_forward"][column] = carried_forward
        grid["carried_over"][column] = carried_over
        grid["new"][column] = handled + carried_forward - carried_over
    cells: dict[str, int | Decimal | None] = {}
    for row in rows:
        for column in T3_APPLICANT_COLUMNS:
            cells[f"t3.{row}.{column}"] = grid[row][column]
        cells[f"t3.{row}.total"] = sum(grid[row].values())
    for group in T4_ROWS:
        parts = draw(st.lists(small, min_size=4, max_size=4))
        for column, value in zip(T4_PARTS, parts, strict=True):
            cells[f"t4.{group.key}.{column}"] = value
        cells[f"t4.{group.key}.total"] = sum(parts)
    for key in ("t2.normative_docs.issued", "t2.licensing.decisions", "t2.penalty.decisions"):
        cells[key] = draw(st.integers(min_value=0, max_value=100_000))
    cells["t2.fees.amount"] = draw(st.decimals(min_value=0, max_value=10**6, places=4))
    return ReportRecord(agency="某县人民政府", year=2023, format="2021", cells=cells,
                        raw={k: str(v) for k, v in cells.items()})


def errors(record: ReportRecord) -> list:
    return [f for f in validate(record) if f.is_error]


@given(consistent_records())
@settings(max_examples=150, deadline=None)
def test_consistent_tables_have_no_error(record: ReportRecord) -> None:
    assert errors(record) == []


@given(seed=st.integers(min_value=0, max_value=2**32), other_rows=st.sampled_from(["split", "single"]),
       format_year=st.sampled_from([("2021", 2023), ("2019", 2020)]),
       busy=st.floats(min_value=0.0, max_value=5.0))
@settings(max_examples=60, deadline=None)
def test_sandbox_figures_have_no_error(seed: int, other_rows: str, format_year: tuple[str, int], busy: float) -> None:
    format, year = format_year
    figures = generate(seed, agency="某市人民政府", year=year, format=format, other_rows=other_rows, busy=busy,
                       level="prefecture")
    assert errors(figures.record) == []
    assert [f.rule for f in validate(figures.record)] == figures.expected_rules


@given(consistent_records(), st.data())
@settings(max_examples=200, deadline=None)
def test_a_perturbed_t3_or_t4_cell_is_located_by_a_hard_rule(record: ReportRecord, data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(k for k in record.cells if k.startswith(("t3.", "t4.")))))
    delta = data.draw(st.integers(min_value=-5, max_value=5).filter(bool))
    record.cells[key] = int(record.cells[key] or 0) + delta
    record.raw[key] = str(record.cells[key])
    assert any(key in f.cells for f in errors(record)), (key, delta)


@given(consistent_records(), st.data())
@settings(max_examples=100, deadline=None)
def test_any_count_cell_made_negative_or_text_is_a_dom_error(record: ReportRecord, data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(record.cells)))
    if data.draw(st.booleans()):
        record.cells[key] = -data.draw(st.integers(min_value=1, max_value=99))
        record.raw[key] = str(record.cells[key])
    else:
        record.cells[key] = None
        record.raw[key] = data.draw(st.sampled_from(["增98", "0/0", "约5", "n/a"]))
    assert [f.cells for f in errors(record) if f.rule == "DOM"] == [[key]]
