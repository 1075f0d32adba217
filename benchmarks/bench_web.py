"""The web application on a national-size warehouse: p95 of every page and API call, SQLite and PostgreSQL.

A synthetic warehouse of N reports (default 100,000 ≈ 20 M cells; N/8 agencies over 8 years,
spread over every county code of the shipped region list) is written straight into the
tables (not through the loader: that is bench_load's business), with one source per prefecture,
its crawl runs and open alerts (`add_operations`), once, and kept as a cache:
var/bench/web-cache/warehouse-N.db and the PostgreSQL database bench_web_N. A later run
reuses a cache that is complete (brought to the latest migration). Each page and API call is
then requested (in-process, through the ASGI app) REPEATS times after a warm-up; the figure is
its p95 in ms.
Environment: NIANBAO_BENCH_WEB_REPORTS, NIANBAO_BENCH_WEB_BACKENDS (sqlite,postgres),
NIANBAO_TEST_PG_ADMIN (admin URL).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from warehouse import regions, search
from warehouse.db import make_engine, upgrade
from warehouse.dictionary import column_name, entries

ADMIN_URL = os.environ.get("NIANBAO_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REPORTS = int(os.environ.get("NIANBAO_BENCH_WEB_REPORTS", "100000"))
BACKENDS = os.environ.get("NIANBAO_BENCH_WEB_BACKENDS", "sqlite,postgres").split(",")
YEARS = tuple(range(2017, 2025))
TEMPLATES = 64
REPEATS = 40   # p95 of 40 is the third slowest: one stall of a shared machine does not decide it
TARGET_MS = 300
CACHE = Path("var/bench/web-cache")
TODAY = dt.date(2025, 6, 1)


# ---------------------------------------------------------------- the synthetic warehouse
def _templates() -> list[Any]:
    from sandbox.figures import generate

    return [generate(seed, agency="机关", year=2024).record for seed in range(TEMPLATES)]


def _agency_count() -> int:
    return max(1, REPORTS // len(YEARS))


def _agencies() -> Iterator[tuple[Any, ...]]:
    counties = sorted(code for code in regions.names() if regions.region_tier(code) == "county")
    for n in range(_agency_count()):
        code = counties[n % len(counties)]
        kind = "government" if n % 3 == 0 else "department"
        stamp = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
        yield (n + 1, f"bench-{n}", f"{regions.name(code)}机关{n}", code, "county" if kind == "government"
               else "department", kind, "county", True, stamp, stamp)


def _reports() -> Iterator[tuple[int, int, int]]:
    """(report id, agency id, year)."""
    report_id = 0
    for year in YEARS:
        for agency in range(1, _agency_count() + 1):
            report_id += 1
            if report_id > REPORTS:
                return
            yield report_id, agency, year


def _published(report_id: int, year: int) -> dt.date:
    return dt.date(year + 1, 1, 10) + dt.timedelta(days=report_id % 120)


def _region_rows() -> list[tuple[Any, ...]]:
    return [(code, name, regions.region_tier(code), regions.parent_of(code) if regions.parent_of(code)
             in regions.names() else None) for code, name in sorted(regions.names().items())]


def _fact_row(report_id: int, agency: tuple[Any, ...], year: int, record: Any) -> dict[str, Any]:
    from report.agencies import deadline as deadline_of
    from warehouse.wide import fact_value, timeliness

    code, level, kind = agency[3], agency[4], agency[5]
    published, deadline = _published(report_id, year), deadline_of(year, kind, level)
    row = {"report_id": report_id, "agency_id": agency[0], "agency_slug": agency[1], "agency": agency[2],
           "region_code": code, "province_code": regions.province_of(code),
           "prefecture_code": regions.prefecture_of(code), "level": agency[4], "kind": kind, "year": year,
           "format": "2021", "status": "quarantined" if report_id % 10 == 0 else "accepted",
           "document_url": f"https://bench.example/{report_id}.pdf", "document_sha256": f"{report_id:064x}",
           "tier": "county", "province_name": regions.name(regions.province_of(code)),
           "prefecture_name": regions.name(regions.prefecture_of(code)), "region_name": regions.name(code),
           "title": f"{agency[2]}{year}年政府信息公开工作年度报告", "published": published, "deadline": deadline,
           "timeliness": timeliness(published, deadline), "ocr_used": report_id % 17 == 0,
           "errors": 1 if report_id % 10 == 0 else 0, "warnings": 0, "converted": None}
    row.update({column_name(key): fact_value(key, _exact(record.cells.get(key))) for key in _KEYS})
    return row


def _exact(value: Any) -> Decimal | None:
    """A template's figure as the warehouse reads it back."""
    return None if value is None else Decimal(str(value))


_KEYS = [entry.key for entry in entries()]


def _rows(records: list[Any]) -> dict[str, Iterator[tuple[Any, ...]]]:
    agencies = {row[0]: row for row in _agencies()}
    now = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)

    def documents() -> Iterator[tuple[Any, ...]]:
        for report_id, agency, year in _reports():
            yield (report_id, f"https://bench.example/{report_id}.pdf", f"{report_id:064x}", agency,
                   agencies[agency][2], year, _published(report_id, year), now, now)

    def reports() -> Iterator[tuple[Any, ...]]:
        for report_id, agency, year in _reports():
            yield (report_id, agency, year, report_id, "2021", f"{agencies[agency][2]}{year}年报告",
                   "quarantined" if report_id % 10 == 0 else "accepted", True, f"{report_id:064x}", now, now)

    def cells() -> Iterator[tuple[Any, ...]]:
        for report_id, _, _ in _reports():
            record = records[report_id % TEMPLATES]
            for key, value in record.cells.items():
                yield report_id, key, value, record.raw.get(key), None if value is not None else "empty"

    def findings() -> Iterator[tuple[Any, ...]]:
        for report_id, _, _ in _reports():
            if report_id % 10 == 0:
                yield report_id, "T4-SUM", "error", '["t4.review.total"]', "表四总计不等于各项之和", "t4 sum"

    def sections() -> Iterator[tuple[Any, ...]]:
        for report_id, agency, _ in _reports():
            for name, body in records[report_id % TEMPLATES].sections.items():
                yield report_id, name, body.replace("机关", agencies[agency][2])

    def facts() -> Iterator[dict[str, Any]]:
        for report_id, agency, year in _reports():
            yield _fact_row(report_id, agencies[agency], year, records[report_id % TEMPLATES])

    return {"documents": documents(), "reports": reports(), "cells": cells(), "findings": findings(),
            "report_sections": sections(), "facts": facts(), "agencies": iter(agencies.values())}


_COLUMNS = {
    "agencies": ("id", "slug", "name", "region_code", "level", "kind", "tier", "expected", "created_at",
                 "updated_at"),
    "documents": ("id", "url", "sha256", "agency_id", "agency_name", "year", "listing_date", "first_seen_at",
                  "last_checked_at"),
    "reports": ("id", "agency_id", "year", "document_id", "format", "title", "status", "is_current",
                "content_hash", "loaded_at", "updated_at"),
    "cells": ("report_id", "key", "value", "raw", "null_reason"),
    "findings": ("report_id", "rule", "severity", "cells", "message", "message_en"),
    "report_sections": ("report_id", "section", "text"),
}


def _batches(rows: Iterator[Any], size: int = 20_000) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _complete(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT COUNT(*) FROM report_facts")) == REPORTS
    except Exception:  # noqa: BLE001 - no cache yet, or a broken one
        return False
    finally:
        engine.dispose()


def build_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    if path.exists() and _complete(url):
        upgrade(url)   # a cache built before the latest migration gets it (its indexes)
        return url
    path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    records = _templates()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    sources = _rows(records)
    conn.executemany("INSERT INTO regions (code, name, level, parent_code) VALUES (?, ?, ?, ?)", _region_rows())
    for table, columns in _COLUMNS.items():
        marks = ", ".join("?" for _ in columns)
        for batch in _batches(sources[table]):
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                             [_sqlite_values(row) for row in batch])
    _insert_facts_sqlite(conn, sources["facts"])
    _index_sqlite(conn)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return url


def _sqlite_values(row: Sequence[Any]) -> tuple[Any, ...]:
    """As the models bind them: timestamps and dates as ISO text, exact numbers as their decimal text."""
    return tuple(value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ") if isinstance(value, dt.datetime) else
                 value.isoformat() if isinstance(value, dt.date) else
                 format(value, "f") if isinstance(value, Decimal) else value for value in row)


def _insert_facts_sqlite(conn: sqlite3.Connection, facts: Iterator[dict[str, Any]]) -> None:
    from warehouse.wide import report_facts

    names = [column.name for column in report_facts.columns]
    statement = f"INSERT INTO report_facts ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    for batch in _batches(facts, 5_000):
        conn.executemany(statement, [_sqlite_values([row[name] for name in names]) for row in batch])


def _index_sqlite(conn: sqlite3.Connection) -> None:
    rows = conn.execute("SELECT report_id, section, text FROM report_sections")
    while chunk := rows.fetchmany(20_000):
        conn.executemany(f"INSERT INTO {search.TABLE} (body, report_id, section) VALUES (?, ?, ?)",
                         [(" ".join(search.tokens(body)), report_id, section) for report_id, section, body in chunk])


def build_postgres() -> str | None:
    from warehouse.load import copy_rows

    name = f"bench_web_{REPORTS}"  # not nianbao_*: test fixtures clean those up
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            if exists and _complete(url):
                upgrade(url)   # a cache built before the latest migration gets it (its indexes)
                return url
            if exists:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # noqa: BLE001 - no server: the SQLite figures still stand
        return None
    finally:
        admin.dispose()
    upgrade(url)
    records = _templates()
    sources = _rows(records)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            copy_rows(conn, "regions", ("code", "name", "level", "parent_code"), _region_rows())
            for table, columns in _COLUMNS.items():
                copy_rows(conn, table, columns, sources[table])
            from warehouse.wide import report_facts

            names = [column.name for column in report_facts.columns]
            copy_rows(conn, "report_facts", names, ([row[n] for n in names] for row in sources["facts"]))
            _index_postgres(conn)
            for table in ("agencies", "documents", "reports"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT MAX(id) FROM {table}))"))
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()
    return url


def _index_postgres(conn: Any) -> None:
    rows = conn.execute(text("SELECT report_id, section, text FROM report_sections")).all()
    values = ((report_id, section, " ".join(search.tokens(body))) for report_id, section, body in rows)
    for batch in _batches(values):
        conn.execute(text(f"INSERT INTO {search.TABLE} (report_id, section, body) "
                          "VALUES (:r, :s, array_to_tsvector(string_to_array(:b, ' ')))"),
                     [{"r": r, "s": s, "b": b} for r, s, b in batch])


# ---------------------------------------------------------------- operations: sources, runs, alerts
RUNS_PER_SOURCE = 8


def _source_of(region_code: str) -> str:
    """One portal per prefecture, as a provincial platform would host them."""
    return f"bench-{regions.prefecture_of(region_code)}"


def add_operations(url: str) -> None:
    """Sources (one per prefecture) with their crawl runs, and open alerts: late reports of the
    latest year and a broken site in every 50th source. Added once to a cache that has none."""
    from sqlalchemy import bindparam, insert, update

    from warehouse.models import Agency, Alert, CrawlRun, Source

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if conn.scalar(text("SELECT COUNT(*) FROM sources")):
                return
            agencies = conn.execute(text("SELECT id, region_code FROM agencies ORDER BY id")).all()
            known = regions.names()
            source_ids = sorted({_source_of(code) for _, code in agencies})
            conn.execute(insert(Source), [{"id": sid, "name": f"{regions.name(sid[6:]) or sid}政府信息公开平台",
                                           "cms": "bench", "base_url": f"https://{sid}.example/",
                                           "region_code": sid[6:] if sid[6:] in known else None}
                                          for sid in source_ids])
            conn.execute(update(Agency).where(Agency.id == bindparam("agency")).values(source_id=bindparam("source")),
                         [{"agency": agency, "source": _source_of(code)} for agency, code in agencies])
            conn.execute(insert(CrawlRun), [_run(sid, n) for sid in source_ids for n in range(RUNS_PER_SOURCE)])
            conn.execute(insert(Alert), _alerts(conn, source_ids))
        with engine.connect() as conn:   # the planner's statistics as a live warehouse keeps them
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    finally:
        engine.dispose()


def _run(source_id: str, n: int) -> dict[str, Any]:
    started = dt.datetime(2025, 5, 1, 2, tzinfo=dt.UTC) - dt.timedelta(days=7 * n)
    return {"run_id": f"bench-run-{n}", "source_id": source_id, "started_at": started,
            "finished_at": started + dt.timedelta(minutes=20), "finish_reason": "finished",
            "stats": {"item_scraped_count": 40, "downloader/response_count": 120}}


def _alerts(conn: Any, source_ids: list[str]) -> list[dict[str, Any]]:
    opened = dt.datetime(2025, 5, 2, tzinfo=dt.UTC)
    late = conn.execute(text("SELECT agency_id, agency, year FROM report_facts "
                             "WHERE timeliness = 'late' AND year = :year"), {"year": YEARS[-1]}).all()
    rows = [{"kind": "late", "cause_key": f"late:{agency}:{year}", "agency_id": agency, "year": year,
             "severity": "warning", "message": f"{name}{year}年年报逾期发布", "details": {"source_id": None},
             "opened_at": opened} for agency, name, year in late]
    rows += [{"kind": "site_broken", "cause_key": f"site_broken:{sid}", "agency_id": None, "year": None,
              "severity": "error", "message": f"{sid} 无法访问", "details": {"source_id": sid}, "opened_at": opened}
             for sid in source_ids[::50]]
    return rows


# ---------------------------------------------------------------- measuring
def _calls(client: Any) -> list[tuple[str, str]]:
    agency = _agency_count() // 2
    report = REPORTS // 2
    county = next(row[3] for row in _agencies() if row[0] == agency)   # the regions of that agency
    province, prefecture, source = regions.province_of(county), regions.prefecture_of(county), _source_of(county)
    from nianbao.web.saved import SAVED_QUERIES

    calls = [
        ("page coverage", "/?year=2024"),
        ("page coverage province", f"/?year=2024&region={province}"),
        ("page coverage prefecture", f"/?year=2024&region={prefecture}"),
        ("page agency", f"/agencies/{agency}"),
        ("page report", f"/reports/{report}"),
        ("page cell", f"/reports/{report}/cells/t3.new.total"),
        ("page compare", f"/compare?left={report}&right={report + 1}"),
        ("page search text", "/search?q=解读形式"),
        ("page search filters", f"/search?agency=机关{agency}&year=2024"),
        ("page dictionary", "/dictionary"),
        ("page region agencies", f"/?year=2024&region={county}"),
        ("page ops", "/ops"),
        ("page source", f"/ops/sources/{source}"),
        ("api coverage", "/api/coverage?year=2023&kind=department"),
        ("api coverage years", f"/api/coverage/years?region={province}"),
        ("api agency", f"/api/agencies/{agency}"),
        ("api report", f"/api/reports/{report}"),
        ("api compare", f"/api/compare?left={report}&right={report + 1}"),
        ("api search", f"/api/search?q=政府信息公开&region={province}"),
        ("api dictionary", "/api/dictionary"),
        ("api alerts", "/api/ops/alerts"),
        ("api runs", "/api/ops/runs"),
        ("api source", f"/api/ops/sources/{source}"),
        ("api region agencies", f"/api/regions/{prefecture}/agencies?year=2024"),
    ]
    from urllib.parse import quote

    for query in SAVED_QUERIES:
        calls.append((f"sql {query.id}", f"/api/sql?sql={quote(query.sql)}"))
    calls.append(("page sql saved", f"/sql?query={SAVED_QUERIES[0].id}"))
    return calls


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure(url: str, backend: str) -> list[dict[str, Any]]:
    from fastapi.testclient import TestClient

    from nianbao.web.app import create_app

    app = create_app(url, str(CACHE / "raw"), today=TODAY)
    figures = []
    with TestClient(app) as client:
        for name, path in _calls(client):
            samples = []
            for attempt in range(REPEATS + 2):
                started = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")
                if attempt >= 2:
                    samples.append(elapsed)
            figures.append({"name": f"{backend} {name} p95", "value": round(_p95(samples), 1), "unit": "ms",
                            "target": f"<= {TARGET_MS}"})
    app.state.engine.dispose()
    return figures


def run() -> list[dict[str, Any]]:
    figures: list[dict[str, Any]] = []
    for backend in BACKENDS:
        started = time.perf_counter()
        try:
            url = build_sqlite(CACHE / f"warehouse-{REPORTS}.db") if backend == "sqlite" else build_postgres()
        except Exception as error:  # noqa: BLE001 - one backend's failure leaves the other's figures
            figures.append({"name": f"{backend} build failed", "value": repr(error)[:200], "unit": ""})
            continue
        if url is None:
            figures.append({"name": f"{backend} skipped", "value": "no server", "unit": ""})
            continue
        add_operations(url)
        figures.append({"name": f"{backend} build or reuse the cache", "value": round(time.perf_counter() - started, 1),
                        "unit": "s", "note": f"{REPORTS} reports"})
        measured = measure(url, backend)
        figures += measured
        figures.append({"name": f"{backend} calls over target", "value": sum(f["value"] > TARGET_MS for f in measured),
                        "unit": "calls", "target": 0})
    return figures
