"""A PostgreSQL harvest whose database connections are killed (`pg_terminate_backend`, as in a
failover) at seeded random points: every transaction is run again, the run exits 0, and the
warehouse holds exactly what an undisturbed harvest gives. Both ways in: `nianbao harvest` on one
machine, and the DAG's staged tasks (find_new → extract → validate → load → check)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text
from typer.testing import CliRunner

from nianbao.stages import (
    StageContext,
    check,
    extract_batch,
    harvest,
    load_staged,
    plan_extraction,
    run_crawl,
    validate_staged,
)
from tests.fixtures.postgres import ADMIN_URL
from warehouse.snapshot import snapshot

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TODAY = date(2025, 4, 15)
SOURCE = "sandbox-hongze"
SEED = 20251202
KILLS = 4
RUN = "scheduled__2025-04-15T02:00:00+00:00"
@contextmanager
def statements_of(database: str, on_statement) -> Iterator[None]:  # noqa: ANN001
    """Call on_statement(connection) before every statement this process sends to `database`."""
    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if conn.engine.url.database == database:
            on_statement(conn)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def statement_count(database: str, work) -> int:  # noqa: ANN001
    counted: list[int] = []
    with statements_of(database, lambda conn: counted.append(1)):
        work()
    return len(counted)


@contextmanager
def killed_at(database: str, at: set[int]) -> Iterator[list[int]]:
    """Terminate this process's connection to `database` before its statements numbered `at`;
    yields the numbers it killed at."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    seen, killed = [0], list[int]()

    def kill_at_chosen_points(conn) -> None:  # noqa: ANN001
        seen[0] += 1
        if seen[0] in at:
            pid = conn.connection.driver_connection.info.backend_pid
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killed.append(seen[0])

    try:
        with statements_of(database, kill_at_chosen_points):
            yield killed
    finally:
        admin.dispose()


def database_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_killed_connections_at_random_points_change_nothing(sandbox_portal_factory, postgres_url,
                                                            other_postgres_url, tmp_path, monkeypatch) -> None:
    from nianbao.cli import app
    from nianbao.settings import get_settings
    from warehouse.db import upgrade

    # migrated first, as the stack's init step does (a migration alone is a long run of DDL that
    # would take every kill; its retry is the same `with_retries`)
    upgrade(postgres_url)
    upgrade(other_postgres_url)
    portal = sandbox_portal_factory(sites=["hongze"])
    undisturbed = StageContext(data_dir=tmp_path / "calm", warehouse_url=postgres_url,
                               raw_store=str(tmp_path / "calm" / "raw"), sources_dir=Path("sources"),
                               sandbox_url=portal.url)
    results = []
    count = statement_count(database_of(postgres_url), lambda: results.append(
        harvest(undisturbed, today=TODAY, sources=[SOURCE], fast=True, notifiers=[])))
    assert results[0].processed.accepted + results[0].processed.quarantined == 6

    at = set(random.Random(SEED).sample(range(1, count + 1), KILLS))
    for name, value in (("NIANBAO_DATA_DIR", str(tmp_path / "stormy")), ("NIANBAO_WAREHOUSE_URL", other_postgres_url),
                        ("NIANBAO_SANDBOX_URL", portal.url)):
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with killed_at(database_of(other_postgres_url), at) as killed:
            result = CliRunner().invoke(app, ["harvest", "-s", SOURCE, "--today", TODAY.isoformat(), "--fast"])
    finally:
        get_settings.cache_clear()
    assert sorted(killed) == sorted(at), f"killed at {killed}, meant {sorted(at)}"
    assert result.exit_code == 0, result.output
    assert snapshot(other_postgres_url) == snapshot(postgres_url)   # every table, by natural keys


def staged_night(context: StageContext) -> None:
    """The DAG's tasks in order, on one host."""
    run_crawl(context, [SOURCE], fast=True)
    planned = plan_extraction(context, RUN, [SOURCE])
    for batch in planned:
        extract_batch(context, RUN, batch, jobs=1)
    validate_staged(context, RUN, planned)
    load_staged(context, RUN, planned)
    check(context, today=TODAY, sources=[SOURCE], notifiers=[])


def test_killed_connections_in_the_staged_tasks_change_nothing(sandbox_portal_factory, postgres_url,
                                                               other_postgres_url, tmp_path) -> None:
    from warehouse.db import upgrade

    upgrade(postgres_url)
    upgrade(other_postgres_url)
    portal = sandbox_portal_factory(sites=["hongze"])

    def context(name: str, url: str) -> StageContext:
        return StageContext(data_dir=tmp_path / name, warehouse_url=url, raw_store=str(tmp_path / name / "raw"),
                            sources_dir=Path("sources"), sandbox_url=portal.url)

    count = statement_count(database_of(postgres_url), lambda: staged_night(context("calm", postgres_url)))
    at = set(random.Random(SEED + 1).sample(range(1, count + 1), KILLS))
    with killed_at(database_of(other_postgres_url), at) as killed:
        staged_night(context("stormy", other_postgres_url))
    assert sorted(killed) == sorted(at), f"killed at {killed}, meant {sorted(at)}"
    calm = snapshot(postgres_url)
    assert len(calm["reports"]) == 6
    assert snapshot(other_postgres_url) == calm
