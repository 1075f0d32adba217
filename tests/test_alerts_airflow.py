"""Notifiers from Airflow connections (as a DAG task finds them), in a child process with Airflow's
environment; the secrets stay out of everything it prints."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

TOKEN = "tok-airflow-3c9e1b7d"
PASSWORD = "smtp-airflow-pw-8f2a"

SHOW = """
import json
from nianbao.alerts.notifiers import notifiers_from_airflow, webhook_from

found = notifiers_from_airflow()
webhook, email = found
print("RESULT" + json.dumps({"kinds": [type(n).__name__ for n in found], "format": webhook.format,
                             "target_has_token": webhook._target().endswith("key=" + webhook.token.get_secret_value()),
                             "smtp": [email.host, email.port, email.user, email.recipients, email.security],
                             "repr": repr(found)}))
"""


def test_notifiers_come_from_airflow_connections(airflow_env) -> None:
    connections = {
        "AIRFLOW_CONN_NIANBAO_WEBHOOK": json.dumps({"conn_type": "http", "host": "https://qyapi.weixin.qq.com",
                                                    "password": TOKEN, "extra": {"format": "wecom",
                                                                                 "endpoint": "/cgi-bin/webhook/send"}}),
        "AIRFLOW_CONN_NIANBAO_SMTP": json.dumps({"conn_type": "smtp", "host": "smtp.example.org", "port": 587,
                                                 "login": "bot", "password": PASSWORD,
                                                 "extra": {"to": "ops@example.org", "security": "starttls"}}),
    }
    finished = airflow_env.python(SHOW, extra_env=connections)
    line = next(line for line in finished.stdout.splitlines() if line.startswith("RESULT"))
    shown = json.loads(line.removeprefix("RESULT"))
    assert shown["kinds"] == ["WebhookNotifier", "EmailNotifier"]
    assert shown["format"] == "wecom" and shown["target_has_token"]
    assert shown["smtp"] == ["smtp.example.org", 587, "bot", ["ops@example.org"], "starttls"]
    printed = finished.stdout.replace(line, shown["repr"]) + finished.stderr
    assert TOKEN not in printed and PASSWORD not in printed


CALLBACK = """
import json
from pathlib import Path
from types import SimpleNamespace
from airflow.dag_processing.dagbag import BundleDagBag

bag = BundleDagBag(dag_folder="{dags}", bundle_path=Path("{dags}"))
wired = {{}}
for dag_id, dag in bag.dags.items():
    for task in dag.tasks:
        callbacks = task.on_failure_callback or []
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        wired[f"{{dag_id}}.{{task.task_id}}"] = [c.__name__ for c in callbacks]
load = bag.dags["nianbao_harvest"].get_task("load")
failed = SimpleNamespace(dag_id="nianbao_harvest", task_id="load", run_id="scheduled__2025-04-15T18:00:00+00:00",
                         try_number=3)
for callback in (load.on_failure_callback if isinstance(load.on_failure_callback, list)
                 else [load.on_failure_callback]):
    callback({{"ti": failed, "exception": RuntimeError("the warehouse is read-only")}})
print("RESULT" + json.dumps(wired))
"""


def test_a_failed_task_is_told_through_the_notifiers(airflow_env, webhook_server) -> None:
    """Every task of every DAG has the failure callback; called as Airflow calls it, it posts."""
    from tests.fixtures.airflow import DAGS

    base, received = webhook_server
    finished = airflow_env.python(CALLBACK.format(dags=DAGS), extra_env={
        "NIANBAO_ALERT_WEBHOOK_URL": f"{base}/hooks/ops", "NIANBAO_ALERT_WEBHOOK_FORMAT": "generic"})
    line = next(line for line in finished.stdout.splitlines() if line.startswith("RESULT"))
    wired = json.loads(line.removeprefix("RESULT"))
    assert wired and all(names == ["on_task_failure"] for names in wired.values()), wired
    [body] = received.bodies
    assert body["event"] == "task_failed" and body["task_id"] == "load" and body["try_number"] == 3
    assert body["title"] == "年报采集任务失败：load"
    assert "the warehouse is read-only" in body["lines"][0]["text"] and body["lines"][0]["severity"] == "error"
