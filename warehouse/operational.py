"""Operational records: crawl runs, extraction attempts, alerts and their deliveries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from report.record import Provenance
from warehouse.load import LoadError
from warehouse.models import (
    SEVERITIES,
    Alert,
    AlertDelivery,
    CrawlRun,
    Document,
    ExtractionAttempt,
    utcnow,
)
from warehouse.upsert import insert_for, insert_missing

_alerts: Table = Alert.__table__  # type: ignore[assignment]
_deliveries: Table = AlertDelivery.__table__  # type: ignore[assignment]
_crawl_runs: Table = CrawlRun.__table__  # type: ignore[assignment]


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
    """Open an alert unless one is already open for the same cause; returns (alert, newly opened).

    One INSERT … ON CONFLICT on the open-cause index: two checks at once (the harvest's and the
    deadlines DAG's) open it once, neither fails."""
    if severity not in SEVERITIES:
        raise LoadError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    row = {"kind": kind, "cause_key": cause_key, "severity": severity, "message": message, "agency_id": agency_id,
           "year": year, "details": details, "opened_at": utcnow()}
    inserted = insert_missing(session, _alerts, [row], ["cause_key"], where=_alerts.c.resolved_at.is_(None),
                              returning=["id"])
    if not inserted:
        session.execute(update(_alerts).where(_alerts.c.cause_key == cause_key, _alerts.c.resolved_at.is_(None))
                        .values(message=message, details=details))
    alert = session.scalars(select(Alert).where(Alert.cause_key == cause_key, Alert.resolved_at.is_(None))
                            .execution_options(populate_existing=True)).one()
    return alert, bool(inserted)


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
    """Every notifier was told (or there was none to tell): the alert is no longer pending anywhere."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise LoadError(f"no alert {alert_id}")
    alert.notified_at = utcnow()
    session.flush()


def mark_told_everywhere(session: Session, notifiers: Sequence[str]) -> None:
    """Mark notified the open alerts every one of these notifiers delivered."""
    names = sorted(set(notifiers))
    delivered_by_all = (select(AlertDelivery.alert_id)
                        .where(AlertDelivery.notifier.in_(names), AlertDelivery.delivered_at.is_not(None))
                        .group_by(AlertDelivery.alert_id).having(func.count() == len(names)))
    session.execute(update(_alerts).where(_alerts.c.resolved_at.is_(None), _alerts.c.notified_at.is_(None),
                                          _alerts.c.id.in_(delivered_by_all)).values(notified_at=utcnow()))


def undelivered_alerts(session: Session, notifier: str, *, lock: bool = False) -> list[Alert]:
    """The open alerts this notifier has not delivered yet, oldest first. `lock` takes them for this
    transaction (FOR UPDATE SKIP LOCKED on PostgreSQL): a concurrent check skips them, so no
    alert is sent twice by two checks at once."""
    delivered = (select(AlertDelivery.alert_id)
                 .where(AlertDelivery.notifier == notifier, AlertDelivery.delivered_at.is_not(None)))
    query = (select(Alert).where(Alert.resolved_at.is_(None), Alert.notified_at.is_(None),
                                 Alert.id.not_in(delivered)).order_by(Alert.id))
    if lock:
        query = query.with_for_update(skip_locked=True, of=Alert)
    return list(session.scalars(query))


def record_delivery(session: Session, alert_ids: Sequence[int], notifier: str, *, error: str | None = None) -> None:
    """One attempt of `notifier` for these alerts: delivered (no error), or failed with `error`."""
    if not alert_ids:
        return
    now = utcnow()
    delivered = None if error else now
    rows = [{"alert_id": alert_id, "notifier": notifier, "delivered_at": delivered, "attempts": 1,
             "last_attempt_at": now, "last_error": error} for alert_id in alert_ids]
    statement = insert_for(session, _deliveries).values(rows)
    session.execute(statement.on_conflict_do_update(
        index_elements=["alert_id", "notifier"],
        set_={"delivered_at": statement.excluded.delivered_at, "attempts": _deliveries.c.attempts + 1,
              "last_attempt_at": now, "last_error": statement.excluded.last_error}))


def delivery_listing(session: Session) -> list[dict[str, Any]]:
    return [{"alert_id": d.alert_id, "notifier": d.notifier, "delivered_at": d.delivered_at, "attempts": d.attempts,
             "last_error": d.last_error}
            for d in session.scalars(select(AlertDelivery).order_by(AlertDelivery.alert_id, AlertDelivery.notifier))]


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


def record_crawl_run(session: Session, *, run_id: str, source_id: str, started_at: dt.datetime,
                     finished_at: dt.datetime, finish_reason: str | None, stats: dict[str, Any]) -> bool:
    """One source's part of a finished crawl run of the crawl index, once (ON CONFLICT on the run id
    and source: two tasks copying the same run at once add it once). True when added."""
    row = {"run_id": run_id, "source_id": source_id, "started_at": started_at, "finished_at": finished_at,
           "finish_reason": finish_reason, "stats": {"run_id": run_id, **stats}}
    return bool(insert_missing(session, _crawl_runs, [row], ["run_id", "source_id"], returning=["id"]))


def recorded_crawl_run_ids(session: Session) -> set[str]:
    """The crawl index's run ids already copied into crawl_runs."""
    return set(session.scalars(select(CrawlRun.run_id).where(CrawlRun.run_id.is_not(None)).distinct()))
