"""The records a harvest run stages between its extract, validate and load tasks (`staged_records`).

A run's plan is written once (its batches are the extract task's map indexes), each row
carries its document version and, once extracted, its record; a row that is loaded keeps
its place (stage `loaded`, record dropped), so that a retried load knows it was done. Rows
of earlier runs that were loaded completely are deleted when a new run is planned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from warehouse.models import STAGES, StagedRecord

PLAN_CHUNK = 5000   # rows per INSERT when a plan is written
table: Table = StagedRecord.__table__  # type: ignore[assignment]


class StagingError(RuntimeError):
    """A staged record that should be there is not: an error of the task, never a silent skip."""


def planned_batches(session: Session, run_id: str) -> list[int]:
    """The batches of the run's plan (empty: not planned yet)."""
    return list(session.scalars(select(StagedRecord.batch).where(StagedRecord.run_id == run_id)
                                .distinct().order_by(StagedRecord.batch)))


def write_plan(session: Session, run_id: str, documents: Sequence[tuple[str, dict[str, Any]]],
               batch_size: int) -> list[int]:
    """Stage (key, document) pairs in this order, `batch_size` to a batch; a plan already written for the
    run is kept as it is (a retried planning task changes nothing). Returns the batches."""
    existing = planned_batches(session, run_id)
    if existing:
        return existing
    now = dt.datetime.now(dt.UTC)
    rows = [{"run_id": run_id, "key": key, "batch": position // batch_size, "position": position,
             "document": document, "stage": "planned", "updated_at": now}   # record: SQL NULL
            for position, (key, document) in enumerate(documents)]
    for start in range(0, len(rows), PLAN_CHUNK):
        session.execute(_insert(session).on_conflict_do_nothing(index_elements=["run_id", "key"]),
                        rows[start:start + PLAN_CHUNK])
    return sorted({position // batch_size for position in range(len(rows))})


def forget_finished_runs(session: Session, keep: str) -> int:
    """Delete the rows of earlier runs whose every row was loaded; returns the rows deleted."""
    unfinished = select(StagedRecord.run_id).where(StagedRecord.stage != "loaded").distinct()
    result = session.execute(delete(StagedRecord).where(StagedRecord.run_id != keep,
                                                        StagedRecord.run_id.not_in(unfinished)))
    return int(getattr(result, "rowcount", 0) or 0)


def batch_rows(session: Session, run_id: str, batch: int) -> list[StagedRecord]:
    """The rows of one batch; an unknown batch is a StagingError."""
    rows = list(session.scalars(select(StagedRecord).where(StagedRecord.run_id == run_id,
                                                           StagedRecord.batch == batch).order_by(StagedRecord.position)))
    if not rows:
        raise StagingError(f"run {run_id} has no staged batch {batch}: was it planned (find_new)?")
    return rows


def save_records(session: Session, run_id: str, records: Sequence[tuple[str, dict[str, Any]]], stage: str) -> None:
    """Store each (key, record) of the run at `stage` (extracted or validated)."""
    if stage not in STAGES:
        raise ValueError(f"not a stage: {stage}")
    if not records:
        return
    statement = update(table).where(table.c.run_id == run_id, table.c.key == bindparam("k")).values(
        record=bindparam("r"), stage=stage, updated_at=dt.datetime.now(dt.UTC))
    session.connection().execute(statement, [{"k": key, "r": record} for key, record in records])


def mark_loaded(session: Session, run_id: str, keys: Sequence[str]) -> None:
    if keys:
        session.execute(update(StagedRecord).where(StagedRecord.run_id == run_id, StagedRecord.key.in_(list(keys)))
                        .values(stage="loaded", record=null(), updated_at=dt.datetime.now(dt.UTC)))


def require_stages(session: Session, run_id: str, batches: Sequence[int], allowed: Sequence[str]) -> None:
    """Every batch is staged and its every row at one of the `allowed` stages, else a StagingError."""
    rows = session.execute(select(StagedRecord.batch, StagedRecord.stage, func.count()).where(
        StagedRecord.run_id == run_id, StagedRecord.batch.in_(list(batches))).group_by(
        StagedRecord.batch, StagedRecord.stage)).all()
    missing = sorted(set(batches) - {batch for batch, _, _ in rows})
    if missing:
        raise StagingError(f"run {run_id}: batch(es) {', '.join(map(str, missing[:20]))} not staged")
    behind: dict[str, int] = {}
    for _, stage, count in rows:
        if stage not in allowed:
            behind[stage] = behind.get(stage, 0) + int(count)
    if behind:
        raise StagingError(f"run {run_id}: {', '.join(f'{n} {s}' for s, n in sorted(behind.items()))} "
                           f"record(s), expected only {' or '.join(allowed)}")


def rows_after(session: Session, run_id: str, stages: Sequence[str], after: int, limit: int) -> list[StagedRecord]:
    """The run's next `limit` rows at these stages after plan position `after` (keyset pagination)."""
    return list(session.scalars(select(StagedRecord).where(
        StagedRecord.run_id == run_id, StagedRecord.position > after, StagedRecord.stage.in_(list(stages)))
        .order_by(StagedRecord.position).limit(limit)))


def _insert(session: Session) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
