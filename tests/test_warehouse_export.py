"""Exports read back equal to the warehouse: CSV (UTF-8 with BOM), Parquet and XLSX, through
pandas and DuckDB."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from sqlalchemy import Engine

from tests.fixtures.warehouse import make_record, register_agency
from warehouse import dictionary
from warehouse.export import export, region_prefix
from warehouse.load import load_report
from warehouse.query import WarehouseError, run_query

AGENCIES = [("hongze", "淮安市洪泽区人民政府", "320813", "county"),
            ("huaian", "淮安市人民政府", "320800", "prefecture"),
            ("guangdong", "广东省人民政府", "440000", "province")]


@pytest.fixture
def loaded(warehouse_engine: Engine, warehouse_url: str) -> str:
    for n, (slug, name, region, level) in enumerate(AGENCIES):
        register_agency(warehouse_engine, slug=slug, name=name, region_code=region, level=level)
        for year in (2023, 2024):
            record = make_record(n * 10 + year, agency=name, year=year, errors=int(slug == "huaian"), level=level)
            if slug == "hongze":
                record.cells["t3.new.commercial"], record.raw["t3.new.commercial"] = None, "增98"
                record.cells["t2.fees.amount"], record.raw["t2.fees.amount"] = 25.1, "25.1"
            load_report(warehouse_engine, record, agency_id=slug, document_sha256=f"{n}{year}".ljust(64, "0"))
    return warehouse_url


def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return float(value)


def warehouse_wide(url: str, year: int) -> dict[int, dict[str, float | None]]:
    columns = [dictionary.column_name(key) for key in dictionary.ordered_keys()]
    result = run_query(f"SELECT report_id, {', '.join(columns)} FROM report_wide WHERE year = {year}", url)
    return {row[0]: {c: _number(v) for c, v in zip(columns, row[1:], strict=True)} for row in result.rows}


def warehouse_long(url: str, year: int) -> dict[tuple[int, str], tuple]:
    result = run_query("SELECT report_id, key, value, raw, null_reason FROM cells_labelled "
                       f"WHERE year = {year}", url)
    return {(row[0], row[1]): (_number(row[2]), row[3], row[4]) for row in result.rows}


def frame_wide(frame: pd.DataFrame) -> dict[int, dict[str, float | None]]:
    columns = [dictionary.column_name(key) for key in dictionary.ordered_keys()]
    return {int(row["report_id"]): {c: _number(row[c]) for c in columns} for _, row in frame.iterrows()}


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def frame_long(frame: pd.DataFrame) -> dict[tuple[int, str], tuple]:
    return {(int(row["report_id"]), row["key"]): (_number(row["value"]), _text(row["raw"]), _text(row["null_reason"]))
            for _, row in frame.iterrows()}


READERS = {
    "csv": lambda path: pd.read_csv(path, encoding="utf-8-sig", dtype={"raw": str, "region_code": str}),
    "parquet": pd.read_parquet,
    "xlsx": lambda path: pd.read_excel(path, dtype={"raw": str, "region_code": str}),
}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export_reads_back_equal_to_the_warehouse(loaded: str, tmp_path: Path, fmt: str) -> None:
    paths = export(loaded, year=2024, fmt=fmt, out_dir=tmp_path)
    assert [p.name for p in paths] == [f"nianbao_2024_{name}.{fmt}" for name in ("wide", "long", "dictionary")]
    wide, long, dictionary_frame = (READERS[fmt](path) for path in paths)

    assert frame_wide(wide) == warehouse_wide(loaded, 2024)
    assert len(wide) == 3 and set(wide["year"]) == {2024}
    assert set(wide["agency"]) == {name for _, name, _, _ in AGENCIES}
    assert sorted(wide["status"]) == ["accepted", "accepted", "quarantined"]
    assert frame_long(long) == warehouse_long(loaded, 2024)
    hongze = long[(long["agency_slug"] == "hongze") & (long["key"] == "t3.new.commercial")].iloc[0]
    assert (_number(hongze["value"]), hongze["raw"], hongze["null_reason"]) == (None, "增98", "text")
    assert hongze["label"] == "一、本年新收政府信息公开申请数量 × 商业企业"
    fees = wide[wide["agency_slug"] == "hongze"]["t2_fees_amount"].iloc[0]
    assert Decimal(str(fees)) == Decimal("25.1")   # exact: a Parquet decimal, or the digits CSV/XLSX print

    entries = dictionary_frame.set_index("column_name")
    assert entries.loc["t2_fees_amount", "unit"] == "万元"
    assert entries.loc["t3_new_total", "label_zh"] == "一、本年新收政府信息公开申请数量 × 总计"
    assert str(entries.loc["t2_rules_made", "formats"]) == "2019"
    assert set(dictionary_frame["column_name"]) >= set(wide.columns)


def test_csv_has_a_bom_and_integer_counts(loaded: str, tmp_path: Path) -> None:
    wide_path, long_path, _ = export(loaded, year=2023, fmt="csv", out_dir=tmp_path)
    raw = wide_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, first = raw.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("report_id,agency_id,agency_slug,agency,region_code")
    assert ".0," not in first  # counts print as integers
    assert "25.1" in wide_path.read_text(encoding="utf-8-sig")  # hongze's amount, not 25.100000001


def test_duckdb_reads_the_exports(loaded: str, tmp_path: Path) -> None:
    export(loaded, year=2024, fmt="parquet", out_dir=tmp_path / "pq")
    export(loaded, year=2024, fmt="csv", out_dir=tmp_path / "csv")
    expected = warehouse_wide(loaded, 2024)
    totals = {report_id: row["t3_new_total"] for report_id, row in expected.items()}
    for path in (tmp_path / "pq" / "nianbao_2024_wide.parquet", tmp_path / "csv" / "nianbao_2024_wide.csv"):
        rows = duckdb.sql(f"SELECT report_id, t3_new_total, agency FROM '{path}' ORDER BY report_id").fetchall()
        assert {r: float(t) for r, t, _ in rows} == totals
        assert {a for _, _, a in rows} == {name for _, name, _, _ in AGENCIES}
    long_count = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'pq' / 'nianbao_2024_long.parquet'}'").fetchall()[0]
    assert long_count == (len(warehouse_long(loaded, 2024)),)


def test_region_filter_takes_the_region_and_everything_below(loaded: str, tmp_path: Path) -> None:
    wide_path, *_ = export(loaded, year=2024, region="320800", fmt="parquet", out_dir=tmp_path)
    assert wide_path.name == "nianbao_2024_320800_wide.parquet"
    assert sorted(pd.read_parquet(wide_path)["agency_slug"]) == ["hongze", "huaian"]
    wide_path, *_ = export(loaded, year=2024, region="440000", fmt="parquet", out_dir=tmp_path, accepted_only=True)
    assert list(pd.read_parquet(wide_path)["agency_slug"]) == ["guangdong"]
    accepted_only_path, *_ = export(loaded, year=2024, region="320800", fmt="csv", out_dir=tmp_path,
                                  accepted_only=True)
    assert list(pd.read_csv(accepted_only_path, encoding="utf-8-sig")["agency_slug"]) == ["hongze"]


def test_an_empty_selection_still_writes_readable_files(loaded: str, tmp_path: Path) -> None:
    for fmt in ("csv", "parquet", "xlsx"):
        wide_path, long_path, _ = export(loaded, year=1999, fmt=fmt, out_dir=tmp_path)
        assert READERS[fmt](wide_path).empty and READERS[fmt](long_path).empty


def test_bad_arguments_are_refused() -> None:
    assert region_prefix("320000") == "32" and region_prefix("320800") == "3208"
    with pytest.raises(WarehouseError, match="6-digit"):
        region_prefix("32")
    with pytest.raises(WarehouseError, match="format"):
        export("sqlite:///nowhere.db", year=2024, fmt="json", out_dir=Path("unused"))
