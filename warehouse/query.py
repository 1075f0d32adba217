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
    truncated: bool = False  # more rows than the limit


def read_only_engine(url: str | None = None, **kwargs: Any) -> Engine:
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
            uri, uri=True, check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000), **kwargs)
        event.listen(engine, "connect", _sqlite_query_only)
        return engine
    parsed = make_url(resolved)
    return create_engine(parsed, pool_pre_ping=True,
                         connect_args={"options": "-c default_transaction_read_only=on"}, **kwargs)


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only=ON")
    dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    dbapi_connection.set_authorizer(_read_only_authorizer)


# What a read-only connection may do: read, call functions, and ask the schema PRAGMAs.
# ATTACH is refused above all: in SQLite it creates the file it names.
_ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                              sqlite3.SQLITE_RECURSIVE, sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT})
_READ_PRAGMAS = frozenset({"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
                           "foreign_key_list", "database_list", "table_list", "compile_options",
                           "data_version"})  # FTS5 asks data_version


def _read_only_authorizer(action: int, arg1: str | None, _arg2: str | None, _db: str | None,
                          _trigger: str | None) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _READ_PRAGMAS:  # none of them writes
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        return sqlite3.SQLITE_OK  # FTS5 declaring its table when it opens; mode=ro keeps the file as it is
    return sqlite3.SQLITE_DENY


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
              limit: int | None = None, timeout: float | None = None) -> QueryResult:
    """Run one read-only statement and return its columns and rows (at most `limit` rows)."""
    with read_only_connection(url) as conn:
        return run_on(conn, sql, params=params, limit=limit, timeout=timeout)


def run_on(conn: Connection, sql: str, *, params: dict[str, Any] | None = None, limit: int | None = None,
           timeout: float | None = None) -> QueryResult:
    """One statement on a read-only connection, stopped after `timeout` seconds, cut after `limit` rows."""
    statement = single_statement(sql)
    try:
        with _time_limit(conn, timeout):
            # On PostgreSQL a server-side cursor: only the rows kept cross the wire, and the
            # planner favours plans that yield the first rows soon (an index read in order).
            streamed = {"stream_results": True} if limit is not None and conn.dialect.name == "postgresql" else {}
            result = conn.execute(text(statement), params or {}, execution_options=streamed)
            if not result.returns_rows:
                return QueryResult([], [])
            rows = result.fetchmany(limit + 1) if limit is not None else result.fetchall()
            columns = list(result.keys())
            result.close()
    except SQLAlchemyError as exc:
        raise WarehouseError(_timeout_message(exc, timeout)) from exc
    truncated = limit is not None and len(rows) > limit
    return QueryResult(columns, [tuple(row) for row in rows[:limit]], truncated)


@contextmanager
def _time_limit(conn: Connection, seconds: float | None) -> Iterator[None]:
    if seconds is None:
        yield
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
        yield
        return
    import time

    deadline = time.monotonic() + seconds
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        yield
    finally:
        driver.set_progress_handler(None, 0)


def _timeout_message(exc: SQLAlchemyError, timeout: float | None) -> str:
    message = _short(exc)
    if timeout is not None and ("interrupted" in message or "statement timeout" in message):
        return f"the query took longer than {timeout:g} s and was stopped"
    if "not authorized" in message:
        return f"{message}: only reading is allowed (no ATTACH, PRAGMA changes or writes)"
    return message


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

