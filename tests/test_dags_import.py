"""The DAG bag of dags/ imports with no errors, and the DAGs are wired as documented."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

INSPECT = """
import json
from pathlib import Path
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.serialization.serialized_objects import DagSerialization

def first_run_after(dag):
    # when the scheduler starts the first run once the DAG is unpaused (None: never by itself),
    # computed as the scheduler does it, on the serialised DAG
    serialised = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    info = serialised.next_dagrun_info(last_automated_run_info=None)
    return info.run_after.isoformat() if info and info.run_after else None

bag = BundleDagBag(dag_folder="{dags}", bundle_path=Path("{dags}"))
out = {{"errors": {{k: str(v)[-2000:] for k, v in bag.import_errors.items()}}, "dags": {{}}}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {{
        "tasks": {{t.task_id: {{"pool": t.pool, "retries": t.retries, "trigger_rule": str(t.trigger_rule),
                               "upstream": sorted(t.upstream_task_ids),
                               "outlets": [o.uri for o in t.outlets]}} for t in dag.tasks}},
        "schedule": type(dag.timetable).__name__, "params": sorted(dag.params.keys()),
        "first_run_after": first_run_after(dag),
    }}
print("RESULT" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def dag_bag(airflow_env) -> dict:
    from tests.fixtures.airflow import DAGS

    finished = airflow_env.python(INSPECT.format(dags=DAGS))
    line = next(line for line in finished.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line.removeprefix("RESULT"))


def test_the_dag_bag_imports_without_errors(dag_bag) -> None:
    assert dag_bag["errors"] == {}
    assert set(dag_bag["dags"]) == {"nianbao_harvest", "nianbao_deadlines", "nianbao_backfill"}


def test_harvest_crawls_each_family_in_its_own_pool_then_extracts_validates_loads_alerts(dag_bag) -> None:
    from nianbao.stages import families, pools

    tasks = dag_bag["dags"]["nianbao_harvest"]["tasks"]
    for family in families():
        crawl = tasks[f"crawl_{family}"]
        assert crawl["pool"] == f"nianbao_crawl_{family}" and crawl["pool"] in pools()
        assert crawl["upstream"] == [f"plan_{family}"]
        assert crawl["outlets"] == ["nianbao://crawl/documents"]
    assert tasks["find_new"]["upstream"] == sorted(f"crawl_{f}" for f in families())
    assert tasks["extract"]["upstream"] == ["find_new"]
    assert tasks["validate"]["upstream"] == ["extract", "find_new"]   # the batch ids, and after every extract
    assert tasks["load"]["upstream"] == ["validate"] and tasks["load"]["outlets"] == ["nianbao://warehouse/reports"]
    assert tasks["alerts"]["upstream"] == ["load"]
    assert all(task["retries"] >= 1 for task in tasks.values())


def test_schedules_and_params(dag_bag) -> None:
    dags = dag_bag["dags"]
    assert dags["nianbao_harvest"]["schedule"] == "MultipleCronTriggerTimetable"
    assert dags["nianbao_deadlines"]["schedule"] == "AssetOrTimeSchedule"
    assert dags["nianbao_backfill"]["schedule"] == "NullTimetable"
    assert {"years", "sources"} <= set(dags["nianbao_backfill"]["params"])
    assert set(dags["nianbao_backfill"]["tasks"]) == set(dags["nianbao_harvest"]["tasks"])


def test_the_crawl_pools_import_into_airflow(airflow_env, tmp_path) -> None:
    """What docker-compose's airflow-init does: `python -m nianbao.stages pools | airflow pools import`.
    (dag.test() runs tasks without the scheduler, so it does not need them.)"""
    from nianbao.stages import pools

    pools_file = tmp_path / "pools.json"
    pools_file.write_text(airflow_env.python("from nianbao.stages.__main__ import main; main(['pools'])").stdout)
    airflow_env.airflow("pools", "import", str(pools_file))
    listed = json.loads(airflow_env.airflow("pools", "list", "--output", "json").stdout)
    slots = {pool["pool"]: int(pool["slots"]) for pool in listed}
    assert {name: slots.get(name) for name in pools()} == dict.fromkeys(pools(), 1)


def test_unpausing_a_dag_starts_no_run_for_a_slot_already_past(dag_bag) -> None:
    from datetime import UTC, datetime

    for dag_id, dag in dag_bag["dags"].items():
        first = dag["first_run_after"]
        assert first is None or datetime.fromisoformat(first) > datetime.now(UTC), (dag_id, first)
    assert dag_bag["dags"]["nianbao_harvest"]["first_run_after"] is not None  # it is scheduled
