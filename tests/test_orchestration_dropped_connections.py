"""A PostgreSQL harvest whose database connections are killed (`pg_terminate_backend`, as in a
failover) at seeded random points: every transaction of the load path is run again, the run
exits 0, and the warehouse holds exactly what an undisturbed harvest gives."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text
from typer.testing import CliRunner

from nianbao.stages import StageContext, harvest
from tests.fixtures.postgres import ADMIN_URL
from warehouse.snapshot import snapshot

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TODAY = date(2025, 4, 15)
SOURCE = "sandbox-hongze"
SEED = 20251202
KILLS = 4
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
    counted: list[int] = []
    with statements_of(postgres_url.rsplit("/", 1)[1], lambda conn: counted.append(1)):
        calm = harvest(undisturbed, today=TODAY, sources=[SOURCE], fast=True, notifiers=[])
    assert calm.processed.accepted + calm.processed.quarantined == 6

    at = set(random.Random(SEED).sample(range(1, len(counted) + 1), KILLS))
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    seen, killed = [0], []

    def kill_at_chosen_points(conn) -> None:  # noqa: ANN001
        seen[0] += 1
        if seen[0] in at:
            pid = conn.connection.driver_connection.info.backend_pid
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killed.append(seen[0])

    data_dir = tmp_path / "stormy"
    for name, value in (("NIANBAO_DATA_DIR", str(data_dir)), ("NIANBAO_WAREHOUSE_URL", other_postgres_url),
                        ("NIANBAO_SANDBOX_URL", portal.url)):
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with statements_of(other_postgres_url.rsplit("/", 1)[1], kill_at_chosen_points):
            result = CliRunner().invoke(app, ["harvest", "-s", SOURCE, "--today", TODAY.isoformat(), "--fast"])
    finally:
        get_settings.cache_clear()
        admin.dispose()
    assert sorted(killed) == sorted(at), f"killed at {killed} of {seen[0]} statements, meant {sorted(at)}"
    assert result.exit_code == 0, result.output
    assert snapshot(other_postgres_url) == snapshot(postgres_url)   # every table, by natural keys
