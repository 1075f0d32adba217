"""The bookkeeping of documents that are no report (not a report, or extraction failed), many at a time.

A national night has ~100,000 new document versions; recording each in its own transaction
costs several round trips per document. Here a chunk of them is one transaction: their rows
(`INSERT … ON CONFLICT (url, sha256) DO UPDATE`, with `record_document`'s rule: first_seen_at
never moves, a known field is never blanked) and their extraction attempts (none twice for one
extractor version, so a retried load adds nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from report.document import DocumentVersion
from report.record import Provenance
from warehouse.load import _DOCUMENT_COLUMNS, parse_date, stored_parts
from warehouse.models import Document, ExtractionAttempt

_DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]
_ATTEMPTS: Table = ExtractionAttempt.__table__  # type: ignore[assignment]
_KEPT = ("first_seen_at",)                 # never moves
_REFRESHED = ("last_checked_at",)          # the newest wins


@dataclass(frozen=True)
class Unloaded:
    """A document version read by `extractor_version` that gave no report."""

    document: DocumentVersion
    agency_id: int | None
    outcome: str                      # not_report | failed
    error: str | None
    provenance: Provenance
    extractor_version: str


def record_unloaded(session: Session, entries: Sequence[Unloaded]) -> list[Unloaded]:
    """Record the versions and their attempts; returns the entries recorded now (not by an earlier try)."""
    if not entries:
        return []
    ids = _upsert_documents(session, entries)
    fresh = _not_attempted(session, entries, ids)
    now = dt.datetime.now(dt.UTC)
    session.execute(_ATTEMPTS.insert(), [_attempt_row(entry, ids[_identity(entry)], now) for entry in fresh])
    return fresh


def _upsert_documents(session: Session, entries: Sequence[Unloaded]) -> dict[tuple[str, str], int]:
    now = dt.datetime.now(dt.UTC)
    rows = list({_identity(e): _document_row(e, now) for e in entries}.values())
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_DOCUMENTS).values(rows)
    updated = {column: statement.excluded[column] for column in _REFRESHED}
    updated |= {column: func.coalesce(_DOCUMENTS.c[column], statement.excluded[column])
                for column in rows[0] if column not in (*_KEPT, *_REFRESHED, "url", "sha256")}
    returned = session.execute(statement.on_conflict_do_update(index_elements=["url", "sha256"], set_=updated)
                               .returning(_DOCUMENTS.c.id, _DOCUMENTS.c.url, _DOCUMENTS.c.sha256))
    return {(url, sha256): document_id for document_id, url, sha256 in returned}


def _not_attempted(session: Session, entries: Sequence[Unloaded], ids: dict[tuple[str, str], int]) -> list[Unloaded]:
    by_version: dict[str, set[int]] = {}
    for entry in entries:
        by_version.setdefault(entry.extractor_version, set()).add(ids[_identity(entry)])
    done = {(document_id, version) for version, document_ids in by_version.items()
            for document_id in session.scalars(select(ExtractionAttempt.document_id).where(
                ExtractionAttempt.document_id.in_(document_ids), ExtractionAttempt.extractor_version == version))}
    fresh, seen = [], set()
    for entry in entries:
        key = (ids[_identity(entry)], entry.extractor_version)
        if key not in done and key not in seen:
            fresh.append(entry)
            seen.add(key)
    return fresh


def _identity(entry: Unloaded) -> tuple[str, str]:
    return entry.document.url, entry.document.sha256


def _document_row(entry: Unloaded, now: dt.datetime) -> dict[str, Any]:
    data = entry.document.as_dict()
    row: dict[str, Any] = {column: data.get(name) for name, column in _DOCUMENT_COLUMNS.items()}
    row["listing_date"] = parse_date(row["listing_date"]) if row["listing_date"] is not None else None
    row["parts"] = stored_parts(row["parts"])
    for moment in ("first_seen_at", "last_checked_at"):
        value = row[moment]
        row[moment] = dt.datetime.fromisoformat(value) if isinstance(value, str) else value or now
    row["agency_id"], row["crawl_run_id"] = entry.agency_id, None
    return row


def _attempt_row(entry: Unloaded, document_id: int, now: dt.datetime) -> dict[str, Any]:
    source = entry.provenance
    ocr_pages = len(source.ocr_pages)
    return {"document_id": document_id, "report_id": None, "attempted_at": now, "reader": source.reader,
            "pages": source.pages, "ocr_used": ocr_pages > 0, "ocr_pages": ocr_pages, "duration_ms": source.duration_ms,
            "extractor_version": entry.extractor_version, "outcome": entry.outcome, "error": entry.error}
