"""Coverage for operations: agencies expected / found / accepted / quarantined / missing,
per region and year (`nianbao status`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

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
