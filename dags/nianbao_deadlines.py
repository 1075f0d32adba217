"""nianbao_deadlines: after each legal deadline — 31 January (every body, townships included)
and 31 March (county-or-above governments, 本级政府) — the expected reports still missing become
alerts, and late publications are recorded with their delay. Also runs whenever a harvest loads
reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from _nianbao_flow import ALERTS, DEFAULT_ARGS, REPORTS, as_list, stage_context, today_of
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from nianbao.stages import check
from nianbao.stages.check import require_delivered

# 1 Feb and 1 Apr; never the past slot's run at once on unpausing (see nianbao_harvest)
AFTER_DEADLINES = CronTriggerTimetable("0 6 1 2,4 *", timezone="Asia/Shanghai", run_immediately=timedelta(0))


@dag(
    dag_id="nianbao_deadlines",
    schedule=AssetOrTimeSchedule(timetable=AFTER_DEADLINES, assets=REPORTS),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["nianbao"],
    params={
        "today": Param(None, type=["null", "string"], description="check as of this ISO date"),
        "sources": Param(None, type=["null", "array"], description="source ids (default: every source)"),
    },
    doc_md=__doc__,
)
def nianbao_deadlines() -> None:
    @task(outlets=[ALERTS])
    def deadline_alerts(params: dict[str, Any] | None = None, logical_date: datetime | None = None) -> dict[str, Any]:
        params = params or {}
        summary = check(stage_context(), today=today_of(params, logical_date), sources=as_list(params.get("sources")),
                        with_airflow=True)
        require_delivered(summary)
        return {"today": summary.today, "opened": summary.opened, "open": summary.open_by_kind}

    deadline_alerts()


nianbao_deadlines()
