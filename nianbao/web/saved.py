"""Saved queries of the SQL page, and SQL results as downloadable files (CSV, XLSX, Parquet)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from warehouse.export import WRITERS, Column, Table
from warehouse.query import QueryResult


@dataclass(frozen=True)
class SavedQuery:
    id: str
    title_zh: str
    title_en: str
    sql: str


SAVED_QUERIES: tuple[SavedQuery, ...] = (
    SavedQuery("applications_by_province", "各省份各年度收到的政府信息公开申请", "Applications by province and year",
               "SELECT province_code, province_name, year, COUNT(*) AS reports, SUM(t3_new_total) AS applications\n"
               "FROM report_facts GROUP BY province_code, province_name, year ORDER BY year DESC, applications DESC"),
    SavedQuery("review_corrected_share", "行政复议结果纠正的比例", "Share of 行政复议 corrected",
               "SELECT year, SUM(t4_review_corrected) AS corrected, SUM(t4_review_total) AS reviews,\n"
               "  ROUND(100.0 * SUM(t4_review_corrected) / NULLIF(SUM(t4_review_total) - SUM(t4_review_pending), 0), 1)"
               " AS corrected_pct\nFROM report_facts GROUP BY year ORDER BY year"),
    SavedQuery("never_publish", "从未发布年报的机关", "Agencies that never publish",
               "SELECT a.slug, a.name, a.region_code, a.kind, a.tier FROM agencies a\n"
               "WHERE a.expected AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.agency_id = a.id)\n"
               "ORDER BY a.region_code, a.name"),
    SavedQuery("late_publishers", "逾期发布年报的机关", "Late publishers",
               "SELECT agency, region_name, year, published, deadline FROM report_facts\n"
               "WHERE timeliness = 'late' ORDER BY year DESC, published DESC"),
)
DOWNLOAD_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def saved(query_id: str) -> SavedQuery | None:
    return next((query for query in SAVED_QUERIES if query.id == query_id), None)


def _column_type(values: list[Any]) -> str:
    present = [value for value in values if value is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if present and all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in present):
        return "float"
    return "str"


def as_file(result: QueryResult, fmt: str) -> bytes:
    """The rows of a query result in `fmt` (csv, xlsx or parquet)."""
    columns = [Column(name, _column_type([row[i] for row in result.rows])) for i, name in enumerate(result.columns)]
    rows = [tuple(_typed(value, column.type) for value, column in zip(row, columns, strict=True))
            for row in result.rows]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"result.{fmt}"
        WRITERS[fmt](Table("result", columns, rows), path)
        return path.read_bytes()


def _typed(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return str(value)
