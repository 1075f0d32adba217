"""Alembic environment for the warehouse.

The database URL comes from the caller: `warehouse.db.upgrade(url)` (what `nianbao db
upgrade` runs) puts it in the config; the `alembic` command takes it as `-x url=…` or
`sqlalchemy.url` in alembic.ini.
"""

from __future__ import annotations

from alembic import context

from warehouse.db import include_object, make_engine, resolve_url
from warehouse.models import Base
from warehouse.wide import report_facts  # noqa: F401  (declares the materialised table on Base.metadata)

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no warehouse URL: run `nianbao db upgrade`, or give alembic `-x url=…`")
    return resolve_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run_on(conn)
    finally:
        engine.dispose()


# Two processes upgrading one PostgreSQL database at once (say, two Airflow tasks) take
# turns: the second waits for the first's transaction, then finds nothing left to do.
MIGRATION_LOCK_ID = 0x6E69616E  # "nian"


def _run_on(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      include_object=include_object)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
