"""Notifiers against local servers on 127.0.0.1: the webhook formats and SMTP; secrets never logged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import socket
import time
import urllib.parse
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from email.header import decode_header, make_header
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from nianbao.alerts.messages import alert_message
from nianbao.alerts.model import Alert
from nianbao.alerts.notifiers import (
    ConnectionFields,
    NotifyError,
    WebhookNotifier,
    dingtalk_signature,
    notifiers_from_airflow,
    notifiers_from_settings,
    notify_all,
    webhook_from,
)
from nianbao.settings import Settings

TOKEN = "tok-5f0c1d2e9a8b7c6d"
SIGNING_SECRET = "SEC0123456789abcdefSECRET"
SMTP_PASSWORD = "pw-very-secret-42"
ALERTS = [
    Alert(kind="missing", key="missing:本溪市明山区卫生健康局:2024", severity="error",
          message="本溪市明山区卫生健康局2024年度报告逾期未发布", message_en="no 2024 report",
          agency="本溪市明山区卫生健康局", year=2024),
    Alert(kind="late", key="late:x:2023", severity="warning", message="某局2023年度报告逾期发布",
          message_en="published late", details={"delay_days": 133}),
]


def query(path: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))


def assert_no_secret(text: str) -> None:
    for secret in (TOKEN, SIGNING_SECRET, SMTP_PASSWORD):
        assert secret not in text


def test_dingtalk_markdown_with_token_and_signature(webhook_server, caplog) -> None:
    base, received = webhook_server
    caplog.set_level(logging.DEBUG)
    webhook_from(f"{base}/robot/send", "dingtalk", token=TOKEN, secret=SIGNING_SECRET).send(alert_message(ALERTS))
    [request] = received.requests
    params = query(request["path"])
    assert params["access_token"] == TOKEN
    expected = hmac.new(SIGNING_SECRET.encode(), f"{params['timestamp']}\n{SIGNING_SECRET}".encode(), hashlib.sha256)
    assert params["sign"] == base64.b64encode(expected.digest()).decode()
    body = request["body"]
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "年报告警：新增2条"
    assert "**逾期未发布** 本溪市明山区卫生健康局2024年度报告逾期未发布" in body["markdown"]["text"]
    assert "sent 2 alert(s)" in caplog.text
    assert_no_secret(caplog.text)


def test_wecom_markdown_with_key(webhook_server, caplog) -> None:
    base, received = webhook_server
    caplog.set_level(logging.DEBUG)
    webhook_from(f"{base}/cgi-bin/webhook/send", "wecom", token=TOKEN).send(alert_message(ALERTS, 1))
    [request] = received.requests
    assert query(request["path"]) == {"key": TOKEN}
    assert request["body"]["msgtype"] == "markdown"
    assert request["body"]["markdown"]["content"].startswith("**年报告警：新增2条，解除1条**")
    assert_no_secret(caplog.text)


def test_slack_blocks_with_the_token_in_the_url(webhook_server, caplog) -> None:
    base, received = webhook_server
    caplog.set_level(logging.DEBUG)
    webhook_from(f"{base}/services/T000/B000/{TOKEN}", "slack").send(alert_message(ALERTS))
    [request] = received.requests
    assert request["path"].endswith(TOKEN)
    body = request["body"]
    assert body["text"] == "年报告警：新增2条"
    assert body["blocks"][0]["text"]["type"] == "mrkdwn"
    assert "*逾期发布* 某局2023年度报告逾期发布" in body["blocks"][0]["text"]["text"]
    assert_no_secret(caplog.text)


def test_generic_json_with_a_bearer_token(webhook_server, caplog) -> None:
    base, received = webhook_server
    caplog.set_level(logging.DEBUG)
    webhook_from(f"{base}/hooks/nianbao", "generic", token=TOKEN).send(alert_message(ALERTS))
    [request] = received.requests
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    body = request["body"]
    assert body["source"] == "nianbao"
    assert [a["key"] for a in body["alerts"]] == [a.key for a in ALERTS]
    assert body["alerts"][1]["details"] == {"delay_days": 133}
    assert_no_secret(caplog.text)


def test_a_refusal_raises_without_the_secret(webhook_server, caplog) -> None:
    base, received = webhook_server
    received.answer = f'{{"errcode": 310000, "errmsg": "sign not match {TOKEN}"}}'.encode()
    caplog.set_level(logging.DEBUG)
    notifier = webhook_from(f"{base}/robot/send", "dingtalk", token=TOKEN, secret=SIGNING_SECRET)
    with pytest.raises(NotifyError) as raised:
        notifier.send(alert_message(ALERTS))
    assert "310000" in str(raised.value)
    assert_no_secret(str(raised.value))
    delivery = notify_all([notifier], alert_message(ALERTS))
    assert list(delivery.failed) == ["webhook"] and delivery.sent == []
    assert "refused" in caplog.text
    assert_no_secret(caplog.text)


def test_an_unreachable_webhook_fails_cleanly(caplog) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    notifier = webhook_from(f"http://127.0.0.1:{port}/services/{TOKEN}", "slack")
    caplog.set_level(logging.DEBUG)
    assert notify_all([notifier], alert_message(ALERTS)).failed.keys() == {"webhook"}
    assert_no_secret(caplog.text)
    assert_no_secret(repr(notifier))


def test_an_http_error_fails_cleanly(webhook_server) -> None:
    base, received = webhook_server
    received.status = 503
    with pytest.raises(NotifyError, match="503"):
        webhook_from(f"{base}/services/{TOKEN}", "slack").send(alert_message(ALERTS))


def test_dingtalk_signature_is_deterministic_for_a_timestamp() -> None:
    signed = dingtalk_signature("SECabc", now_ms=1700000000000)
    assert signed["timestamp"] == "1700000000000"
    assert signed == dingtalk_signature("SECabc", now_ms=1700000000000)


# ---------------------------------------------------------------- configuration
def notifiers_from_env(env: dict[str, str]) -> list:
    """The notifiers of these variables, read as the application reads them (nianbao.settings)."""
    with mock.patch.dict(os.environ, env, clear=True):
        return notifiers_from_settings(Settings())


def test_configuration_from_the_environment() -> None:
    env = {"NIANBAO_ALERT_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send",
           "NIANBAO_ALERT_WEBHOOK_TOKEN": TOKEN,
           "NIANBAO_ALERT_SMTP_HOST": "mail.example.org", "NIANBAO_ALERT_SMTP_TO": "a@example.org; b@example.org",
           "NIANBAO_ALERT_SMTP_PASSWORD": SMTP_PASSWORD, "NIANBAO_ALERT_SMTP_SECURITY": "ssl"}
    webhook, email = notifiers_from_env(env)
    assert isinstance(webhook, WebhookNotifier) and webhook.format == "dingtalk"
    assert email.recipients == ["a@example.org", "b@example.org"] and email.port == 465
    assert_no_secret(repr(webhook) + repr(email))
    assert notifiers_from_env({}) == []
    with pytest.raises(ValueError, match="alert_webhook_format"):
        notifiers_from_env({"NIANBAO_ALERT_WEBHOOK_URL": "https://x.example/", "NIANBAO_ALERT_WEBHOOK_FORMAT": "fax"})
    with pytest.raises(ValueError, match="unknown webhook format"):
        webhook_from("https://x.example/", "fax")


def test_configuration_from_airflow_connections() -> None:
    connections = {
        "nianbao_webhook": ConnectionFields(conn_type="http", host="qyapi.weixin.qq.com", schema="https",
                                            password=TOKEN, extra={"endpoint": "/cgi-bin/webhook/send"}),
        "nianbao_smtp": ConnectionFields(conn_type="smtp", host="smtp.example.org", port=587, login="bot",
                                         password=SMTP_PASSWORD, extra={"to": "ops@example.org",
                                                                        "security": "starttls"}),
    }
    webhook, email = notifiers_from_airflow(connections.get)
    assert webhook.format == "wecom" and webhook._target() == f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN}"
    assert (email.host, email.port, email.user, email.security) == ("smtp.example.org", 587, "bot", "starttls")
    assert notifiers_from_airflow(lambda conn_id: None) == []


# ---------------------------------------------------------------- e-mail
class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    mailbox = Mailbox()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


def test_email_with_login(smtp_server, caplog) -> None:
    port, mailbox = smtp_server
    caplog.set_level(logging.DEBUG)
    env = {"NIANBAO_ALERT_SMTP_HOST": "127.0.0.1", "NIANBAO_ALERT_SMTP_PORT": str(port),
           "NIANBAO_ALERT_SMTP_USER": "bot", "NIANBAO_ALERT_SMTP_PASSWORD": SMTP_PASSWORD,
           "NIANBAO_ALERT_SMTP_FROM": "nianbao@example.org", "NIANBAO_ALERT_SMTP_TO": "ops@example.org"}
    [email] = notifiers_from_env(env)
    assert notify_all([email], alert_message(ALERTS)).sent == ["email"]
    [(sender, recipients, content)] = mailbox.messages
    assert sender == "nianbao@example.org" and recipients == ["ops@example.org"]
    message = message_from_bytes(content)
    assert str(make_header(decode_header(message["Subject"]))) == "年报告警：新增2条"
    body = message.get_payload(decode=True).decode()
    assert "[逾期未发布] 本溪市明山区卫生健康局2024年度报告逾期未发布" in body
    assert_no_secret(caplog.text)


def test_email_with_a_wrong_password_fails_without_it(smtp_server, caplog) -> None:
    port, mailbox = smtp_server
    caplog.set_level(logging.DEBUG)
    wrong = "not-" + SMTP_PASSWORD
    [email] = notifiers_from_env({"NIANBAO_ALERT_SMTP_HOST": "127.0.0.1", "NIANBAO_ALERT_SMTP_PORT": str(port),
                                  "NIANBAO_ALERT_SMTP_USER": "bot", "NIANBAO_ALERT_SMTP_PASSWORD": wrong,
                                  "NIANBAO_ALERT_SMTP_TO": "ops@example.org"})
    assert notify_all([email], alert_message(ALERTS)).failed.keys() == {"email"}
    assert mailbox.messages == []
    assert wrong not in caplog.text and "e-mail via 127.0.0.1" in caplog.text


# ---------------------------------------------------------------- Feishu, mentions, keywords, WeCom v2
def test_feishu_card_signed_with_a_keyword_and_mentions(webhook_server, caplog) -> None:
    base, received = webhook_server
    received.answer = b'{"code": 0, "msg": "success", "data": {}}'
    caplog.set_level(logging.DEBUG)
    notifier = webhook_from(f"{base}/open-apis/bot/v2/hook/{TOKEN}", "feishu", secret=SIGNING_SECRET,
                            keyword="年报", at_user_ids=["ou_4f2a"])
    notifier.send(alert_message(ALERTS))
    [request] = received.requests
    body = request["body"]
    assert body["msg_type"] == "interactive"
    expected = hmac.new(f"{body['timestamp']}\n{SIGNING_SECRET}".encode(), b"", hashlib.sha256).digest()
    assert body["sign"] == base64.b64encode(expected).decode()
    assert abs(int(body["timestamp"]) - time.time()) < 60                   # seconds, not milliseconds
    header, [element] = body["card"]["header"], body["card"]["elements"]
    assert header["title"]["content"] == "年报告警：新增2条" and header["template"] == "red"
    assert element["tag"] == "markdown" and "<at id=ou_4f2a></at>" in element["content"]
    assert element["content"].index("逾期未发布") < element["content"].index("逾期发布** 某局")
    assert_no_secret(caplog.text)


def test_feishu_refusal_is_an_error(webhook_server) -> None:
    base, received = webhook_server
    received.answer = b'{"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}'
    with pytest.raises(NotifyError, match="19021"):
        webhook_from(f"{base}/open-apis/bot/v2/hook/x", "feishu", secret=SIGNING_SECRET).send(alert_message(ALERTS))
    received.answer = b'{"StatusCode": 0, "StatusMessage": "success"}'      # an older robot's success
    webhook_from(f"{base}/open-apis/bot/v2/hook/x", "feishu").send(alert_message(ALERTS))


def test_dingtalk_mentions_and_keyword(webhook_server) -> None:
    base, received = webhook_server
    webhook_from(f"{base}/robot/send", "dingtalk", token=TOKEN, keyword="nianbao",
                 at_mobiles=["13800000000"], at_user_ids=["manager4711"]).send(alert_message(ALERTS))
    body = received.bodies[0]
    assert body["at"] == {"atMobiles": ["13800000000"], "atUserIds": ["manager4711"], "isAtAll": False}
    assert body["markdown"]["title"] == "nianbao 年报告警：新增2条"         # the robot's keyword
    assert body["markdown"]["text"].startswith("**nianbao 年报告警")
    assert body["markdown"]["text"].rstrip().endswith("@13800000000 @manager4711")   # shown where they are @-ed


def test_wecom_markdown_v2_within_its_byte_limit(webhook_server) -> None:
    base, received = webhook_server
    many = [Alert(kind="missing", key=f"missing:{n}:2024", severity="error", message="某某局" * 60, message_en="x")
            for n in range(20)]
    webhook_from(f"{base}/cgi-bin/webhook/send", "wecom_markdown_v2", token=TOKEN).send(alert_message(many))
    body = received.bodies[0]
    assert body["msgtype"] == "markdown_v2" and list(body) == ["msgtype", "markdown_v2"]
    assert len(body["markdown_v2"]["content"].encode()) <= 4096


def test_options_a_format_cannot_honour_are_errors() -> None:
    for options, wrong in (({"secret": SIGNING_SECRET}, "slack"), ({"keyword": "年报"}, "wecom"),
                           ({"at_mobiles": ["13800000000"]}, "feishu"), ({"at_user_ids": ["u1"]}, "generic")):
        with pytest.raises(ValueError, match=f"the {wrong} webhook takes no"):
            webhook_from("https://hooks.example/x", wrong, **options)


def test_misspelt_or_incomplete_alert_settings_fail_when_read() -> None:
    with pytest.raises(ValueError, match="NIANBAO_ALERT_WEBHOOK_ULR .did you mean NIANBAO_ALERT_WEBHOOK_URL"):
        notifiers_from_env({"NIANBAO_ALERT_WEBHOOK_ULR": "https://oapi.dingtalk.com/robot/send"})
    with pytest.raises(ValueError, match="NIANBAO_ALERT_WEBHOOK_SECRET set without NIANBAO_ALERT_WEBHOOK_URL"):
        notifiers_from_env({"NIANBAO_ALERT_WEBHOOK_SECRET": SIGNING_SECRET})
    with pytest.raises(ValueError, match="without recipients"):
        notifiers_from_env({"NIANBAO_ALERT_SMTP_HOST": "mail.example.org"})
    with pytest.raises(ValueError, match="alert_smtp_security"):
        notifiers_from_env({"NIANBAO_ALERT_SMTP_HOST": "mail.example.org", "NIANBAO_ALERT_SMTP_TO": "a@b.c",
                            "NIANBAO_ALERT_SMTP_SECURITY": "tls"})
    with pytest.raises(ValueError, match="the wecom webhook takes no a keyword"):
        notifiers_from_env({"NIANBAO_ALERT_WEBHOOK_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
                            "NIANBAO_ALERT_WEBHOOK_KEYWORD": "年报"})


def test_errors_come_first_and_survive_the_cap(webhook_server) -> None:
    """25 image-only notes (info) opened before 3 missing reports (errors): the errors lead, the cap
    cuts information, and says what it cut."""
    base, received = webhook_server
    notes = [Alert(kind="image_only", key=f"image_only:{n}", severity="info", message=f"第{n}份为纯图片",
                   message_en="images") for n in range(25)]
    missing = [Alert(kind="missing", key=f"missing:{n}:2024", severity="error", message=f"机关{n}逾期未发布（截止2025-01-31）",
                     message_en="missing", details={"deadline": "2025-01-31"}) for n in range(3)]
    webhook_from(f"{base}/services/x", "slack").send(alert_message(notes + missing, today=date(2025, 4, 15)))
    text = received.bodies[0]["blocks"][0]["text"]["text"]
    items = [line for line in text.splitlines() if line.startswith("- ")]
    assert all("逾期未发布" in line and "已逾期74天" in line for line in items[:3])
    assert len(items) == 21 and "另有8条（提示8条）" in items[-1]


def test_a_test_message_through_the_cli(webhook_server, monkeypatch) -> None:
    from typer.testing import CliRunner

    from nianbao.cli import app
    from nianbao.settings import get_settings

    base, received = webhook_server
    runner = CliRunner()
    monkeypatch.setenv("NIANBAO_ALERT_WEBHOOK_URL", f"{base}/robot/send")
    monkeypatch.setenv("NIANBAO_ALERT_WEBHOOK_FORMAT", "dingtalk")
    get_settings.cache_clear()
    try:
        sent = runner.invoke(app, ["alerts", "test"])
        assert sent.exit_code == 0 and "webhook: sent" in sent.output
        assert "测试消息" in received.bodies[0]["markdown"]["text"]
        received.answer = b'{"errcode": 300001, "errmsg": "token is not exist"}'
        refused = runner.invoke(app, ["alerts", "test"])
        assert refused.exit_code == 1 and "300001" in refused.output
        monkeypatch.setenv("NIANBAO_ALERT_WEBHOOK_FORMT", "dingtalk")
        get_settings.cache_clear()
        misspelt = runner.invoke(app, ["alerts", "test"])
        assert misspelt.exit_code == 2 and "did you mean NIANBAO_ALERT_WEBHOOK_FORMAT" in misspelt.output
        assert len(received.requests) == 2                                   # nothing sent with a bad setting
    finally:
        get_settings.cache_clear()


def test_the_compose_files_empty_variables_mean_unset() -> None:
    """docker-compose.yml passes every alert variable, empty when not set: no notifier, no error."""
    import re
    from pathlib import Path

    compose = Path(__file__).resolve().parents[1] / "docker-compose.yml"
    names = re.findall(r"^\s+(NIANBAO_ALERT_\w+): \$\{\1:-\}$", compose.read_text(encoding="utf-8"), re.M)
    assert len(names) == len([n for n in Settings.model_fields if n.startswith("alert_")])   # every one, once
    assert notifiers_from_env(dict.fromkeys(names, "")) == []
