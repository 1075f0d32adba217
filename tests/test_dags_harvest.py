"""`dag.test()` of nianbao_harvest end to end: the sandbox portal (127.0.0.1) → a fresh SQLite
warehouse, through a temporary AIRFLOW_HOME with a migrated metadata DB; a second run changes
nothing in the warehouse."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SITES = ["hongze", "huaian"]                 # a TRS and a jcms portal, no OCR: quick
SOURCES = [f"sandbox-{site}" for site in SITES]
HELD_BACK = ["huaian-2024-word-pdf", "huaian-2024-xxe"]  # 2024 not published yet: a missing-report alert

RUN_DAG = """
import json, logging, sys
from pathlib import Path
from airflow.dag_processing.dagbag import BundleDagBag

logging.disable(logging.WARNING)
dags = Path(sys.argv[1])
bag = BundleDagBag(dag_folder=str(dags), bundle_path=dags)
assert not bag.import_errors, bag.import_errors
dag = bag.get_dag(sys.argv[3])
run = dag.test(run_conf=json.loads(sys.argv[2]))
states = {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in run.get_task_instances()}
print("RESULT" + json.dumps({"state": str(run.state), "tasks": states}))
"""

# What a run must not change: everything but the log of crawl runs.
COMPARED_TABLES = ("sources", "agencies", "regions", "documents", "extraction_attempts", "reports", "cells",
                   "findings", "report_sections", "alerts")


def snapshot(database: Path) -> dict[str, list]:
    with sqlite3.connect(database) as db:
        return {table: sorted(map(repr, db.execute(f"SELECT * FROM {table}").fetchall()))
                for table in COMPARED_TABLES}


def run_dag(airflow_env, portal_url: str, data_dir: Path, dag_id: str = "nianbao_harvest",
            conf: dict | None = None) -> dict:
    from tests.fixtures.airflow import DAGS

    conf = conf or {"sources": SOURCES, "today": "2025-04-15", "fast": True, "jobs": 2}
    env = {"NIANBAO_SANDBOX_URL": portal_url, "NIANBAO_DATA_DIR": str(data_dir),
           "NIANBAO_WAREHOUSE_URL": f"sqlite:///{data_dir / 'warehouse.db'}"}
    code = RUN_DAG.replace("sys.argv[1]", repr(str(DAGS))).replace("sys.argv[2]", repr(json.dumps(conf)))
    code = code.replace("sys.argv[3]", repr(dag_id))
    finished = airflow_env.python(code, extra_env=env, timeout=900)
    line = next(line for line in finished.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line.removeprefix("RESULT"))


def test_dag_test_harvests_the_sandbox_and_a_second_run_changes_nothing(
        airflow_env, sandbox_portal_factory, tmp_path) -> None:
    portal = sandbox_portal_factory(sites=SITES, hold_back=HELD_BACK)
    data_dir = tmp_path / "var"

    first = run_dag(airflow_env, portal.url, data_dir)
    assert first["state"] == "success", first
    tasks = first["tasks"]
    assert tasks["crawl_trs[0]"] == tasks["crawl_jcms[0]"] == "success"
    assert tasks["crawl_gkmlpt[-1]"] == "skipped"  # no gkmlpt source chosen: nothing to map
    assert tasks["load[-1]"] == tasks["alerts[-1]"] == "success"

    database = data_dir / "warehouse.db"
    with sqlite3.connect(database) as db:
        reports = dict(db.execute("SELECT a.slug, COUNT(*) FROM reports r JOIN agencies a ON a.id = r.agency_id "
                                  "WHERE r.is_current GROUP BY a.slug").fetchall())
        alerts = {row[0] for row in db.execute("SELECT cause_key FROM alerts WHERE resolved_at IS NULL")}
        huaian = db.execute("SELECT id FROM agencies WHERE slug = 'sandbox-huaian'").fetchone()[0]
    assert reports == {"sandbox-hongze": 5, "sandbox-huaian": 4}  # 2020–2024; huaian's 2024 held back
    assert f"missing:{huaian}:2024" in alerts                    # 淮安市人民政府, by its warehouse id
    assert f"late:{huaian}:2022" in alerts                       # published 2023-05-08
    assert any(key.startswith("malformed:") for key in alerts)   # hongze 2023 breaks T4-SUM
    with sqlite3.connect(database) as db:                          # the hand-over rows: loaded, records dropped
        staged = db.execute("SELECT stage, count(*), count(record) FROM staged_records GROUP BY stage").fetchall()
    assert [(stage, records) for stage, _, records in staged] == [("loaded", 0)]

    before = snapshot(database)
    second = run_dag(airflow_env, portal.url, data_dir)
    assert second["state"] == "success", second
    assert snapshot(database) == before

    deadlines = run_dag(airflow_env, portal.url, data_dir, "nianbao_deadlines", {"today": "2025-04-15"})
    assert deadlines["state"] == "success", deadlines
    assert snapshot(database) == before

    backfill = run_dag(airflow_env, portal.url, data_dir, "nianbao_backfill",
                       {"years": [2024], "sources": SOURCES[:1], "today": "2025-04-15", "fast": True})
    assert backfill["state"] == "success", backfill
    assert snapshot(database) == before
