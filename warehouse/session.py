"""The one way into the warehouse for the application: an engine or a session for one URL,
disposed of when the block ends.

    with warehouse_session(url) as session:                  # one transaction, committed on success
        ...
    with warehouse_engine(url) as engine:                    # several transactions on one engine
        with session_scope(engine) as session: ...
    with warehouse_session(url, read_only=True) as session:  # never creates a database
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from warehouse.db import make_engine, session_scope
from warehouse.query import read_only_engine


@contextmanager
def warehouse_engine(url: str, *, read_only: bool = False) -> Iterator[Engine]:
    """`read_only`: a missing SQLite file is a WarehouseError, never a new empty database."""
    engine = read_only_engine(url) if read_only else make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def warehouse_session(url: str, *, read_only: bool = False) -> Iterator[Session]:
    with warehouse_engine(url, read_only=read_only) as engine, session_scope(engine) as session:
        yield session
