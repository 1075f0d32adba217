"""Read-only SQL for researchers: `nianbao query "SQL"`.

SQLite is opened read-only (`mode=ro` URI, `PRAGMA query_only`); PostgreSQL
connections default to read-only transactions and each query runs inside
`SET TRANSACTION READ ONLY`. One statement per call.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from warehouse.db import SQLITE_BUSY_TIMEOUT_MS, is_sqlite, resolve_url, sqlite_path


class WarehouseError(RuntimeError):
    """A problem the user can fix: no warehouse yet, a bad query, …"""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def read_only_engine(url: str | None = None) -> Engine:
    resolved = resolve_url(url)
    if is_sqlite(resolved):
        path = sqlite_path(resolved)
        if path is None:
            raise WarehouseError("an in-memory SQLite database cannot be opened read-only")
        if not path.exists():
            raise WarehouseError(f"no warehouse at {path}: run `nianbao db upgrade` first")
        # The URI is built here, quoted: SQLAlchemy would pass a '#' or '?' of the path on unquoted.
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(
            uri, uri=True, check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000))
        event.listen(engine, "connect", _sqlite_query_only)
        return engine
    parsed = make_url(resolved)
    return create_engine(parsed, pool_pre_ping=True,
                         connect_args={"options": "-c default_transaction_read_only=on"})


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only=ON")
    dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


@contextmanager
def read_only_connection(url: str | None = None) -> Iterator[Connection]:
    engine = read_only_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            try:
                yield conn
            finally:
                conn.rollback()
    except SQLAlchemyError as exc:
        raise WarehouseError(_short(exc)) from exc
    finally:
        engine.dispose()


def run_query(sql: str, url: str | None = None, *, params: dict[str, Any] | None = None,
              limit: int | None = None) -> QueryResult:
    """Run one read-only statement and return its columns and rows (at most `limit` rows)."""
    statement = single_statement(sql)
    with read_only_connection(url) as conn:
        try:
            result = conn.execute(text(statement), params or {})
        except SQLAlchemyError as exc:
            raise WarehouseError(_short(exc)) from exc
        if not result.returns_rows:
            return QueryResult([], [])
        rows = result.fetchmany(limit) if limit is not None else result.fetchall()
        return QueryResult(list(result.keys()), [tuple(row) for row in rows])


_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|(\$[A-Za-z_]*\$).*?\1|(;)""", re.S)


def single_statement(sql: str) -> str:
    """The statement without a trailing semicolon; more than one statement is refused."""
    body = sql.strip()
    semicolons = [match.start(2) for match in _TOKENS.finditer(body) if match.group(2)]
    if semicolons and semicolons[-1] == len(body) - 1:
        body = body[:-1].rstrip()
        semicolons.pop()
    if semicolons:
        raise WarehouseError("one statement at a time, please")
    if not body:
        raise WarehouseError("empty query")
    return body


def _short(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().splitlines()[0]

