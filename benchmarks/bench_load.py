"""Warehouse loading speed: `bulk_load` of generated reports against a plain COPY of the same rows.

On a fresh PostgreSQL database that this benchmark creates and drops, N reports
(~200 cells each) are loaded with `warehouse.load.bulk_load`; in the same run the
same cell rows are COPYed into a bare table (no keys, no indexes) as the baseline.
Reloading the same records (the idempotent no-op) and a SQLite load are measured too.
Environment: NIANBAO_BENCH_LOAD_REPORTS (default 2000), NIANBAO_TEST_PG_ADMIN (admin URL).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Table, insert, text

from sandbox.figures import generate
from warehouse.db import make_engine, scratch_database, upgrade
from warehouse.load import CELL_COLUMNS, LoadItem, bulk_load, cell_rows, copy_rows
from warehouse.models import Agency, Region

_REGIONS: Table = Region.__table__  # type: ignore[assignment]
_AGENCIES: Table = Agency.__table__  # type: ignore[assignment]

ADMIN_URL = os.environ.get("NIANBAO_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REPORTS = int(os.environ.get("NIANBAO_BENCH_LOAD_REPORTS", "2000"))
SQLITE_REPORTS = max(1, REPORTS // 4)
TARGET_CELLS_PER_S = 100_000


def _items(count: int) -> list[LoadItem]:
    return [LoadItem(generate(n, agency=f"机关{n}", year=2024).record, n + 1, f"{n:064x}",
                     f"https://bench.example/{n}.pdf") for n in range(count)]


def _register_agencies(engine, count: int) -> None:
    with engine.begin() as conn:
        conn.execute(insert(_REGIONS), [{"code": "320000", "level": "province", "parent_code": None}])
        conn.execute(insert(_AGENCIES), [
            {"id": n + 1, "slug": f"bench-{n}", "name": f"机关{n}", "region_code": "320000",
             "level": "department", "kind": "department", "expected": True} for n in range(count)])


def _timed_load(engine, items: list[LoadItem]) -> tuple[float, int]:
    started = time.perf_counter()
    result = bulk_load(engine, items)
    return time.perf_counter() - started, result.cells


def _plain_copy(engine, items: list[LoadItem]) -> float:
    rows = [row for n, item in enumerate(items) for row in cell_rows(n + 1, item.record)]
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_plain_cells (report_id integer, key text, value numeric, "
                          "raw text, null_reason text)"))
    with engine.begin() as conn:
        started = time.perf_counter()
        copy_rows(conn, "bench_plain_cells", CELL_COLUMNS, rows)
    return time.perf_counter() - started


def _postgres(items: list[LoadItem]) -> list[dict]:
    with scratch_database(ADMIN_URL, f"nianbao_bench_{uuid.uuid4().hex[:12]}") as url:
        upgrade(url)
        engine = make_engine(url)
        _register_agencies(engine, len(items))
        seconds, cells = _timed_load(engine, items)
        plain_seconds = _plain_copy(engine, items)
        started = time.perf_counter()
        bulk_load(engine, items)
        reload_seconds = time.perf_counter() - started
        engine.dispose()
    load_rate, plain_rate = cells / seconds, cells / plain_seconds
    return [
        {"name": "postgres bulk_load", "value": round(load_rate), "unit": "cells/s",
         "target": f">= {TARGET_CELLS_PER_S}", "note": f"{len(items)} reports, {cells} cells in {seconds:.2f}s"},
        {"name": "postgres plain COPY (baseline)", "value": round(plain_rate), "unit": "cells/s",
         "note": "same rows into a bare table, no keys"},
        {"name": "bulk_load / plain COPY", "value": round(load_rate / plain_rate, 3), "unit": "ratio"},
        {"name": "postgres reload unchanged", "value": round(len(items) / reload_seconds), "unit": "reports/s",
         "note": "idempotent no-op"},
    ]


def _sqlite(items: list[LoadItem]) -> list[dict]:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        _register_agencies(engine, len(items))
        seconds, cells = _timed_load(engine, items)
        engine.dispose()
    return [{"name": "sqlite bulk_load", "value": round(cells / seconds), "unit": "cells/s",
             "note": f"{len(items)} reports, {cells} cells in {seconds:.2f}s"}]


def run() -> list[dict]:
    items = _items(REPORTS)
    return _postgres(items) + _sqlite(items[:SQLITE_REPORTS])


if __name__ == "__main__":
    for figure in run():
        print(figure)
