"""Loading into the warehouse: registry rows, document versions and report records.

Every load is idempotent: the same record for the same document version changes
nothing. A report is written in one transaction (a failure leaves nothing of it),
and a transaction that loses its database connection is retried with a bounded
backoff. `bulk_load` is the fast path (COPY on PostgreSQL) with the same rules,
one transaction per batch of reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from report.document import DOCUMENT_FIELDS, DocumentVersion, Part, parts_to_json
from report.record import EMPTY_MARKERS, ReportRecord
from warehouse import regions, wide
from warehouse.db import session_scope
from warehouse.models import (
    AGENCY_KINDS,
    AGENCY_LEVELS,
    REPORT_STATUSES,
    Agency,
    Cell,
    CellSource,
    Document,
    Finding,
    Region,
    Report,
    ReportSection,
    Source,
    utcnow,
)
from warehouse.upsert import insert_for, insert_missing, upsert

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_ATTEMPTS = 4
RETRY_BASE_DELAY = 0.2
RETRY_MAX_DELAY = 2.0
BULK_BATCH_SIZE = 500
INSERT_CHUNK = 1000  # rows per INSERT … ON CONFLICT (bind parameters stay far below the limits)

_reports: Table = Report.__table__  # type: ignore[assignment]
_cells: Table = Cell.__table__  # type: ignore[assignment]
_cell_sources: Table = CellSource.__table__  # type: ignore[assignment]
_findings: Table = Finding.__table__  # type: ignore[assignment]
_sections: Table = ReportSection.__table__  # type: ignore[assignment]
_documents: Table = Document.__table__  # type: ignore[assignment]
_agencies: Table = Agency.__table__  # type: ignore[assignment]
_sources: Table = Source.__table__  # type: ignore[assignment]
_regions: Table = Region.__table__  # type: ignore[assignment]
CELL_COLUMNS = ("report_id", "key", "value", "raw", "null_reason")
SOURCE_COLUMNS = ("report_id", "key", "page", "x0", "y0", "x1", "y1", "unit", "grid_table", "text",
                  "confidence", "corrected")


@dataclass(frozen=True)
class LoadResult:
    report_id: int
    changed: bool
    status: str = "accepted"
    is_current: bool = True
    replaced: bool = False  # the same document version was loaded before with other content


@dataclass
class LoadItem:
    """A record to load, with the agency and document version it belongs to.

    agency_id is the warehouse id or the agency's slug; the document defaults to
    the record's provenance (sha256, url).
    """

    record: ReportRecord
    agency_id: int | str
    document_sha256: str | None = None
    document_url: str | None = None
    status: str | None = None


@dataclass
class BulkResult:
    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0
    cells: int = 0
    report_ids: list[int] = field(default_factory=list)


class LoadError(ValueError):
    """A record that cannot be loaded as given (missing year, unknown agency, …)."""


# ---------------------------------------------------------------- retries
def is_transient(exc: BaseException) -> bool:
    """A lost connection, a busy database or a lost race: worth running the transaction again."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig or exc
    message = str(exc).lower()
    if type(exc).__module__.startswith("sqlite3"):
        return "locked" in message or "busy" in message or "unique constraint failed" in message
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.OperationalError | psycopg.errors.UniqueViolation)


def with_retries(work: Callable[[], T], *, attempts: int | None = None, base_delay: float | None = None) -> T:
    """Run `work` (one whole transaction) again after a transient failure, at most `attempts` times
    (default RETRY_ATTEMPTS), waiting base_delay, 2 × base_delay, … up to RETRY_MAX_DELAY between."""
    attempts = RETRY_ATTEMPTS if attempts is None else attempts
    base_delay = RETRY_BASE_DELAY if base_delay is None else base_delay
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            delay = min(RETRY_MAX_DELAY, base_delay * 2 ** (attempt - 1))
            log.warning("transient database failure (attempt %d/%d), retrying in %.1fs: %s",
                        attempt, attempts, delay, exc)
            time.sleep(delay)
    raise AssertionError("unreachable")


def in_transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    """`work` in one session transaction, run again from the start after a transient failure
    (it must be idempotent, and change nothing outside the transaction before it commits)."""
    def attempt() -> T:
        with session_scope(engine) as session:
            return work(session)

    return with_retries(attempt)


# ---------------------------------------------------------------- registry rows
_REGION_CODE = re.compile(r"^\d{6}$")


def region_ancestors(code: str) -> list[str]:
    """The province and prefecture codes above a region code (not including itself)."""
    province, prefecture = code[:2] + "0000", code[:4] + "00"
    return [c for c in (province, prefecture) if c != code and not (c == prefecture and code == province)]


def ensure_region(session: Session, code: str, name: str | None = None) -> Region:
    """The region row for a 6-digit code, created with its province and prefecture if missing
    (INSERT … ON CONFLICT: two crawl tasks of one province may create them at once)."""
    if not _REGION_CODE.match(code or ""):
        raise LoadError(f"region code must be 6 digits (行政区划代码), got {code!r}")
    parent: str | None = None
    for ancestor in region_ancestors(code):
        insert_missing(session, _regions, [_region_row(ancestor, None, parent)], ["code"])
        parent = ancestor
    row = _region_row(code, name, parent)
    if name:
        upsert(session, _regions, row, ["code"], ["name"])
    else:  # keep a name given before; fill one that was unknown
        statement = insert_for(session, _regions).values(row)
        session.execute(statement.on_conflict_do_update(
            index_elements=["code"], set_={"name": statement.excluded.name},
            where=_regions.c.name.is_(None) & statement.excluded.name.is_not(None)))
    region = session.get(Region, code, populate_existing=True)
    assert region is not None
    return region


def _region_row(code: str, name: str | None, parent: str | None) -> dict[str, Any]:
    return {"code": code, "name": name or regions.name(code), "level": regions.region_tier(code),
            "parent_code": parent}


def upsert_source(session: Session, *, id: str, name: str, cms: str | None = None, base_url: str | None = None,
                  region_code: str | None = None, config: dict[str, Any] | None = None) -> Source:
    if region_code:
        ensure_region(session, region_code)
    now = utcnow()
    values = {"name": name, "cms": cms, "base_url": base_url, "region_code": region_code, "config": config}
    upsert(session, _sources, {"id": id, **values, "created_at": now, "updated_at": now}, ["id"], list(values),
           always={"updated_at": now})
    source = session.get(Source, id, populate_existing=True)
    assert source is not None
    return source


_WIDE_AGENCY_COLUMNS = ("name", "region_code", "level", "kind", "tier")


def upsert_agency(session: Session, *, slug: str, name: str, region_code: str | None, level: str,
                  kind: str, expected: bool = True, first_year: int | None = None,
                  last_year: int | None = None, source_id: str | None = None,
                  region_name: str | None = None) -> Agency:
    """Create or update the agency with this slug; running it twice changes nothing.

    The region (and its province and prefecture) is created when missing;
    `region_name` names it.
    """
    if level not in AGENCY_LEVELS:
        raise LoadError(f"agency level must be one of {AGENCY_LEVELS}, got {level!r}")
    if kind not in AGENCY_KINDS:
        raise LoadError(f"agency kind must be one of {AGENCY_KINDS}, got {kind!r}")
    if region_code:
        ensure_region(session, region_code, region_name)
    values = {"name": name, "region_code": region_code, "level": level, "kind": kind, "expected": expected,
              "first_year": first_year, "last_year": last_year, "source_id": source_id,
              "tier": regions.agency_tier(region_code, level)}
    before = session.execute(select(*(_agencies.c[c] for c in _WIDE_AGENCY_COLUMNS))
                             .where(_agencies.c.slug == slug)).first()
    now = utcnow()
    upsert(session, _agencies, {"slug": slug, **values, "created_at": now, "updated_at": now}, ["slug"],
           list(values), always={"updated_at": now})
    agency = session.scalars(select(Agency).where(Agency.slug == slug)
                             .execution_options(populate_existing=True)).one()
    if before is not None and tuple(before) != tuple(values[c] for c in _WIDE_AGENCY_COLUMNS):
        wide.refresh_agency(session.connection(), agency.id)
    return agency


# The document contract's fields the warehouse keeps, and their column (the same name but one).
_DOCUMENT_COLUMNS = {name: "agency_name" if name == "agency" else name for name in DOCUMENT_FIELDS
                     if name not in ("id", "run_id", "real_kind", "filename", "referer")}
_LINKS = ("agency_id", "crawl_run_id")


def stored_parts(parts: Any) -> str | None:
    """A document version's parts as the documents table keeps them (JSON, None for one file)."""
    return parts_to_json([p if isinstance(p, Part) else Part(**p) for p in parts or ()])


def record_document(session: Session, document: DocumentVersion | Mapping[str, Any], *,
                    agency_id: int | None = None, crawl_run_id: int | None = None) -> Document:
    """Record one document version, a row per (url, sha256).

    `document` is a `report.document.DocumentVersion`, or a mapping with its field names
    (url and sha256 at least; agency_id and crawl_run_id may come with it); any other name
    is a LoadError, never silently dropped. Seeing a known version again only updates
    last_checked_at and fills fields that were unknown; first_seen_at never moves.
    """
    data = dict(document.as_dict() if isinstance(document, DocumentVersion) else document)
    unknown = set(data) - set(DOCUMENT_FIELDS) - set(_LINKS)
    if unknown:
        raise LoadError(f"not fields of a document version: {', '.join(sorted(unknown))}")
    data.update({name: value for name, value in (("agency_id", agency_id), ("crawl_run_id", crawl_run_id))
                 if value is not None})
    url, sha256 = data.get("url"), data.get("sha256")
    if not url or not sha256:
        raise LoadError("a document needs both url and sha256")
    values = {column: data[name] for name, column in {**_DOCUMENT_COLUMNS, **{n: n for n in _LINKS}}.items()
              if data.get(name) is not None}
    if "listing_date" in values:
        values["listing_date"] = parse_date(values["listing_date"])
    if "parts" in values:
        values["parts"] = stored_parts(values["parts"])
    for moment in ("first_seen_at", "last_checked_at"):
        if isinstance(values.get(moment), str):
            values[moment] = dt.datetime.fromisoformat(values[moment])
    now = utcnow()
    inserted = insert_missing(session, _documents, [{"first_seen_at": now, "last_checked_at": now, **values}],
                              ["url", "sha256"], returning=["id"])
    document_row = session.scalars(select(Document).where(Document.url == url, Document.sha256 == sha256)
                                   .execution_options(populate_existing=True)).one()
    if not inserted:   # seen before (or by a concurrent writer just now)
        for column, value in values.items():
            if column == "last_checked_at" or (column != "first_seen_at" and getattr(document_row, column) is None):
                setattr(document_row, column, value)
        if "last_checked_at" not in values:
            document_row.last_checked_at = now
        session.flush()
    return document_row


def parse_date(value: Any) -> dt.date | None:
    """A listing date as a date; None for what cannot be read (e.g. 2024年1月20日 is read)."""
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    match = re.search(r"(\d{4})\D{1,2}(\d{1,2})\D{1,2}(\d{1,2})", str(value))
    if not match:
        log.warning("unreadable listing date %r stored as unknown", value)
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        log.warning("impossible listing date %r stored as unknown", value)
        return None


# ---------------------------------------------------------------- report records → rows
def decide_status(record: ReportRecord) -> str:
    """Quarantined when any finding is an error (a broken hard identity), accepted otherwise."""
    return "quarantined" if record.errors() else "accepted"


def content_hash(record: ReportRecord, status: str) -> str:
    """What makes two loads of the same document version the same: content and status."""
    payload: dict[str, Any] = {
        "year": record.year, "format": record.format, "title": record.title, "status": status,
        "cells": record.cells, "raw": record.raw, "sections": record.sections,
        "findings": [finding.model_dump(mode="json") for finding in record.findings],
    }
    if record.cell_sources:  # a record without sources hashes as before they existed
        payload["cell_sources"] = {key: source.model_dump(mode="json") for key, source in record.cell_sources.items()}
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def null_reason(value: Any, raw: str | None) -> str | None:
    if value is not None:
        return None
    return "empty" if (raw or "").strip() in EMPTY_MARKERS else "text"


def cell_rows(report_id: int, record: ReportRecord) -> Iterator[tuple[Any, ...]]:
    """The long-form rows of a record: every printed cell, with its raw string and why it is null."""
    printed = record.raw
    for key, value in record.cells.items():
        raw = printed.get(key)
        yield report_id, key, value, raw, None if value is not None else null_reason(value, raw)
    for key in printed.keys() - record.cells.keys():
        yield report_id, key, None, printed[key], null_reason(None, printed[key])


def source_rows(report_id: int, record: ReportRecord) -> Iterator[tuple[Any, ...]]:
    """Where each cell was printed, one row per cell the record has a source for."""
    for key, source in record.cell_sources.items():
        x0, y0, x1, y1 = source.bbox or (None, None, None, None)
        yield (report_id, key, source.page, x0, y0, x1, y1, source.unit, source.table, source.text,
               source.confidence, source.corrected)


@dataclass
class _Prepared:
    item: LoadItem
    agency_id: int
    url: str
    sha256: str
    status: str
    hash: str
    document_id: int = 0
    report_id: int = 0
    outcome: str = "new"  # new | replaced | unchanged


def _prepare(item: LoadItem, agency_ids: Mapping[int | str, int]) -> _Prepared:
    record = item.record
    if record.year is None:
        raise LoadError(f"record for {record.agency or 'an unknown agency'} has no year")
    sha256 = item.document_sha256 or record.provenance.sha256
    if not sha256:
        raise LoadError(f"record {record.agency} {record.year} has no document sha256")
    agency_id = agency_ids.get(item.agency_id)
    if agency_id is None:
        raise LoadError(f"unknown agency {item.agency_id!r}: register it with upsert_agency first")
    status = item.status or decide_status(record)
    if status not in REPORT_STATUSES:
        raise LoadError(f"status must be one of {REPORT_STATUSES}, got {status!r}")
    url = item.document_url or record.provenance.url or f"urn:sha256:{sha256}"
    return _Prepared(item, agency_id, url, sha256, status, content_hash(record, status))


# ---------------------------------------------------------------- the loader
def load_report(target: Session | Engine, record: ReportRecord, *, agency_id: int | str,
                document_sha256: str | None = None, document_url: str | None = None,
                status: str | None = None) -> LoadResult:
    """Load one report record in one transaction.

    With an engine the transaction is retried after a lost connection. With a
    session: if the session is already inside a transaction the caller owns it
    (this only flushes); otherwise the load commits, and is retried, by itself.
    """
    item = LoadItem(record, agency_id, document_sha256, document_url, status)
    if isinstance(target, Engine):
        return with_retries(lambda: _load_on_engine(target, [item])[0])
    session = target
    if session.in_transaction():
        session.flush()
        return _load_batch(session.connection(), [item])[0]

    def in_own_transaction() -> LoadResult:
        with session.begin():
            return _load_batch(session.connection(), [item])[0]

    return with_retries(in_own_transaction)


def bulk_load(engine: Engine, items: Iterable[LoadItem], *, batch_size: int = BULK_BATCH_SIZE) -> BulkResult:
    """Load many records fast: one transaction per batch, COPY for the cells on PostgreSQL.

    Same rules as load_report (idempotent, superseding, retried), but a failed batch
    is rolled back whole, so a report is never half-written.
    """
    total = BulkResult()
    for batch in _batches(items, batch_size):
        results = with_retries(partial(_load_on_engine, engine, batch))
        for result, item in zip(results, batch, strict=True):
            total.report_ids.append(result.report_id)
            if not result.changed:
                total.unchanged += 1
                continue
            total.cells += len(item.record.cells.keys() | item.record.raw.keys())
            total.loaded += 1
            total.replaced += result.replaced
    return total


def _batches(items: Iterable[LoadItem], size: int) -> Iterator[list[LoadItem]]:
    """Batches of at most `size` items in which no report appears twice: a repeat starts a new
    batch, where it finds its twin already loaded (and changes nothing, if it is the same)."""
    batch: list[LoadItem] = []
    seen: set[tuple[Any, ...]] = set()
    for item in items:
        provenance = item.record.provenance
        identity = (item.agency_id, item.record.year, item.document_sha256 or provenance.sha256,
                    item.document_url or provenance.url)
        if len(batch) == size or identity in seen:
            yield batch
            batch, seen = [], set()
        batch.append(item)
        seen.add(identity)
    if batch:
        yield batch


def _load_on_engine(engine: Engine, items: Sequence[LoadItem]) -> list[LoadResult]:
    with engine.begin() as conn:
        return _load_batch(conn, items)


def _load_batch(conn: Connection, items: Sequence[LoadItem]) -> list[LoadResult]:
    agency_ids = _agency_ids(conn, items)
    prepared = [_prepare(item, agency_ids) for item in items]
    _attach_documents(conn, prepared)
    _match_existing_reports(conn, prepared)
    _insert_new_reports(conn, [p for p in prepared if p.outcome == "new"])
    changed = [p for p in prepared if p.outcome != "unchanged"]
    _remove_replaced_content(conn, [p for p in changed if p.outcome == "replaced"])
    _write_cells(conn, changed)
    _write_findings_and_sections(conn, changed)
    changed_years = {(p.agency_id, p.item.record.year) for p in changed}
    current = settle_current(conn, changed_years)  # type: ignore[arg-type]
    wide.refresh(conn, changed_years)  # type: ignore[arg-type]
    results = []
    for p in prepared:
        is_current = p.report_id in current if p.outcome != "unchanged" else _is_current(conn, p.report_id)
        results.append(LoadResult(p.report_id, p.outcome != "unchanged", p.status, is_current,
                                  replaced=p.outcome == "replaced"))
    return results


def _agency_ids(conn: Connection, items: Sequence[LoadItem]) -> dict[int | str, int]:
    wanted_ids = {i.agency_id for i in items if isinstance(i.agency_id, int)}
    wanted_slugs = {i.agency_id for i in items if isinstance(i.agency_id, str)}
    found: dict[int | str, int] = {}
    if wanted_ids:
        for (agency_id,) in conn.execute(select(_agencies.c.id).where(_agencies.c.id.in_(wanted_ids))):
            found[agency_id] = agency_id
    if wanted_slugs:
        rows = conn.execute(select(_agencies.c.slug, _agencies.c.id).where(_agencies.c.slug.in_(wanted_slugs)))
        found.update(dict(rows.all()))
    return found


def _attach_documents(conn: Connection, prepared: list[_Prepared]) -> None:
    """Find or create the document version of each record."""
    wanted = {(p.url, p.sha256) for p in prepared}
    known: dict[tuple[str, str], int] = {}
    hashes = sorted({sha for _, sha in wanted})
    rows = conn.execute(select(_documents.c.url, _documents.c.sha256, _documents.c.id)
                        .where(_documents.c.sha256.in_(hashes)))
    for url, sha256, document_id in rows:
        if (url, sha256) in wanted:
            known[(url, sha256)] = document_id
    missing = {}
    for p in prepared:
        if (p.url, p.sha256) not in known and (p.url, p.sha256) not in missing:
            missing[(p.url, p.sha256)] = _document_values(p)
    if missing:
        _drop_unknown_sources(conn, list(missing.values()))
        values = list(missing.values())
        for start in range(0, len(values), INSERT_CHUNK):
            inserted = insert_missing(conn, _documents, values[start:start + INSERT_CHUNK], ["url", "sha256"],
                                      returning=["url", "sha256", "id"])
            known.update({(url, sha256): document_id for url, sha256, document_id in inserted})
        lost = sorted({sha for url, sha in missing if (url, sha) not in known})   # a concurrent writer's rows
        if lost:
            found = conn.execute(select(_documents.c.url, _documents.c.sha256, _documents.c.id)
                                 .where(_documents.c.sha256.in_(lost)))
            known.update({(url, sha256): document_id for url, sha256, document_id in found
                          if (url, sha256) in missing})
    for p in prepared:
        p.document_id = known[(p.url, p.sha256)]


def _document_values(p: _Prepared) -> dict[str, Any]:
    provenance = p.item.record.provenance
    now = utcnow()
    return {"url": p.url, "sha256": p.sha256, "agency_id": p.agency_id, "agency_name": p.item.record.agency,
            "source_id": provenance.source_id, "listing_title": provenance.listing_title,
            "listing_date": parse_date(provenance.listing_date), "content_type": provenance.content_type,
            "year": None, "size": None, "etag": None, "last_modified": None, "storage_key": None,
            "crawl_run_id": None, "first_seen_at": now, "last_checked_at": now}


def _drop_unknown_sources(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A source id that is not registered is not kept on the document (it would break the foreign key)."""
    wanted = {row["source_id"] for row in rows if row["source_id"]}
    known = set(conn.scalars(select(_sources.c.id).where(_sources.c.id.in_(wanted)))) if wanted else set()
    for row in rows:
        if row["source_id"] not in known:
            row["source_id"] = None


def _match_existing_reports(conn: Connection, prepared: list[_Prepared]) -> None:
    document_ids = {p.document_id for p in prepared}
    rows = conn.execute(select(_reports.c.agency_id, _reports.c.year, _reports.c.document_id,
                               _reports.c.id, _reports.c.content_hash)
                        .where(_reports.c.document_id.in_(document_ids)))
    existing = {(a, y, d): (report_id, h) for a, y, d, report_id, h in rows}
    seen_in_batch: dict[tuple[int, int, int], _Prepared] = {}
    for p in prepared:
        identity = (p.agency_id, p.item.record.year, p.document_id)
        if identity in seen_in_batch:
            raise LoadError(f"the same report appears twice in one batch: agency {p.agency_id}, "
                            f"year {p.item.record.year}, document {p.sha256[:12]}")
        seen_in_batch[identity] = p  # type: ignore[index]
        if identity in existing:
            p.report_id, stored_hash = existing[identity]  # type: ignore[index]
            p.outcome = "unchanged" if stored_hash == p.hash else "replaced"


def _report_values(p: _Prepared) -> dict[str, Any]:
    record = p.item.record
    return {"agency_id": p.agency_id, "year": record.year, "document_id": p.document_id,
            "format": record.format, "title": record.title, "status": p.status,
            "extractor_version": record.provenance.extractor_version, "reader": record.provenance.reader,
            "content_hash": p.hash, "updated_at": utcnow()}


def _remove_replaced_content(conn: Connection, replaced: list[_Prepared]) -> None:
    """A document version re-extracted with different content: its rows are rewritten in place."""
    if not replaced:
        return
    ids = [p.report_id for p in replaced]
    for table in (_cells, _cell_sources, _findings, _sections):
        conn.execute(delete(table).where(table.c.report_id.in_(ids)))
    for p in replaced:
        conn.execute(update(_reports).where(_reports.c.id == p.report_id).values(**_report_values(p)))


def _insert_new_reports(conn: Connection, new: list[_Prepared]) -> None:
    """Insert the new reports (ON CONFLICT on agency, year and document). A report a concurrent
    loader inserted first is matched again: unchanged, or replaced by this load."""
    if not new:
        return
    by_identity = {(p.agency_id, p.item.record.year, p.document_id): p for p in new}
    for start in range(0, len(new), INSERT_CHUNK):
        chunk = new[start:start + INSERT_CHUNK]
        rows = [{**_report_values(p), "is_current": False, "superseded_by_id": None, "loaded_at": utcnow()}
                for p in chunk]
        inserted = insert_missing(conn, _reports, rows, ["agency_id", "year", "document_id"],
                                  returning=["agency_id", "year", "document_id", "id"])
        for agency_id, year, document_id, report_id in inserted:
            by_identity[(agency_id, year, document_id)].report_id = report_id
    lost = [p for p in new if not p.report_id]
    if lost:
        _match_existing_reports(conn, lost)


def _write_cells(conn: Connection, changed: list[_Prepared]) -> None:
    write_rows(conn, _cells, CELL_COLUMNS, (row for p in changed for row in cell_rows(p.report_id, p.item.record)))
    write_rows(conn, _cell_sources, SOURCE_COLUMNS,
               (row for p in changed for row in source_rows(p.report_id, p.item.record)))


def write_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL, executemany elsewhere."""
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table.name, columns, rows)
        return
    batch = [dict(zip(columns, row, strict=True)) for row in rows]
    if batch:
        conn.execute(insert(table), batch)


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows into a PostgreSQL table inside the connection's transaction; returns the count."""
    import psycopg

    driver_connection = conn.connection.driver_connection
    assert isinstance(driver_connection, psycopg.Connection)
    count = 0
    try:
        with driver_connection.cursor() as cursor, \
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    except psycopg.OperationalError:
        if driver_connection.broken:
            conn.invalidate()
        raise
    return count


def _write_findings_and_sections(conn: Connection, changed: list[_Prepared]) -> None:
    findings = [{"report_id": p.report_id, "rule": f.rule, "severity": f.severity, "cells": list(f.cells),
                 "message": f.message, "message_en": f.message_en or None}
                for p in changed for f in p.item.record.findings]
    if findings:
        conn.execute(insert(_findings), findings)
    sections = ((p.report_id, name, text) for p in changed
                for name, text in p.item.record.sections.items() if text is not None)
    write_rows(conn, _sections, ("report_id", "section", "text"), sections)


def version_rank(status: str, listing_date: dt.date | None, url: str, first_seen_at: dt.datetime,
                 report_id: int) -> tuple[bool, dt.date, str, dt.datetime, int]:
    """How good a version of an agency-year's report is, best highest: an accepted report beats a
    quarantined one (a version that breaks a hard identity never hides one that holds); among
    equals the one the portal lists as newest, then (two documents of one listing) the URL, so
    that hosts loading in another order agree; a document republished at its URL: the one first
    seen last (ties: the report loaded last)."""
    return status == "accepted", listing_date or dt.date.min, url, first_seen_at, report_id


def settle_current(conn: Connection, agency_years: set[tuple[int, int]]) -> set[int]:
    """Make the best version (`version_rank`) current for each agency-year.

    The others stay as history, not current, pointing at the current one. The outcome
    depends only on the versions, never on the order they were loaded in. Returns the
    ids of the current reports.
    """
    if not agency_years:
        return set()
    _settle_in_turn(conn, agency_years)
    agencies = {agency for agency, _ in agency_years}
    years = {year for _, year in agency_years}
    rows = conn.execute(
        select(_reports.c.id, _reports.c.agency_id, _reports.c.year, _reports.c.is_current, _reports.c.status,
               _reports.c.superseded_by_id, _documents.c.first_seen_at, _documents.c.listing_date,
               _documents.c.url)
        .join(_documents, _documents.c.id == _reports.c.document_id)
        .where(_reports.c.agency_id.in_(agencies), _reports.c.year.in_(years)))
    groups: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for row in rows:
        if (row.agency_id, row.year) in agency_years:
            groups[(row.agency_id, row.year)].append(row)
    demote, promote, current = [], [], set()
    for versions in groups.values():
        winner = max(versions, key=lambda r: version_rank(r.status, r.listing_date, r.url, r.first_seen_at, r.id))
        current.add(winner.id)
        if not winner.is_current or winner.superseded_by_id is not None:
            promote.append({"rid": winner.id, "cur": True, "sup": None})
        demote += [{"rid": r.id, "cur": False, "sup": winner.id} for r in versions
                   if r.id != winner.id and (r.is_current or r.superseded_by_id != winner.id)]
    statement = (update(_reports).where(_reports.c.id == bindparam("rid"))
                 .values(is_current=bindparam("cur"), superseded_by_id=bindparam("sup")))
    for batch in (demote, promote):  # demote first: at most one current report per agency-year
        if batch:
            conn.execute(statement, batch)
    return current


def _settle_in_turn(conn: Connection, agency_years: set[tuple[int, int]]) -> None:
    """Two loaders settling one agency-year take turns (PostgreSQL: a transaction's advisory lock
    per agency-year, taken in one order, in one statement: a batch settles hundreds). Without it each reads the versions the other has not
    committed yet, and one that finds an old version best (no promotion, so no unique-index
    conflict to make it retry) leaves its own pointing at a report that is no longer current.
    SQLite has one writer at a time already."""
    if conn.dialect.name != "postgresql":
        return
    ordered = sorted(agency_years)  # one order for every loader: two never wait on each other
    conn.execute(text("SELECT pg_advisory_xact_lock(agency, year) FROM (SELECT * FROM unnest("
                      "CAST(:agencies AS integer[]), CAST(:years AS integer[])) WITH ORDINALITY AS "
                      "t(agency, year, turn) ORDER BY turn) AS wanted"),
                 {"agencies": [agency for agency, _ in ordered], "years": [year for _, year in ordered]})


def _is_current(conn: Connection, report_id: int) -> bool:
    return bool(conn.scalar(select(_reports.c.is_current).where(_reports.c.id == report_id)))
