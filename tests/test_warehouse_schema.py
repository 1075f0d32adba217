"""The schema: created only by migrations, the same on SQLite and PostgreSQL, reversible."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from warehouse import dictionary
from warehouse.db import current_revision, downgrade, head_revision, make_engine, upgrade
from warehouse.models import Base
from warehouse.search import TABLE as SEARCH_TABLE
from warehouse.search import is_search_table
from warehouse.views import VIEW_NAMES
from warehouse.wide import report_facts  # noqa: F401  (declares the materialised table on Base.metadata)

TABLES = {"regions", "report_years", "cell_dictionary", "rule_labels", "sources", "agencies", "crawl_runs",
          "documents", "extraction_attempts", "alerts", "alert_deliveries", "reports", "cells", "cell_sources",
          "findings", "report_sections",
          "report_facts", "staged_records"}


def _tables_and_views(url: str) -> tuple[set[str], set[str]]:
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        tables = {name for name in inspector.get_table_names() if not is_search_table(name)}
        return tables - {"alembic_version"}, set(inspector.get_view_names())
    finally:
        engine.dispose()


def _has_search_index(url: str) -> bool:
    engine = make_engine(url)
    try:
        return SEARCH_TABLE in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_upgrade_from_empty_then_downgrade_back_to_empty(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    tables, views = _tables_and_views(warehouse_url)
    assert tables == TABLES
    assert views == set(VIEW_NAMES)
    assert current_revision(warehouse_url) == head_revision()

    assert _has_search_index(warehouse_url)
    downgrade(warehouse_url, "0001")
    tables, views = _tables_and_views(warehouse_url)
    assert views == set()
    assert tables == TABLES - {"report_facts", "alert_deliveries", "cell_sources", "staged_records"}
    assert not _has_search_index(warehouse_url)

    downgrade(warehouse_url, "base")
    assert _tables_and_views(warehouse_url) == (set(), set())
    assert current_revision(warehouse_url) is None

    upgrade(warehouse_url)  # and up again from empty
    assert _tables_and_views(warehouse_url) == (TABLES, set(VIEW_NAMES))


def test_upgrade_twice_changes_nothing(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    upgrade(warehouse_url)
    engine = make_engine(warehouse_url)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM cell_dictionary")) == len(dictionary.entries())
    engine.dispose()


def test_models_and_migrations_agree(warehouse_engine, warehouse_url: str) -> None:
    """Alembic's autogenerate finds nothing to change: the migrations build exactly the models (the crawl
    index's tables in the same database are the crawler's, left out)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from crawler.index import DocumentIndex

    DocumentIndex(warehouse_url).close()
    with warehouse_engine.connect() as conn:
        from warehouse.db import include_object

        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_wide_view_has_one_column_per_catalogue_key(warehouse_engine) -> None:
    columns = [column["name"] for column in inspect(warehouse_engine).get_columns("report_wide")]
    meta = [name for name, _, _ in dictionary.WIDE_META_COLUMNS]
    assert columns == meta + [dictionary.column_name(key) for key in dictionary.ordered_keys()]
    assert "t3_new_total" in columns and "t3_withheld_state_secret_natural_person" in columns
    assert all(len(name) <= 63 for name in columns)  # PostgreSQL's identifier limit


def test_dictionary_and_rule_labels_are_seeded(warehouse_engine) -> None:
    from report.validate import RULES

    with warehouse_engine.connect() as conn:
        row = conn.execute(text("SELECT label_zh, unit, kind, formats, column_name FROM cell_dictionary "
                                "WHERE key = 't2.fees.amount'")).one()
        rules = dict(conn.execute(text("SELECT rule, label_zh FROM rule_labels")).all())
        years = dict(conn.execute(text("SELECT year, format FROM report_years")).all())
    assert row == ("行政事业性收费 × 本年收费金额（单位：万元）", "万元", "decimal", "2021", "t2_fees_amount")
    assert rules == {rule.id: rule.title for rule in RULES}
    assert (years[2018], years[2020], years[2024]) == ("2014", "2019", "2021")


def test_sqlite_engine_settings(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'w.db'}"
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    engine.dispose()
    assert (tmp_path / "nested" / "dir" / "w.db").exists()


@pytest.mark.postgres
def test_postgres_urls_use_psycopg_3(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    engine = make_engine(plain)
    assert engine.dialect.driver == "psycopg"
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT 1")) == 1
    engine.dispose()


@pytest.mark.postgres
def test_concurrent_upgrades_of_one_postgres_database_take_turns(postgres_url: str) -> None:
    import subprocess
    import sys

    command = [sys.executable, "-c", f"from warehouse.db import upgrade; upgrade({postgres_url!r})"]
    processes = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [(process.wait(timeout=120), process.stderr.read() if process.stderr else "") for process in processes]
    assert [code for code, _ in outcomes] == [0, 0, 0], [error[-400:] for _, error in outcomes]
    assert current_revision(postgres_url) == head_revision()
