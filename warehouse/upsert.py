"""`INSERT … ON CONFLICT` on the natural key: the one way the warehouse creates a row that a
concurrent writer may create too (two crawl tasks, a harvest and a deadlines check).

A check-then-insert loses the race: both writers see nothing, both insert, one fails on the
unique index. With ON CONFLICT the second writer waits for the first to commit and then
does nothing, or updates the row, in the same statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert


def insert_for(bind: Session | Connection, table: Table) -> Any:
    """The dialect's INSERT (PostgreSQL and SQLite both know ON CONFLICT)."""
    dialect = bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no ON CONFLICT for the {dialect} dialect")


def insert_missing(bind: Session | Connection, table: Table, rows: Sequence[Mapping[str, Any]],
                   key: Sequence[str], *, where: ColumnElement[bool] | None = None,
                   returning: Iterable[str] = ()) -> list[Any]:
    """Insert the rows whose key is not taken; returns the `returning` columns of those inserted.
    `where` names the partial unique index of the key (e.g. open alerts only)."""
    if not rows:
        return []
    # The rows as parameters of one statement (SQLAlchemy sends them as multi-row VALUES batches,
    # compiled once), not as literal values of a statement compiled anew for every call.
    statement: Insert = insert_for(bind, table).on_conflict_do_nothing(index_elements=list(key), index_where=where)
    wanted = [table.c[name] for name in returning]
    if wanted:
        return list(bind.execute(statement.returning(*wanted), list(rows)).all())
    bind.execute(statement, list(rows))
    return []


def upsert(bind: Session | Connection, table: Table, row: Mapping[str, Any], key: Sequence[str],
           update: Sequence[str], *, always: Mapping[str, Any] | None = None) -> None:
    """Insert `row`, or update the `update` columns of the row with its key — only when one of
    them differs (an unchanged row is not touched); `always` is set too on such an update
    (e.g. updated_at)."""
    statement = insert_for(bind, table).values(dict(row))
    excluded = statement.excluded
    changed = or_(*(table.c[name].is_distinct_from(excluded[name]) for name in update))
    statement = statement.on_conflict_do_update(
        index_elements=list(key), set_={**{name: excluded[name] for name in update}, **(always or {})},
        where=changed)
    bind.execute(statement)
