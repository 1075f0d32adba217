"""Notifiers: a webhook (generic JSON, DingTalk, WeCom or Slack format) and e-mail (SMTP).

Configured by the settings (NIANBAO_ALERT_*, nianbao/settings.py) or from Airflow connections
(`nianbao_webhook`, `nianbao_smtp`). Tokens, signing secrets and passwords are kept
in `SecretStr` and never logged: a log line names a webhook by its scheme and host
only, and any error text is scrubbed of every secret before it is logged or raised.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal, Protocol

from pydantic import SecretStr

from nianbao.alerts import messages
from nianbao.alerts.model import Alert
from nianbao.settings import Settings, secret_value

log = logging.getLogger(__name__)

WebhookFormat = Literal["generic", "dingtalk", "wecom", "slack"]
WEBHOOK_FORMATS: tuple[str, ...] = ("generic", "dingtalk", "wecom", "slack")
TIMEOUT_SECONDS = 15
WEBHOOK_CONN_ID = "nianbao_webhook"
SMTP_CONN_ID = "nianbao_smtp"


class NotifyError(RuntimeError):
    """A notifier could not deliver; the message never holds a secret."""


class Notifier(Protocol):
    name: str

    def send(self, opened: Sequence[Alert], resolved: int = 0) -> None: ...


def _scrub(text: str, secrets: Iterable[SecretStr | None]) -> str:
    for secret in secrets:
        value = secret.get_secret_value() if secret else ""
        if value:
            text = text.replace(value, "***").replace(urllib.parse.quote(value, safe=""), "***")
    return text


def redact_url(url: str) -> str:
    """scheme://host[:port]/… — webhook paths and queries carry tokens (Slack, DingTalk, WeCom)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/…"


# ---------------------------------------------------------------- webhook
@dataclass
class WebhookNotifier:
    """POSTs alerts as JSON. `url` may carry the token itself, or `token` adds it: as
    access_token= (DingTalk), key= (WeCom), or an `Authorization: Bearer` header (generic, Slack).
    `secret` is DingTalk's signing secret (加签)."""

    url: SecretStr
    format: WebhookFormat = "generic"
    token: SecretStr | None = None
    secret: SecretStr | None = None
    name: str = "webhook"

    def send(self, opened: Sequence[Alert], resolved: int = 0) -> None:
        if not opened and not resolved:
            return
        body = json.dumps(self.payload(opened, resolved), ensure_ascii=False).encode()
        request = urllib.request.Request(self._target(), data=body, method="POST", headers=self._headers())
        where = redact_url(self.url.get_secret_value())
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = response.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            raise NotifyError(self._scrub(f"{self.format} webhook {where} failed: {exc}")) from None
        self._check_answer(answer, where)
        log.info("sent %d alert(s) to the %s webhook at %s", len(opened), self.format, where)

    def payload(self, opened: Sequence[Alert], resolved: int = 0) -> dict[str, Any]:
        heading = messages.title(opened, resolved)
        match self.format:
            case "dingtalk":
                return {"msgtype": "markdown",
                        "markdown": {"title": heading, "text": messages.markdown(opened, resolved)}}
            case "wecom":
                return {"msgtype": "markdown", "markdown": {"content": _cap_bytes(messages.markdown(opened, resolved), 4000)}}
            case "slack":
                text = messages.markdown(opened, resolved, bold="*")
                return {"text": heading, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
        return {"source": "nianbao", "title": heading, "resolved": resolved,
                "alerts": [alert.as_dict() for alert in opened]}

    def _target(self) -> str:
        url = self.url.get_secret_value()
        query: dict[str, str] = {}
        if self.token is not None and self.format in ("dingtalk", "wecom"):
            query["access_token" if self.format == "dingtalk" else "key"] = self.token.get_secret_value()
        if self.secret is not None and self.format == "dingtalk":
            query.update(dingtalk_signature(self.secret.get_secret_value()))
        if not query:
            return url
        return f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{urllib.parse.urlencode(query)}"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "nianbao-alerts"}
        if self.token is not None and self.format in ("generic", "slack"):
            headers["Authorization"] = f"Bearer {self.token.get_secret_value()}"
        return headers

    def _check_answer(self, answer: str, where: str) -> None:
        """DingTalk and WeCom answer HTTP 200 with {"errcode": n} even when they refuse."""
        if self.format not in ("dingtalk", "wecom"):
            return
        try:
            errcode = json.loads(answer).get("errcode", 0)
        except (ValueError, AttributeError):
            errcode = None
        if errcode != 0:
            raise NotifyError(self._scrub(f"{self.format} webhook {where} refused the message: {answer[:200]}"))

    def _scrub(self, text: str) -> str:
        return _scrub(text, (self.url, self.token, self.secret))


def dingtalk_signature(secret: str, now_ms: int | None = None) -> dict[str, str]:
    """DingTalk's 加签: timestamp and base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return {"timestamp": timestamp, "sign": base64.b64encode(digest).decode()}


def _cap_bytes(text: str, limit: int) -> str:
    encoded = text.encode()
    return text if len(encoded) <= limit else encoded[: limit - 3].decode("utf-8", "ignore") + "……"


# ---------------------------------------------------------------- e-mail
@dataclass
class EmailNotifier:
    """Sends alerts as a plain-text e-mail. security: none | starttls | ssl."""

    host: str
    sender: str
    recipients: list[str]
    port: int = 25
    user: str | None = None
    password: SecretStr | None = None
    security: Literal["none", "starttls", "ssl"] = "none"
    name: str = "email"

    def send(self, opened: Sequence[Alert], resolved: int = 0) -> None:
        if not opened and not resolved:
            return
        message = EmailMessage()
        message["Subject"] = messages.title(opened, resolved)
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(messages.plain(opened, resolved))
        try:
            with self._connect() as smtp:
                if self.user and self.password is not None:
                    smtp.login(self.user, self.password.get_secret_value())
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            detail = _scrub(str(exc), (self.password,))
            raise NotifyError(f"e-mail via {self.host}:{self.port} failed: {detail}") from None
        log.info("sent %d alert(s) by e-mail to %d recipient(s) via %s:%d",
                 len(opened), len(self.recipients), self.host, self.port)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context())
        smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
        if self.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp


# ---------------------------------------------------------------- configuration
def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]


def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value else None


def guess_format(url: str) -> WebhookFormat:
    host = urllib.parse.urlsplit(url).hostname or ""
    if "dingtalk" in host:
        return "dingtalk"
    if "weixin" in host or "wecom" in host:
        return "wecom"
    if "slack" in host:
        return "slack"
    return "generic"


def webhook_from(url: str, format: str | None = None, token: str | None = None,
                 secret: str | None = None) -> WebhookNotifier:
    chosen = (format or guess_format(url)).lower()
    if chosen not in WEBHOOK_FORMATS:
        raise ValueError(f"unknown webhook format {chosen!r}; use one of {', '.join(WEBHOOK_FORMATS)}")
    return WebhookNotifier(url=SecretStr(url), format=chosen, token=_secret(token), secret=_secret(secret))  # type: ignore[arg-type]


def notifiers_from_settings(settings: Settings) -> list[Notifier]:
    """NIANBAO_ALERT_WEBHOOK_URL (+ _FORMAT, _TOKEN, _SECRET) and NIANBAO_ALERT_SMTP_HOST
    (+ _PORT, _USER, _PASSWORD, _FROM, _TO, _SECURITY); see docs/configuration.md."""
    found: list[Notifier] = []
    if url := secret_value(settings.alert_webhook_url):
        found.append(webhook_from(url, settings.alert_webhook_format, secret_value(settings.alert_webhook_token),
                                  secret_value(settings.alert_webhook_secret)))
    if host := settings.alert_smtp_host:
        found.append(_email(host, settings.alert_smtp_port, settings.alert_smtp_user,
                            secret_value(settings.alert_smtp_password), settings.alert_smtp_from,
                            settings.alert_smtp_to, settings.alert_smtp_security))
    return found


def _email(host: str, port: str | int | None, user: str | None, password: str | None, sender: str | None,
           recipients: str | None, security: str | None) -> EmailNotifier:
    to = _split(recipients)
    if not to:
        raise ValueError("the SMTP notifier needs recipients (NIANBAO_ALERT_SMTP_TO or the connection's extra 'to')")
    mode = (security or "none").lower()
    if mode not in ("none", "starttls", "ssl"):
        raise ValueError(f"unknown SMTP security {mode!r}; use none, starttls or ssl")
    return EmailNotifier(host=host, port=int(port or (465 if mode == "ssl" else 25)), user=user or None,
                         password=_secret(password), sender=sender or f"nianbao@{host}", recipients=to,
                         security=mode)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ConnectionFields:
    """The parts of an Airflow connection a notifier reads (so this module needs no Airflow)."""

    conn_type: str | None = None
    host: str | None = None
    schema: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def webhook_from_connection(conn: ConnectionFields) -> WebhookNotifier:
    """`nianbao_webhook`: host is the full URL (or schema + host + port); password the token;
    extra {"format": "dingtalk", "secret": "SEC…"}."""
    host = conn.host or ""
    url = host if "://" in host else f"{conn.schema or 'https'}://{host}{f':{conn.port}' if conn.port else ''}"
    if endpoint := conn.extra.get("endpoint"):
        url = url.rstrip("/") + "/" + str(endpoint).lstrip("/")
    return webhook_from(url, conn.extra.get("format"), conn.password, conn.extra.get("secret"))


def email_from_connection(conn: ConnectionFields) -> EmailNotifier:
    """`nianbao_smtp`: host, port, login, password; extra {"from": …, "to": "a@x, b@y", "security": "starttls"}."""
    return _email(conn.host or "", conn.port, conn.login, conn.password, conn.extra.get("from"),
                  conn.extra.get("to"), conn.extra.get("security"))


def notifiers_from_airflow(lookup: Callable[[str], ConnectionFields | None] | None = None) -> list[Notifier]:
    """The notifiers of the Airflow connections that exist (inside a task)."""
    lookup = lookup or airflow_connection
    found: list[Notifier] = []
    if (webhook := lookup(WEBHOOK_CONN_ID)) is not None:
        found.append(webhook_from_connection(webhook))
    if (smtp := lookup(SMTP_CONN_ID)) is not None:
        found.append(email_from_connection(smtp))
    return found


def airflow_connection(conn_id: str) -> ConnectionFields | None:
    try:
        from airflow.sdk import Connection

        conn = Connection.get(conn_id)
    except Exception:  # no such connection, or not inside Airflow
        return None
    return ConnectionFields(conn_type=conn.conn_type, host=conn.host, schema=conn.schema, port=conn.port,
                            login=conn.login, password=conn.password, extra=conn.extra_dejson or {})


def configured_notifiers(settings: Settings, *, with_airflow: bool = False) -> list[Notifier]:
    """The settings' notifiers, then (inside Airflow) the connections' ones."""
    found = notifiers_from_settings(settings)
    if with_airflow:
        found.extend(notifiers_from_airflow())
    return found


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def notify_all(notifiers: Sequence[Notifier], opened: Sequence[Alert], resolved: int = 0) -> Delivery:
    """Send through every notifier; a failing one is logged (scrubbed) and does not stop the others."""
    delivery = Delivery()
    for notifier in notifiers:
        try:
            notifier.send(opened, resolved)
        except NotifyError as exc:
            log.warning("%s", exc)
            delivery.failed.append(notifier.name)
        else:
            delivery.sent.append(notifier.name)
    return delivery
