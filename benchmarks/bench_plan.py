"""A national night's planning and bookkeeping: N new document versions (default 100,000) on PostgreSQL.

On a fresh PostgreSQL database that this benchmark creates and drops, a synthetic crawl index
(sandbox/volume.py) holds N new document versions of the registry's sources. Timed, as the DAG
runs them: `find_new` (what is new, the plan in staged_records), every extract task's
bookkeeping (its batch read, its records saved; the extraction itself is left out: each record is
an empty "not a report" one), `validate` and `load` (each document recorded with its extraction
attempt, one transaction each). The target: the whole night's bookkeeping within minutes.
Environment: NIANBAO_BENCH_PLAN_DOCUMENTS (default 100000), NIANBAO_TEST_PG_ADMIN (admin URL).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from crawler.registry import SHIPPED_SOURCES
from nianbao.stages import StageContext, load_staged, plan_extraction, validate_staged
from nianbao.stages.process import MAX_MAPPED_TASKS, extractor_version
from nianbao.stages.registry import load_sources
from report.record import ReportRecord
from sandbox.volume import synthetic_night
from warehouse.db import scratch_database, session_scope
from warehouse.session import warehouse_engine
from warehouse.staging import batch_rows, save_records

ADMIN_URL = os.environ.get("NIANBAO_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DOCUMENTS = int(os.environ.get("NIANBAO_BENCH_PLAN_DOCUMENTS", "100000"))
TARGET_SECONDS = 30 * 60   # "minutes, not hours"
RUN = "scheduled__2026-01-01T18:00:00+00:00"


def _not_a_report() -> dict:
    record = ReportRecord()
    record.provenance.extractor_version = extractor_version()
    return json.loads(record.to_json())


def _extract_bookkeeping(context: StageContext, planned: list[int]) -> None:
    """What each extract task (a process of its own: its own engine) does besides extracting: read its
    batch, save its records."""
    record = _not_a_report()
    for batch in planned:
        with warehouse_engine(context.warehouse_url) as engine:
            with session_scope(engine) as session:
                keys = [row.key for row in batch_rows(session, RUN, batch)]
            with session_scope(engine) as session:
                save_records(session, RUN, [(key, record) for key in keys], "extracted")


def _night(url: str, work: Path) -> list[dict]:
    context = StageContext(data_dir=work, warehouse_url=url, raw_store=str(work / "raw"), sources_dir=SHIPPED_SOURCES)
    sources = [source.id for source in load_sources(context)]   # the real sites of the registry
    started = time.perf_counter()
    synthetic_night(url, DOCUMENTS, sources)
    setup = time.perf_counter() - started
    timings: dict[str, float] = {}
    started = time.perf_counter()
    planned = plan_extraction(context, RUN)
    timings["find_new"] = time.perf_counter() - started
    started = time.perf_counter()
    _extract_bookkeeping(context, planned)
    timings["extract (bookkeeping)"] = time.perf_counter() - started
    started = time.perf_counter()
    validate_staged(context, RUN, planned)
    timings["validate"] = time.perf_counter() - started
    started = time.perf_counter()
    loaded = load_staged(context, RUN, planned)
    timings["load"] = time.perf_counter() - started
    assert loaded.documents == DOCUMENTS, loaded
    total = sum(timings.values())
    note = f"{DOCUMENTS} documents, {len(sources)} sources, {len(planned)} extract tasks (limit {MAX_MAPPED_TASKS})"
    return [
        {"name": "night bookkeeping, total", "value": round(total, 1), "unit": "s", "target": f"<= {TARGET_SECONDS}",
         "note": note},
        *({"name": f"night {stage}", "value": round(seconds, 1), "unit": "s"} for stage, seconds in timings.items()),
        {"name": "night extract tasks", "value": len(planned), "unit": "tasks", "target": f"<= {MAX_MAPPED_TASKS}"},
        {"name": "night load rate", "value": round(DOCUMENTS / timings["load"]), "unit": "documents/s"},
        {"name": "synthetic crawl index (set-up, not counted)", "value": round(setup, 1), "unit": "s"},
    ]


def run() -> list[dict]:
    with scratch_database(ADMIN_URL, f"nianbao_bench_plan_{uuid.uuid4().hex[:12]}") as url, \
            tempfile.TemporaryDirectory() as work:
        return _night(url, Path(work))


if __name__ == "__main__":
    for figure in run():
        print(figure)
