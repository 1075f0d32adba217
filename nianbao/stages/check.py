"""The check stage: facts from the warehouse → alert rules (as of `today`) → stored alerts → notifiers.

One open alert per cause: a cause found again keeps its alert, a cause no longer
found resolves it (only within the sources the check looked at). Alerts are sent
once: those opened now, and those an earlier check could not deliver.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from nianbao.alerts.model import AgencyExpectation, Alert, ReportFacts, SiteFacts
from nianbao.alerts.reconcile import reconcile
from nianbao.alerts.rules import evaluate
from nianbao.stages.context import StageContext, ensure_warehouse
from nianbao.stages.crawl import sync_crawl_runs
from report.agencies import latest_due_year

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from nianbao.alerts.notifiers import Notifier

log = logging.getLogger(__name__)


@dataclass
class CheckSummary:
    today: str
    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    open_by_kind: dict[str, int] = field(default_factory=dict)
    notified: list[str] = field(default_factory=list)
    notify_failed: list[str] = field(default_factory=list)

    @property
    def open_total(self) -> int:
        return sum(self.open_by_kind.values())


@dataclass
class Facts:
    expected: list[AgencyExpectation]
    reports: list[ReportFacts]
    sites: list[SiteFacts]
    documents: list[tuple[str, int]]
    years: list[int]
    agency_ids: dict[str, int]
    source_of_agency: dict[str, str | None]


def check(context: StageContext, *, today: date, sources: Sequence[str] | None = None,
          years: Sequence[int] | None = None, notifiers: Sequence[Notifier] | None = None,
          with_airflow: bool = False) -> CheckSummary:
    """Evaluate every alert rule as of `today` and bring the stored alerts in line."""
    from warehouse.db import session_scope
    from warehouse.session import warehouse_engine

    ensure_warehouse(context)
    sync_crawl_runs(context)   # crawls run by `nianbao crawl` too
    with warehouse_engine(context.warehouse_url) as engine:
        with session_scope(engine) as session:
            facts = gather_facts(session, today=today, sources=sources, years=years, unstored=unstored_listings(context))
            found = evaluate(today=today, expected=facts.expected, reports=facts.reports, sites=facts.sites,
                             years=facts.years, documents=facts.documents)
            summary = store_alerts(session, found, facts, today=today, sources=sources)
        if notifiers is None:
            from nianbao.alerts.notifiers import configured_notifiers

            notifiers = configured_notifiers(context.settings, with_airflow=with_airflow)
        with session_scope(engine) as session:
            deliver(session, notifiers, summary)
    return summary


# ---------------------------------------------------------------- facts
def gather_facts(session: Session, *, today: date, sources: Sequence[str] | None = None,
                 years: Sequence[int] | None = None, unstored: Sequence[tuple[str, int | None]] = ()) -> Facts:
    """`unstored`: (source, listing year) of documents listed but not stored (store_error): seen, so
    never called missing (a year unknown holds every year of the source)."""
    from warehouse.facts import agencies_of

    agencies = agencies_of(session, sources)
    by_id = {a.id: a for a in agencies}
    expected = [AgencyExpectation(a.name, a.kind, a.source_id, a.first_year) for a in agencies if a.expected]
    reports = _report_facts(session, by_id)
    documents = _document_years(session, by_id)
    seen_years = {r.year for r in reports} | {year for _, year in documents}
    due = latest_due_year(today, "department")
    chosen_years = sorted(set(years) if years else (set(range(min(seen_years), due + 1)) if seen_years and due
                                                    else seen_years))
    documents = sorted(set(documents) | _unstored_years(agencies, unstored, chosen_years))
    return Facts(expected=expected, reports=reports, sites=_site_facts(session, sources), documents=documents,
                 years=chosen_years, agency_ids={a.name: a.id for a in agencies},
                 source_of_agency={a.name: a.source_id for a in agencies})


def unstored_listings(context: StageContext) -> list[tuple[str, int | None]]:
    """(source, listing year) of the documents the latest crawl of each source could not store."""
    from crawler.index import DocumentIndex

    index = DocumentIndex(context.crawl_index)
    try:
        return sorted({(f.source_id, f.year) for f in index.latest_failures("store_error") if f.source_id},
                      key=lambda pair: (pair[0], pair[1] or 0))
    finally:
        index.close()


def _unstored_years(agencies: Sequence[Any], unstored: Sequence[tuple[str, int | None]],
                    years: Sequence[int]) -> set[tuple[str, int]]:
    names = defaultdict(list)
    for agency in agencies:
        names[agency.source_id].append(agency.name)
    return {(name, year) for source_id, listed in unstored for name in names.get(source_id, [])
            for year in ([listed] if listed is not None else years)}


def _report_facts(session: Session, agencies: Mapping[int, Any]) -> list[ReportFacts]:
    """Every report of these agencies, with the agency's name, kind and source."""
    from warehouse.facts import report_rows

    facts = []
    for row in report_rows(session, agencies):
        agency = agencies[row.agency_id]
        facts.append(ReportFacts(
            agency=agency.name, year=row.year, sha256=row.sha256, kind=agency.kind, source_id=agency.source_id,
            url=row.url, published=row.listing_date, hard_findings=row.hard_findings, image_only=row.image_only,
            text=row.text, figures=row.figures,
        ))
    return facts


def _document_years(session: Session, agencies: Mapping[int, Any]) -> list[tuple[str, int]]:
    """Agency-years with a document that may be the report but could not be read."""
    from warehouse.facts import unread_document_years

    return sorted({(agencies[agency_id].name, year) for agency_id, year in unread_document_years(session, agencies)})


def _site_facts(session: Session, sources: Sequence[str] | None) -> list[SiteFacts]:
    """The latest crawl run of each source, with the reports the run before it listed."""
    from crawler.summary import SourceSummary
    from warehouse.facts import crawl_histories

    facts = []
    for history in crawl_histories(session, sources):
        finish_reason, latest = history.runs[-1]
        stats = SourceSummary.model_validate(latest or {})
        earlier = [int(s["reports_listed"]) for _, s in history.runs[:-1] if s and s.get("reports_listed")]
        errors = stats.errors
        requests = stats.list_pages + stats.article_pages + stats.documents + sum(errors.values())
        facts.append(SiteFacts(
            source_id=history.source_id, reports_found=stats.reports_listed,
            previous_reports_found=max(earlier) if earlier else None, requests=requests,
            errors=sum(errors.values()), parse_failures=errors.get("unparsable", 0),
            challenge_pages=errors.get("challenge", 0),
            failed=finish_reason not in (None, "finished"),
            flags=tuple(stats.flags),
        ))
    return facts


# ---------------------------------------------------------------- storing
def store_alerts(session: Session, found: Sequence[Alert], facts: Facts, *, today: date,
                 sources: Sequence[str] | None) -> CheckSummary:
    from warehouse.operational import open_alert, open_alerts, resolve_alert

    existing = open_alerts(session)
    scope = set(sources or ())
    source_by_key = {a.cause_key: (a.details or {}).get("source_id") for a in existing}
    plan = reconcile([a.cause_key for a in existing], found,
                     in_scope=lambda key: not scope or source_by_key.get(key) in scope)
    summary = CheckSummary(today=today.isoformat())
    for alert in found:
        _, opened = open_alert(session, kind=alert.kind, cause_key=alert.key, severity=alert.severity,
                               message=alert.message, agency_id=facts.agency_ids.get(alert.agency or ""),
                               year=alert.year, details=stored_details(alert, facts))
        if opened:
            summary.opened.append(alert.key)
    for key in plan.resolved:
        resolve_alert(session, key)
    summary.resolved = list(plan.resolved)
    counts: dict[str, int] = defaultdict(int)
    for stored in open_alerts(session):
        counts[stored.kind] += 1
    summary.open_by_kind = dict(sorted(counts.items()))
    return summary


def stored_details(alert: Alert, facts: Facts) -> dict[str, Any]:
    source_id = alert.source_id or facts.source_of_agency.get(alert.agency or "")
    return {**alert.details, "message_en": alert.message_en, "source_id": source_id, "sha256": alert.sha256,
            "agency": alert.agency}


def as_alert(row: Any) -> Alert:
    """A stored alert back as an `Alert` (for notifiers and listings)."""
    details = dict(row.details or {})
    return Alert(kind=row.kind, key=row.cause_key, severity=row.severity, message=row.message,
                 message_en=details.pop("message_en", ""), agency=details.pop("agency", None), year=row.year,
                 source_id=details.pop("source_id", None), sha256=details.pop("sha256", None), details=details)


# ---------------------------------------------------------------- notifying
def deliver(session: Session, notifiers: Sequence[Notifier], summary: CheckSummary) -> None:
    """Send the open alerts nobody was told about; mark them notified when every notifier took them."""
    from nianbao.alerts.notifiers import notify_all
    from warehouse.operational import mark_alert_notified, unnotified_alerts

    if not notifiers:
        return
    pending = unnotified_alerts(session)
    if not pending and not summary.resolved:
        return
    delivery = notify_all(notifiers, [as_alert(row) for row in pending], resolved=len(summary.resolved))
    summary.notified, summary.notify_failed = delivery.sent, delivery.failed
    if delivery.failed:
        return
    for row in pending:
        mark_alert_notified(session, row.id)


def list_alerts(context: StageContext, *, open_only: bool = False, kind: str | None = None) -> list[dict[str, Any]]:
    """Stored alerts, newest first, as plain dicts (for `nianbao alerts` and the demo). Reads only:
    no warehouse yet is a WarehouseError, never a new empty database."""
    from warehouse.operational import alert_listing
    from warehouse.session import warehouse_session

    with warehouse_session(context.warehouse_url, read_only=True) as session:
        return alert_listing(session, open_only=open_only, kind=kind)
