"""Coverage for operations: agencies expected / found / accepted / quarantined / missing,
per region and year (`nianbao status`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from report.agencies import deadline, today_in_china
from warehouse.export import region_prefix
from warehouse.query import WarehouseError, read_only_connection

GROUPINGS = {"province": "province_code", "prefecture": "prefecture_code", "region": "region_code"}
COUNTS = ("expected", "found", "accepted", "quarantined", "missing")


@dataclass(frozen=True)
class CoverageRow:
    region_code: str | None
    region_name: str | None
    year: int
    expected: int
    found: int
    accepted: int
    quarantined: int
    missing: int


def coverage(url: str | None = None, *, year: int | None = None, region: str | None = None,
             by: str = "region") -> list[CoverageRow]:
    """Coverage rows from the `coverage` view, summed up to province, prefecture or region."""
    if by not in GROUPINGS:
        raise WarehouseError(f"--by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    code = GROUPINGS[by]
    clauses: list[str] = ["1 = 1"]
    params: dict[str, Any] = {}
    if year is not None:
        clauses.append("c.year = :year")
        params["year"] = year
    if region:
        clauses.append("c.region_code LIKE :prefix")
        params["prefix"] = region_prefix(region) + "%"
    sums = ", ".join(f"SUM(c.{name}) AS {name}" for name in COUNTS)
    sql = (f"SELECT c.{code} AS code, g.name AS name, c.year, {sums} FROM coverage c "
           f"LEFT JOIN regions g ON g.code = c.{code} WHERE {' AND '.join(clauses)} "
           f"GROUP BY c.{code}, g.name, c.year ORDER BY c.year, c.{code}")
    with read_only_connection(url) as conn:
        rows = conn.execute(text(sql), params).all()
    return [CoverageRow(row[0], row[1], int(row[2]), *(int(value or 0) for value in row[3:])) for row in rows]


def totals(rows: list[CoverageRow]) -> dict[str, int]:
    return {name: sum(getattr(row, name) for row in rows) for name in COUNTS}


@dataclass(frozen=True)
class MissingReport:
    slug: str
    name: str
    region_code: str | None
    kind: str
    year: int
    deadline: dt.date

    @property
    def overdue(self) -> bool:
        return today_in_china() > self.deadline


_MISSING = """WITH seen_years AS (
  SELECT year FROM reports UNION SELECT year FROM documents WHERE year IS NOT NULL
)
SELECT a.slug, a.name, a.region_code, a.kind, a.level, y.year
FROM agencies a CROSS JOIN seen_years y
WHERE a.expected
  AND (a.first_year IS NULL OR y.year >= a.first_year)
  AND (a.last_year IS NULL OR y.year <= a.last_year)
  AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.agency_id = a.id AND r.year = y.year AND r.is_current)"""


def missing_reports(url: str | None = None, *, year: int | None = None,
                    region: str | None = None) -> list[MissingReport]:
    """The expected agencies without a current report, per year, with their deadline."""
    sql = _MISSING
    params: dict[str, Any] = {}
    if year is not None:
        sql += " AND y.year = :year"
        params["year"] = year
    if region:
        sql += " AND a.region_code LIKE :prefix"
        params["prefix"] = region_prefix(region) + "%"
    sql += " ORDER BY y.year, a.region_code, a.slug"
    with read_only_connection(url) as conn:
        rows = conn.execute(text(sql), params).all()
    return [MissingReport(slug, name, region_code, kind, int(y), deadline(int(y), kind, level))
            for slug, name, region_code, kind, level, y in rows]
