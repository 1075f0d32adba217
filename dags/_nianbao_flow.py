"""The harvest task graph, shared by nianbao_harvest and nianbao_backfill: wiring only,
every task calls a stage function of `nianbao.stages`.

crawl_<family> (mapped over batches of sources, one pool per CMS family)
  → find_new (stages the new document versions, returns batch ids) → extract (mapped over them)
  → validate → load → alerts

Tasks hand each other references only (the run id, batch ids), never documents: what they share
is in the warehouse database and the raw store, so any host may run any task.
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
    extract_batch,
    families,
    load_staged,
    plan_extraction,
    pool_name,
    run_crawl,
    split_ids,
    validate_staged,
)
from nianbao.stages.check import as_of, require_delivered, tell_task_failure

DOCUMENTS = Asset("nianbao://crawl/documents")
REPORTS = Asset("nianbao://warehouse/reports")
ALERTS = Asset("nianbao://warehouse/alerts")


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
def find_new(params: dict[str, Any] | None = None, run_id: str | None = None) -> list[int]:
    params = params or {}
    return plan_extraction(stage_context(), _run(run_id), as_list(params.get("sources")), as_list(params.get("years")))


@task(retries=1)
def extract(batch: int, params: dict[str, Any] | None = None, run_id: str | None = None) -> int:
    return extract_batch(stage_context(), _run(run_id), batch, jobs=int((params or {}).get("jobs") or 1))


@task(trigger_rule=TriggerRule.NONE_FAILED)
def validate(planned: list[int], extracted: list[int] | None = None, run_id: str | None = None) -> list[int]:
    return validate_staged(stage_context(), _run(run_id), planned)


@task(outlets=[REPORTS], trigger_rule=TriggerRule.NONE_FAILED)
def load(planned: list[int], run_id: str | None = None) -> dict[str, Any]:
    summary = load_staged(stage_context(), _run(run_id), planned)
    return {"documents": summary.documents, "accepted": summary.accepted, "quarantined": summary.quarantined,
            "not_report": summary.not_report, "failed": summary.failed}


def _run(run_id: str | None) -> str:
    if not run_id:
        raise ValueError("no run id: the task runs outside a DAG run")
    return run_id


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
    planned = find_new()
    crawled >> planned
    extracted = extract.expand(batch=planned)
    validated = validate(planned, extracted)
    loaded = load(validated)
    loaded >> alerts()
