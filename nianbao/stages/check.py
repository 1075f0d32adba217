"""The check stage: facts from the warehouse → alert rules (as of `today`) → stored alerts → notifiers.

One open alert per cause: a cause found again keeps its alert, a cause no longer
found resolves it (only within the sources the check looked at). Each notifier is told each
alert once: those opened now, and those it could not deliver before (alert_deliveries).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from nianbao.alerts.model import AgencyExpectation, Alert, ReportFacts, SiteFacts, agency_key
from nianbao.alerts.reconcile import reconcile
from nianbao.alerts.rules import evaluate
from nianbao.stages.context import StageContext, ensure_warehouse, read_crawl_index
from nianbao.stages.crawl import sync_crawl_runs
from report.agencies import latest_due_year, today_in_china

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from nianbao.alerts.notifiers import Delivery, Notifier

log = logging.getLogger(__name__)


@dataclass
class CheckSummary:
    today: str
    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    open_by_kind: dict[str, int] = field(default_factory=dict)
    notified: list[str] = field(default_factory=list)
    notify_failed: list[str] = field(default_factory=list)
    notify_errors: dict[str, str] = field(default_factory=dict)

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
    """Evaluate every alert rule as of `today` and bring the stored alerts in line, then tell each
    notifier what it has not delivered yet. `notifiers` None: those configured (checked first,
    before anything is stored). Each transaction is run again after a dropped connection."""
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine

    if notifiers is None:
        notifiers = configured(context, with_airflow=with_airflow)
    ensure_warehouse(context)
    sync_crawl_runs(context)   # crawls run by `nianbao crawl` too

    unstored = unstored_listings(context)

    def evaluate_and_store(session: Session) -> CheckSummary:
        facts = gather_facts(session, today=today, sources=sources, years=years, unstored=unstored)
        found = evaluate(today=today, expected=facts.expected, reports=facts.reports, sites=facts.sites,
                         years=facts.years, documents=facts.documents)
        return store_alerts(session, found, facts, today=today, sources=sources)

    with warehouse_engine(context.warehouse_url) as engine:
        summary = in_transaction(engine, evaluate_and_store)
        deliver(engine, notifiers, summary, today=today)
    return summary


def as_of(today: str | date | None, moment: datetime | None = None) -> date:
    """The date a check runs as of: the one given (an ISO date), else the date in China at `moment`
    (a DAG run's logical date; default now)."""
    if today:
        return today if isinstance(today, date) else date.fromisoformat(str(today))
    return today_in_china(moment)


def configured(context: StageContext, *, with_airflow: bool = False) -> list[Notifier]:
    from nianbao.alerts.notifiers import configured_notifiers

    return configured_notifiers(context.settings, with_airflow=with_airflow)


# ---------------------------------------------------------------- facts
def gather_facts(session: Session, *, today: date, sources: Sequence[str] | None = None,
                 years: Sequence[int] | None = None, unstored: Sequence[tuple[str, int | None]] = ()) -> Facts:
    """`unstored`: (source, listing year) of documents listed but not stored (store_error): seen, so
    never called missing (a year unknown holds every year of the source)."""
    from warehouse.facts import agencies_of

    agencies = agencies_of(session, sources)
    by_id = {a.id: a for a in agencies}
    expected = [AgencyExpectation(a.name, a.kind, a.source_id, a.first_year, level=a.level, agency_id=a.id)
                for a in agencies if a.expected]
    reports = _report_facts(session, by_id)
    documents = _document_years(session, by_id)
    seen_years = {r.year for r in reports} | {year for _, year in documents}
    due = latest_due_year(today, "department", "department")
    chosen_years = sorted(set(years) if years else (set(range(min(seen_years), due + 1)) if seen_years and due
                                                    else seen_years))
    documents = sorted(set(documents) | _unstored_years(agencies, unstored, chosen_years))
    return Facts(expected=expected, reports=reports, sites=_site_facts(session, sources), documents=documents,
                 years=chosen_years, agency_ids={a.name: a.id for a in agencies},
                 source_of_agency={a.name: a.source_id for a in agencies})


def unstored_listings(context: StageContext) -> list[tuple[str, int | None]]:
    """(source, listing year) of the documents the latest crawl of each source could not store."""
    failures = read_crawl_index(context, lambda index: index.latest_failures("store_error"))
    return sorted({(f.source_id, f.year) for f in failures if f.source_id}, key=lambda pair: (pair[0], pair[1] or 0))


def _unstored_years(agencies: Sequence[Any], unstored: Sequence[tuple[str, int | None]],
                    years: Sequence[int]) -> set[tuple[str, int]]:
    names = defaultdict(list)   # the agencies' keys as the missing rule compares them (agency_key)
    for agency in agencies:
        names[agency.source_id].append(agency_key(agency.id, agency.name))
    return {(name, year) for source_id, listed in unstored for name in names.get(source_id, [])
            for year in ([listed] if listed is not None else years)}


def _report_facts(session: Session, agencies: Mapping[int, Any]) -> list[ReportFacts]:
    """Every report of these agencies, with the agency's name, kind and source."""
    from warehouse.facts import report_rows

    facts = []
    for row in report_rows(session, agencies):
        agency = agencies[row.agency_id]
        facts.append(ReportFacts(
            agency=agency.name, year=row.year, sha256=row.sha256, kind=agency.kind, level=agency.level,
            source_id=agency.source_id,
            url=row.url, published=row.listing_date, hard_findings=row.hard_findings, image_only=row.image_only,
            text=row.text, figures=row.figures, agency_id=row.agency_id,
        ))
    return facts


def _document_years(session: Session, agencies: Mapping[int, Any]) -> list[tuple[str, int]]:
    """Agency-years with a document that may be the report but could not be read."""
    from warehouse.facts import unread_document_years

    return sorted({(agency_key(agency_id, agencies[agency_id].name), year)
                   for agency_id, year in unread_document_years(session, agencies)})


def _site_facts(session: Session, sources: Sequence[str] | None) -> list[SiteFacts]:
    """The latest crawl run of each source, with what the runs before it listed."""
    from warehouse.facts import crawl_histories

    return [site_facts(history.source_id, history.runs) for history in crawl_histories(session, sources)]


def site_facts(source_id: str, runs: Sequence[tuple[str | None, Mapping[str, Any]]]) -> SiteFacts:
    """A source's health facts from its crawl runs, oldest first: (finish reason, the run's
    `crawler.summary.SourceSummary` as stored) each."""
    from crawler.summary import SourceSummary

    finish_reason, latest = runs[-1]
    stats = SourceSummary.model_validate(dict(latest or {}))
    earlier = [int(s.get("reports_listed") or 0) for _, s in runs[:-1] if s]
    errors = stats.errors
    return SiteFacts(
        source_id=source_id, reports_found=stats.reports_listed,
        previous_reports_found=earlier[-1] if earlier else None,
        earlier_reports_found=max(earlier) if earlier else None,
        requests=stats.list_pages + stats.article_pages + stats.documents + sum(errors.values()),
        errors=sum(errors.values()), failed=finish_reason not in (None, "finished"),
        flags=tuple(stats.flags), failures=dict(errors), list_failures=dict(stats.list_errors),
    )


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
                               message=alert.message,
                               agency_id=alert.agency_id or facts.agency_ids.get(alert.agency or ""),
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
                 source_id=details.pop("source_id", None), sha256=details.pop("sha256", None), details=details,
                 agency_id=row.agency_id)


# ---------------------------------------------------------------- notifying
def deliver(engine: Engine, notifiers: Sequence[Notifier], summary: CheckSummary, *, today: date) -> None:
    """Tell each notifier the open alerts it has not delivered (and how many this check resolved).

    Delivery is kept per notifier: one that fails is tried again next time, alone; the others
    do not send again. An alert is marked notified once every notifier delivered it."""
    from warehouse.load import in_transaction
    from warehouse.operational import mark_told_everywhere

    for notifier in notifiers:
        error = in_transaction(engine, partial(_deliver_one, notifier=notifier, resolved=len(summary.resolved),
                                               today=today))
        if error is None:
            summary.notified.append(notifier.name)
        elif error:
            summary.notify_failed.append(notifier.name)
            summary.notify_errors[notifier.name] = error

    if notifiers:
        in_transaction(engine, lambda session: mark_told_everywhere(session, [n.name for n in notifiers]))


def _deliver_one(session: Session, *, notifier: Notifier, resolved: int, today: date) -> str | None:
    """None when delivered, "" when there was nothing to tell, else the (scrubbed) error."""
    from nianbao.alerts.messages import alert_message
    from nianbao.alerts.notifiers import NotifyError
    from warehouse.operational import record_delivery, undelivered_alerts

    pending = undelivered_alerts(session, notifier.name, lock=True)   # a concurrent check skips these
    if not pending and not resolved:
        return ""
    ids = [row.id for row in pending]
    try:
        notifier.send(alert_message([as_alert(row) for row in pending], resolved, today))
    except NotifyError as exc:
        log.warning("%s", exc)
        record_delivery(session, ids, notifier.name, error=str(exc))
        return str(exc)
    record_delivery(session, ids, notifier.name)
    return None


class DeliveryFailed(RuntimeError):
    """A notifier could not deliver (the alerts are stored; it is tried again next time)."""


def require_delivered(summary: CheckSummary) -> None:
    """Fail a task (or a command) whose alerts did not reach every notifier."""
    if summary.notify_failed:
        reasons = "; ".join(f"{name}: {summary.notify_errors.get(name, '?')}" for name in summary.notify_failed)
        raise DeliveryFailed(f"alerts not delivered through {', '.join(summary.notify_failed)} ({reasons})")


def send_test_messages(context: StageContext, *, with_airflow: bool = False) -> Delivery:
    """`nianbao alerts test`: a test message through each configured notifier."""
    from nianbao.alerts.messages import trial_message
    from nianbao.alerts.notifiers import Delivery, NotifyError

    delivery = Delivery()
    for notifier in configured(context, with_airflow=with_airflow):
        try:
            notifier.send(trial_message(notifier.name))
        except NotifyError as exc:
            delivery.failed[notifier.name] = str(exc)
        else:
            delivery.sent.append(notifier.name)
    return delivery


def tell_task_failure(context: StageContext, *, dag_id: str, task_id: str, run_id: str,
                      try_number: int | None = None, error: str = "") -> Delivery:
    """A failed Airflow task, told through every configured notifier (its on_failure_callback)."""
    from nianbao.alerts.messages import task_failed_message
    from nianbao.alerts.notifiers import notify_all

    message = task_failed_message(dag_id=dag_id, task_id=task_id, run_id=run_id, try_number=try_number,
                                  error=error[:500])
    return notify_all(configured(context, with_airflow=True), message)


def list_alerts(context: StageContext, *, open_only: bool = False, kind: str | None = None) -> list[dict[str, Any]]:
    """Stored alerts, newest first, as plain dicts (for `nianbao alerts` and the demo). Reads only:
    no warehouse yet is a WarehouseError, never a new empty database."""
    from warehouse.operational import alert_listing
    from warehouse.session import warehouse_session

    with warehouse_session(context.warehouse_url, read_only=True) as session:
        return alert_listing(session, open_only=open_only, kind=kind)
