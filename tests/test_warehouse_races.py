"""Two writers at once on PostgreSQL: neither fails, nothing is duplicated.

Each race is made to happen, not hoped for: the first writer's transaction holds its new rows
uncommitted while the second writer runs (the test waits until PostgreSQL shows the second
waiting on the first's lock), then the first commits. A check-then-insert fails here with a
UniqueViolation; INSERT … ON CONFLICT waits, then does nothing or updates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tests.fixtures.warehouse import make_record, register_agency
from warehouse.db import session_scope

pytestmark = pytest.mark.postgres
Writer = Callable[[Session], object]


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    from warehouse.db import make_engine, upgrade

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        yield engine
    finally:
        engine.dispose()


def waiting_on_a_lock(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'")) or 0)


def overlapping(engine: Engine, first: Writer, second: Writer) -> None:
    """Run `second` while `first`'s transaction is open and has written; both must succeed."""
    errors: list[BaseException] = []

    def run_second() -> None:
        try:
            with session_scope(engine) as session:
                second(session)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    with session_scope(engine) as session:
        first(session)
        other = threading.Thread(target=run_second)
        other.start()
        deadline = time.monotonic() + 20
        while not waiting_on_a_lock(engine) and other.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        blocked = waiting_on_a_lock(engine) > 0
    other.join(30)
    assert not errors, errors
    assert blocked, "the second writer never waited for the first: the race did not happen"


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(sql)) or 0)


def test_two_crawl_tasks_create_the_same_regions_agencies_and_sources(engine: Engine) -> None:
    """pk_regions: two crawl tasks of sources in one prefecture register their regions at once."""
    from warehouse.load import upsert_agency, upsert_source

    def register(slug: str, region: str) -> Writer:
        def write(session: Session) -> None:
            upsert_source(session, id="shared-source", name="共用来源", region_code=region)
            upsert_agency(session, slug="shared", name="淮安市人民政府", region_code="320800", level="prefecture",
                          kind="government", source_id="shared-source")
            upsert_agency(session, slug=slug, name=f"{slug}区人民政府", region_code=region, level="county",
                          kind="government")
        return write

    overlapping(engine, register("hongze", "320813"), register("huaiyin", "320804"))
    assert count(engine, "SELECT count(*) FROM regions") == 4            # 320000, 320800, 320813, 320804
    assert count(engine, "SELECT count(*) FROM agencies") == 3
    assert count(engine, "SELECT count(*) FROM sources") == 1


def test_two_tasks_copy_the_same_crawl_run(engine: Engine) -> None:
    """crawl_runs: every task copies the crawl index's finished runs; a run is recorded once."""
    from warehouse.load import upsert_source
    from warehouse.operational import record_crawl_run

    with session_scope(engine) as session:
        upsert_source(session, id="sandbox-hongze", name="洪泽区")
    moment = datetime(2025, 4, 15, 2, 0, tzinfo=UTC)

    def copy_run(session: Session) -> None:
        record_crawl_run(session, run_id="20250415T020000-abc123", source_id="sandbox-hongze", started_at=moment,
                         finished_at=moment, finish_reason="finished", stats={"reports_listed": 6})

    overlapping(engine, copy_run, copy_run)
    assert count(engine, "SELECT count(*) FROM crawl_runs") == 1


def test_the_harvest_alerts_task_and_the_deadlines_check_open_the_same_alert(engine: Engine) -> None:
    """uq_alerts_open_cause_key: both checks find the same missing report at once."""
    from warehouse.operational import open_alert

    agency_id = register_agency(engine)
    opened: list[bool] = []

    def check(session: Session) -> None:
        _, new = open_alert(session, kind="missing", cause_key=f"missing:{agency_id}:2024", severity="error",
                            message="逾期未发布", agency_id=agency_id, year=2024)
        opened.append(new)

    overlapping(engine, check, check)
    assert count(engine, "SELECT count(*) FROM alerts") == 1
    assert sorted(opened) == [False, True]                                # opened once, found once


def test_two_loads_of_the_same_document_version(engine: Engine) -> None:
    """documents and reports: two tasks load the same report of the same version at once."""
    from warehouse.load import load_report

    register_agency(engine)
    record = make_record(5, warnings=1)

    def load(session: Session) -> None:
        load_report(session, record, agency_id="hongze", document_sha256="e" * 64)

    overlapping(engine, load, load)
    assert count(engine, "SELECT count(*) FROM documents") == 1
    assert count(engine, "SELECT count(*) FROM reports") == 1
    assert count(engine, "SELECT count(*) FROM cells") == len(record.cells)


def test_two_checks_at_once_store_and_send_each_alert_once(engine: Engine, postgres_url: str, tmp_path) -> None:
    """Whole checks, as the harvest's alerts task and nianbao_deadlines run them, in two threads."""
    from datetime import date
    from pathlib import Path

    from nianbao.stages import StageContext, check
    from nianbao.stages.context import ensure_warehouse

    register_agency(engine, slug="sandbox-hongze", kind="department")
    context = StageContext(data_dir=tmp_path, warehouse_url=postgres_url, raw_store=str(tmp_path / "raw"),
                           sources_dir=Path("sources"))
    sent: list[list[str]] = []

    class Recorder:
        name = "recorder"

        def send(self, message) -> None:  # noqa: ANN001
            sent.append([alert.key for alert in message.alerts])

    ensure_warehouse(context)   # the schema once (Alembic loads its scripts thread-unsafely; tasks are processes)
    start, errors = threading.Barrier(2), []

    def run() -> None:
        try:
            start.wait()
            check(context, today=date(2025, 4, 15), years=[2023, 2024], notifiers=[Recorder()])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    with engine.connect() as conn:
        stored = sorted(conn.scalars(text("SELECT cause_key FROM alerts")))
    assert len(stored) == 2                                               # missing 2023 and 2024, once each
    assert sorted(key for keys in sent for key in keys) == stored         # and sent once each
