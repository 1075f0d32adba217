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
