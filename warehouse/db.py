"""Engines, sessions and migrations for the warehouse (SQLite by default, PostgreSQL in production).

The schema is created and changed only by the Alembic migrations in
`warehouse/migrations`; `upgrade()` and `downgrade()` run them programmatically.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def resolve_url(url: str | URL | None) -> str:
    """The caller's URL (the application's settings choose it; the warehouse reads no variable)."""
    if not url:
        raise ValueError("no warehouse URL given")
    return normalise_url(url)


def normalise_url(url: str | URL) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    parsed = make_url(str(url)) if not isinstance(url, URL) else url
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url_or_engine: str | URL | Engine) -> bool:
    if isinstance(url_or_engine, Engine):
        return url_or_engine.dialect.name == "sqlite"
    return make_url(str(url_or_engine)).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = make_url(str(url)).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database.removeprefix("file:"))


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine with the warehouse's connection settings.

    SQLite: the parent directory is created, WAL journal, foreign keys on, a busy
    timeout so that concurrent writers wait instead of failing.
    PostgreSQL: psycopg 3, connections checked before use.
    """
    resolved = resolve_url(url)
    if is_sqlite(resolved):
        path = sqlite_path(resolved)
        if path is not None and "mode=ro" not in resolved:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(resolved, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(resolved, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if cursor.execute("PRAGMA query_only").fetchone()[0] == 0:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


# ---------------------------------------------------------------- migrations
# The crawl index's tables share the database but are the crawler's own (crawler/index.py creates them).
CRAWL_INDEX_PREFIX = "crawl_index_"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: neither the search index (dialect-specific DDL) nor the crawl index's tables."""
    from warehouse.search import include_object as include_search

    if type_ == "table" and name is not None and name.startswith(CRAWL_INDEX_PREFIX):
        return False
    return include_search(obj, name, type_, reflected, compare_to)


def alembic_config(url: str | URL | None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on a '%' in a password.
    if url:
        config.set_main_option("sqlalchemy.url", resolve_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the schema at `url` up to `revision` (creating the database file if needed)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def current_revision(url: str | URL) -> str | None:
    """The revision the database is at, or None when no migration has run (a SQLite file that
    does not exist is not created)."""
    from alembic.runtime.migration import MigrationContext

    path = sqlite_path(resolve_url(url)) if is_sqlite(resolve_url(url)) else None
    if path is not None and not path.exists():
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head()
    assert head is not None
    return head


def database_url(admin_url: str, name: str) -> str:
    """The URL of database `name` on the server of `admin_url` (same driver, user and host)."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def scratch_database(admin_url: str, name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for a test, a benchmark or a stack check; only the
    database this block created is dropped when it ends (connections still open included)."""
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield database_url(admin_url, name)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
