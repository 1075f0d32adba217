"""Where each cell was printed is stored beside its value (cell_sources, keyed like cells),
rewritten with it, and carried by the exports' long form."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from report.record import CellSource, ReportRecord
from tests.fixtures.warehouse import make_record, register_agency
from warehouse.export import SOURCE_COLUMNS, export
from warehouse.load import load_report

SHA = "ab" * 32


def sourced_record() -> ReportRecord:
    record = make_record(7, year=2024)
    record.cell_sources = {
        "t3.new.total": CellSource(page=2, bbox=(310.5, 402.25, 352.0, 418.75), unit="pt",
                                   text=record.raw.get("t3.new.total", "")),
        "t4.review.total": CellSource(page=3, bbox=(812, 1204, 901, 1250), unit="px",
                                      text=record.raw.get("t4.review.total", ""), confidence=0.8125, corrected=True),
        "t2.rules.issued": CellSource(page=None, bbox=(1, 2, 2, 3), unit="grid", table=1,
                                      text=record.raw.get("t2.rules.issued", "")),
    }
    return record


def stored(engine: Engine, report_id: int) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key, page, x0, y0, x1, y1, unit, grid_table, text, confidence, corrected "
                                 "FROM cell_sources WHERE report_id = :r"), {"r": report_id})
        return {row[0]: tuple(row[1:]) for row in rows}


def test_sources_are_stored_beside_the_values(warehouse_engine: Engine) -> None:
    register_agency(warehouse_engine)
    record = sourced_record()
    result = load_report(warehouse_engine, record, agency_id="hongze", document_sha256=SHA)
    rows = stored(warehouse_engine, result.report_id)
    assert rows["t3.new.total"] == (2, 310.5, 402.25, 352.0, 418.75, "pt", None, record.raw["t3.new.total"], None, False)
    assert rows["t4.review.total"][5:] == ("px", None, record.raw["t4.review.total"], 0.8125, True)
    assert rows["t2.rules.issued"][:7] == (None, 1.0, 2.0, 2.0, 3.0, "grid", 1)
    with warehouse_engine.connect() as conn:
        keys = set(conn.scalars(text("SELECT key FROM cells WHERE report_id = :r"), {"r": result.report_id}))
    assert set(rows) <= keys  # keyed like the cells they describe


def test_a_new_reading_of_the_same_version_rewrites_its_sources(warehouse_engine: Engine) -> None:
    register_agency(warehouse_engine)
    first = sourced_record()
    report_id = load_report(warehouse_engine, first, agency_id="hongze", document_sha256=SHA).report_id
    again = sourced_record()
    again.cell_sources["t3.new.total"] = again.cell_sources["t3.new.total"].model_copy(update={"page": 4})
    del again.cell_sources["t2.rules.issued"]
    result = load_report(warehouse_engine, again, agency_id="hongze", document_sha256=SHA)
    assert result.changed and result.report_id == report_id  # only the sources differ: still a change
    rows = stored(warehouse_engine, report_id)
    assert set(rows) == {"t3.new.total", "t4.review.total"} and rows["t3.new.total"][0] == 4


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_long_export_carries_the_sources(warehouse_engine: Engine, warehouse_url: str, tmp_path, fmt: str) -> None:
    register_agency(warehouse_engine)
    record = sourced_record()
    load_report(warehouse_engine, record, agency_id="hongze", document_sha256=SHA)
    [_, long_path, _] = export(warehouse_url, year=2024, fmt=fmt, out_dir=tmp_path)
    frame = pd.read_csv(long_path, encoding="utf-8-sig", dtype={"source_text": str, "raw": str}) \
        if fmt == "csv" else pd.read_parquet(long_path)
    assert set(SOURCE_COLUMNS) <= set(frame.columns)
    by_key = frame.set_index("key")
    total = by_key.loc["t3.new.total"]
    assert (total.source_page, total.source_unit, total.source_x0, total.source_y1) == (2, "pt", 310.5, 418.75)
    assert str(total.source_text) == record.raw["t3.new.total"] and float(total.value) == record.cells["t3.new.total"]
    review = by_key.loc["t4.review.total"]
    assert review.source_confidence == 0.8125 and str(review.source_corrected) == "True"
    assert by_key.loc["t2.rules.issued"].source_table == 1
    unsourced = by_key.drop(index=list(record.cell_sources))
    assert unsourced["source_unit"].isna().all() and len(unsourced) == len(frame) - 3
