"""Operational records: crawl runs, extraction attempts and alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from report.record import Provenance
from warehouse.load import LoadError
from warehouse.models import SEVERITIES, Alert, CrawlRun, Document, ExtractionAttempt, utcnow


def start_crawl_run(session: Session, source_id: str | None = None) -> CrawlRun:
    run = CrawlRun(source_id=source_id, started_at=utcnow())
    session.add(run)
    session.flush()
    return run


def finish_crawl_run(session: Session, run_id: int, *, stats: dict[str, Any] | None = None,
                     finish_reason: str | None = None) -> CrawlRun:
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LoadError(f"no crawl run {run_id}")
    run.finished_at = utcnow()
    run.stats = stats
    run.finish_reason = finish_reason
    session.flush()
    return run


def record_extraction_attempt(session: Session, *, document_id: int | None = None, url: str | None = None,
                              sha256: str | None = None, outcome: str, provenance: Provenance | None = None,
                              error: str | None = None, report_id: int | None = None,
                              **overrides: Any) -> ExtractionAttempt:
    """One extraction attempt of a document version (by id, or by url and sha256).

    reader, pages, OCR use, duration and extractor version come from `provenance`
    unless given as keyword arguments (reader=, pages=, ocr_pages=, duration_ms=,
    extractor_version=).
    """
    if document_id is None:
        document_id = session.scalar(select(Document.id).where(Document.url == url, Document.sha256 == sha256))
        if document_id is None:
            raise LoadError(f"unknown document version {url} {sha256}: record_document first")
    source = provenance or Provenance()
    ocr_pages = overrides.pop("ocr_pages", len(source.ocr_pages))
    ocr_count = len(ocr_pages) if isinstance(ocr_pages, list) else int(ocr_pages or 0)
    values = {"reader": source.reader, "pages": source.pages, "duration_ms": source.duration_ms,
              "extractor_version": source.extractor_version} | overrides
    attempt = ExtractionAttempt(document_id=document_id, outcome=outcome, error=error, report_id=report_id,
                                ocr_pages=ocr_count, ocr_used=ocr_count > 0, attempted_at=utcnow(), **values)
    session.add(attempt)
    session.flush()
    return attempt


def open_alert(session: Session, *, kind: str, cause_key: str, severity: str, message: str,
               agency_id: int | None = None, year: int | None = None,
               details: dict[str, Any] | None = None) -> tuple[Alert, bool]:
    """Open an alert unless one is already open for the same cause; returns (alert, newly opened)."""
    if severity not in SEVERITIES:
        raise LoadError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    existing = find_open_alert(session, cause_key)
    if existing is not None:
        existing.message, existing.details = message, details
        session.flush()
        return existing, False
    alert = Alert(kind=kind, cause_key=cause_key, severity=severity, message=message, agency_id=agency_id,
                  year=year, details=details, opened_at=utcnow())
    session.add(alert)
    session.flush()
    return alert, True


def find_open_alert(session: Session, cause_key: str) -> Alert | None:
    return session.scalar(select(Alert).where(Alert.cause_key == cause_key, Alert.resolved_at.is_(None)))


def open_alerts(session: Session) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.opened_at)))


def resolve_alert(session: Session, cause_key: str) -> bool:
    """Close the open alert of this cause; False when none was open."""
    alert = find_open_alert(session, cause_key)
    if alert is None:
        return False
    alert.resolved_at = utcnow()
    session.flush()
    return True


def mark_alert_notified(session: Session, alert_id: int) -> None:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise LoadError(f"no alert {alert_id}")
    alert.notified_at = utcnow()
    session.flush()


def unnotified_alerts(session: Session) -> list[Alert]:
    """The open alerts nobody was told about yet, oldest first."""
    return list(session.scalars(select(Alert).where(Alert.resolved_at.is_(None), Alert.notified_at.is_(None))
                                .order_by(Alert.id)))


def alert_listing(session: Session, *, open_only: bool = False, kind: str | None = None) -> list[dict[str, Any]]:
    """Stored alerts, newest first, as plain dicts."""
    query = select(Alert).order_by(Alert.opened_at.desc(), Alert.id.desc())
    if open_only:
        query = query.where(Alert.resolved_at.is_(None))
    if kind:
        query = query.where(Alert.kind == kind)
    return [{"id": a.id, "kind": a.kind, "cause_key": a.cause_key, "severity": a.severity, "message": a.message,
             "year": a.year, "details": a.details, "opened_at": a.opened_at, "resolved_at": a.resolved_at,
             "notified_at": a.notified_at} for a in session.scalars(query)]


def recorded_crawl_run_ids(session: Session) -> set[str]:
    """The crawl index's run ids already copied into crawl_runs (kept in each row's stats)."""
    return {str(stats["run_id"]) for stats in session.scalars(select(CrawlRun.stats)) if stats and stats.get("run_id")}


def record_crawl_run(session: Session, *, source_id: str, started_at: dt.datetime, finished_at: dt.datetime,
                     finish_reason: str | None, stats: dict[str, Any]) -> None:
    """One source's part of a finished crawl run of the crawl index."""
    session.add(CrawlRun(source_id=source_id, started_at=started_at, finished_at=finished_at,
                         finish_reason=finish_reason, stats=stats))
