"""Failures mid-load leave nothing half-written; a dropped connection is retried."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

import warehouse.load as load_module
from tests.fixtures.warehouse import make_record, register_agency
from warehouse.load import LoadItem, bulk_load, load_report

SHA = "d" * 64


def counts(engine: Engine) -> tuple[int, int, int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # type: ignore[return-value]
                     for table in ("reports", "cells", "findings", "report_sections", "documents"))


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "RETRY_BASE_DELAY", 0.01)


def test_failure_after_half_the_cells_leaves_no_partial_report(warehouse_engine: Engine,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    register_agency(warehouse_engine)
    record = make_record(1, warnings=1)
    real_cell_rows = load_module.cell_rows

    def half_then_fail(report_id, record):
        rows = list(real_cell_rows(report_id, record))
        yield from rows[: len(rows) // 2]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(load_module, "cell_rows", half_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        load_report(warehouse_engine, record, agency_id="hongze", document_sha256=SHA)
    assert counts(warehouse_engine) == (0, 0, 0, 0, 0)

    monkeypatch.setattr(load_module, "cell_rows", real_cell_rows)
    result = load_report(warehouse_engine, record, agency_id="hongze", document_sha256=SHA)
    assert result.changed
    assert counts(warehouse_engine) == (1, len(record.cells), 1, len(record.sections), 1)


def test_a_dropped_connection_is_retried(warehouse_engine: Engine, no_retry_delay: None) -> None:
    """A disconnect on the findings insert (after the report and its cells) is retried from scratch."""
    register_agency(warehouse_engine)
    record = make_record(2, warnings=1)
    failures = []

    @event.listens_for(warehouse_engine, "before_cursor_execute")
    def drop_once(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO FINDINGS") and not failures:
            failures.append(statement)
            raise OperationalError(statement, parameters, Exception("server closed the connection"),
                                   connection_invalidated=True)

    result = load_report(warehouse_engine, record, agency_id="hongze", document_sha256=SHA)
    event.remove(warehouse_engine, "before_cursor_execute", drop_once)
    assert failures and result.changed
    assert counts(warehouse_engine) == (1, len(record.cells), 1, len(record.sections), 1)


def test_retries_are_bounded(warehouse_engine: Engine, no_retry_delay: None) -> None:
    register_agency(warehouse_engine)
    attempts = []

    @event.listens_for(warehouse_engine, "before_cursor_execute")
    def always_drop(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO FINDINGS"):
            attempts.append(1)
            raise OperationalError(statement, parameters, Exception("server closed the connection"),
                                   connection_invalidated=True)

    with pytest.raises(OperationalError):
        load_report(warehouse_engine, make_record(3, warnings=1), agency_id="hongze", document_sha256=SHA)
    event.remove(warehouse_engine, "before_cursor_execute", always_drop)
    assert len(attempts) == load_module.RETRY_ATTEMPTS
    assert counts(warehouse_engine) == (0, 0, 0, 0, 0)


# ---------------------------------------------------------------- a real kill on PostgreSQL
def _kill_backend_after_findings_insert(engine: Engine, postgres_url: str, kills: list[int]) -> None:
    """Once per test: right after the findings INSERT (the report and its cells are written by then,
    the sections not yet), terminate this backend from another connection."""
    from warehouse.db import make_engine

    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")

    @event.listens_for(engine, "after_cursor_execute")
    def kill(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO FINDINGS") and not kills:
            pid = conn.connection.driver_connection.info.backend_pid
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            kills.append(pid)


@pytest.mark.postgres
def test_killed_backend_mid_load_leaves_nothing_then_retry_completes(postgres_url: str, no_retry_delay: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from warehouse.db import make_engine, upgrade

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    register_agency(engine)
    record = make_record(4, warnings=1)

    kills: list[int] = []
    _kill_backend_after_findings_insert(engine, postgres_url, kills)
    monkeypatch.setattr(load_module, "RETRY_ATTEMPTS", 1)
    with pytest.raises(Exception) as raised:
        load_report(engine, record, agency_id="hongze", document_sha256=SHA)
    assert load_module.is_transient(raised.value)
    assert kills and counts(engine) == (0, 0, 0, 0, 0)  # the server rolled the whole report back

    kills.clear()
    monkeypatch.setattr(load_module, "RETRY_ATTEMPTS", 3)
    result = load_report(engine, record, agency_id="hongze", document_sha256=SHA)
    assert kills and result.changed
    assert counts(engine) == (1, len(record.cells), 1, len(record.sections), 1)
    engine.dispose()


@pytest.mark.postgres
def test_killed_backend_during_bulk_load_is_retried_without_duplicates(postgres_url: str,
                                                                       no_retry_delay: None) -> None:
    from warehouse.db import make_engine, upgrade

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    for n in range(6):
        register_agency(engine, slug=f"d{n}", name=f"部门{n}", level="department", kind="department")
    records = [make_record(60 + n, agency=f"部门{n}", warnings=1) for n in range(6)]
    kills: list[int] = []
    _kill_backend_after_findings_insert(engine, postgres_url, kills)
    result = bulk_load(engine, [LoadItem(r, f"d{n}", f"{n:064x}") for n, r in enumerate(records)], batch_size=4)
    assert kills and result.loaded == 6
    reports, cells, *_ = counts(engine)
    assert (reports, cells) == (6, sum(len(r.cells) for r in records))
    engine.dispose()


def test_a_loader_that_finds_an_old_version_best_waits_for_one_settling_the_same_year(
        warehouse_engine: Engine, warehouse_url: str) -> None:
    """The interleaving a race may or may not hit, made to happen: a loader settles the year
    while another has a better version in its open transaction. Not seeing it, it finds the old
    version best — nothing to promote, no unique-index conflict — and left its own pointing at
    a report that the other then superseded. It must settle after the other commits."""
    import threading

    from sqlalchemy.orm import Session

    from warehouse.db import make_engine

    register_agency(warehouse_engine)
    old = load_report(warehouse_engine, make_record(80), agency_id="hongze", document_sha256="1" * 64,
                      document_url="https://example.gov.cn/b.pdf")
    late: dict[str, int] = {}

    def worse_version() -> None:
        engine = make_engine(warehouse_url)
        try:
            late["id"] = load_report(engine, make_record(81), agency_id="hongze", document_sha256="3" * 64,
                                     document_url="https://example.gov.cn/a.pdf").report_id
        finally:
            engine.dispose()

    with Session(warehouse_engine) as session, session.begin():
        best = load_report(session, make_record(82), agency_id="hongze", document_sha256="2" * 64,
                           document_url="https://example.gov.cn/c.pdf")
        loader = threading.Thread(target=worse_version)
        loader.start()
        loader.join(timeout=1.5)  # it waits for this transaction (or, wrongly, finishes now)
    loader.join(timeout=60)
    with warehouse_engine.connect() as conn:
        rows = {row.id: row for row in conn.execute(text("SELECT id, is_current, superseded_by_id FROM reports"))}
    assert rows[best.report_id].is_current
    assert rows[old.report_id].superseded_by_id == best.report_id
    assert rows[late["id"]].superseded_by_id == best.report_id


def test_concurrent_loads_of_one_agency_year_leave_one_current_report(warehouse_engine: Engine,
                                                                       warehouse_url: str) -> None:
    """Four loaders race with four versions of the same report; the losers of a race retry."""
    from concurrent.futures import ThreadPoolExecutor

    from warehouse.db import make_engine

    register_agency(warehouse_engine)
    records = [make_record(70 + n) for n in range(4)]

    def load(n: int) -> int:
        engine = make_engine(warehouse_url)
        try:
            return load_report(engine, records[n], agency_id="hongze", document_sha256=f"{n}" * 64).report_id
        finally:
            engine.dispose()

    with ThreadPoolExecutor(max_workers=4) as pool:
        report_ids = list(pool.map(load, range(4)))
    with warehouse_engine.connect() as conn:
        rows = conn.execute(text("SELECT id, is_current, superseded_by_id FROM reports ORDER BY id")).all()
        cells = conn.execute(text("SELECT count(*) FROM cells")).scalar()
    current = [row.id for row in rows if row.is_current]
    assert sorted(report_ids) == [row.id for row in rows] and len(current) == 1
    assert all(row.superseded_by_id == current[0] for row in rows if not row.is_current)
    assert cells == sum(len(r.cells) for r in records)
