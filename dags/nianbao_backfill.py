"""nianbao_backfill: a manual harvest of chosen years and sources (trigger with params)."""

from __future__ import annotations

from _nianbao_flow import DEFAULT_ARGS, harvest_flow
from airflow.sdk import Param, dag


@dag(
    dag_id="nianbao_backfill",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["nianbao"],
    params={
        "years": Param([], type="array", items={"type": "integer"}, description="report years to (re)process"),
        "sources": Param([], type="array", items={"type": "string"}, description="source ids (empty: every source)"),
        "today": Param(None, type=["null", "string"], description="check alerts as of this ISO date"),
        "fast": Param(False, type="boolean", description="politeness off (local sandbox only)"),
        "jobs": Param(2, type="integer", minimum=1, description="extraction workers per extract task"),
    },
    doc_md=__doc__,
)
def nianbao_backfill() -> None:
    harvest_flow()


nianbao_backfill()
