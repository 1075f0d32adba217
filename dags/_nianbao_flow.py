"""The harvest task graph, shared by nianbao_harvest and nianbao_backfill: wiring only,
every task calls a stage function of `nianbao.stages`.

crawl_<family> (mapped over batches of sources, one pool per CMS family)
  → find_new (batches of new document versions) → extract (mapped) → validate → load → alerts
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, TriggerRule, task

from nianbao.stages import (
    StageContext,
    check,
    crawl_batches,
    extract_to_staging,
    families,
    load_staging,
    pending_documents,
    pool_name,
    run_crawl,
    split_ids,
    validate_staging,
)
from nianbao.stages.check import as_of, require_delivered, tell_task_failure
from nianbao.stages.process import batches

DOCUMENTS = Asset("nianbao://crawl/documents")
REPORTS = Asset("nianbao://warehouse/reports")
ALERTS = Asset("nianbao://warehouse/alerts")
EXTRACT_BATCH_SIZE = 8

def on_task_failure(context: Mapping[str, Any]) -> None:
    """Tell every configured notifier that a task failed (after its last retry): wiring only."""
    ti = context.get("ti") or context.get("task_instance")
    if ti is None:
        return
    tell_task_failure(stage_context(), dag_id=str(ti.dag_id), task_id=str(ti.task_id), run_id=str(ti.run_id),
                      try_number=getattr(ti, "try_number", None), error=str(context.get("exception") or ""))


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "nianbao",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": on_task_failure,
}


def stage_context() -> StageContext:
    return StageContext.from_settings()


def as_list(value: Any) -> list | None:
    """A list param as given in the UI (a list, or one comma-separated string), or None."""
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        return split_ids(value)
    return list(value)


def today_of(params: dict[str, Any], logical_date: datetime | None) -> date:
    """The `today` param, else the run's date in China (the deadlines are Chinese dates)."""
    return as_of(params.get("today"), logical_date)


@task
def plan_crawl(family: str, params: dict[str, Any] | None = None) -> list[list[str]]:
    return crawl_batches(stage_context(), family, as_list((params or {}).get("sources")))


@task(outlets=[DOCUMENTS])
def crawl(batch: list[str], params: dict[str, Any] | None = None) -> dict[str, Any]:
    outcome = run_crawl(stage_context(), batch, fast=bool((params or {}).get("fast")))
    return {"sources": outcome.sources, "finish_reason": outcome.finish_reason,
            "documents": outcome.summary.get("documents", {})}


@task(trigger_rule=TriggerRule.ALL_DONE)
def find_new(params: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
    params = params or {}
    documents = pending_documents(stage_context(), as_list(params.get("sources")), as_list(params.get("years")))
    return batches([vars(d) for d in documents], EXTRACT_BATCH_SIZE)


@task(retries=1)
def extract(batch: list[dict[str, Any]], params: dict[str, Any] | None = None) -> list[str]:
    return extract_to_staging(stage_context(), batch, jobs=int((params or {}).get("jobs") or 1))


@task(trigger_rule=TriggerRule.NONE_FAILED)
def validate(staged: list[list[str]] | None = None) -> list[str]:
    keys = [key for batch in (staged or []) for key in batch]
    return validate_staging(stage_context(), keys)


@task(outlets=[REPORTS], trigger_rule=TriggerRule.NONE_FAILED)
def load(keys: list[str]) -> dict[str, Any]:
    summary = load_staging(stage_context(), keys)
    return {"documents": summary.documents, "accepted": summary.accepted, "quarantined": summary.quarantined,
            "not_report": summary.not_report, "failed": summary.failed}


@task(outlets=[ALERTS], trigger_rule=TriggerRule.NONE_FAILED)
def alerts(params: dict[str, Any] | None = None, logical_date: datetime | None = None) -> dict[str, Any]:
    params = params or {}
    summary = check(stage_context(), today=today_of(params, logical_date), sources=as_list(params.get("sources")),
                    years=as_list(params.get("years")), with_airflow=True)
    require_delivered(summary)   # the alerts are stored; a notifier that did not take them fails the task
    return {"today": summary.today, "opened": len(summary.opened), "resolved": len(summary.resolved),
            "open": summary.open_by_kind, "notified": summary.notified, "notify_failed": summary.notify_failed}


def harvest_flow() -> None:
    """Build the task graph inside a DAG context."""
    crawled = [crawl.override(task_id=f"crawl_{family}", pool=pool_name(family))
               .expand(batch=plan_crawl.override(task_id=f"plan_{family}")(family))
               for family in families()]
    new = find_new()
    crawled >> new
    extracted = extract.expand(batch=new)
    validated = validate(extracted)
    loaded = load(validated)
    loaded >> alerts()
