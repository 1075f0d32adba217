"""Notifiers: a webhook (generic JSON, DingTalk, Feishu, WeCom or Slack format) and e-mail (SMTP).

Configured by the settings (NIANBAO_ALERT_*, nianbao/settings.py, checked when they are read)
or from Airflow connections (`nianbao_webhook`, `nianbao_smtp`). Each notifier has a stable
`name`: the warehouse keeps what each one delivered (alert_deliveries). Tokens, signing
secrets and passwords are kept in `SecretStr` and never logged: a log line names a webhook by
its scheme and host only, and any error text is scrubbed of every secret before it is
logged or raised.

The transports are our own (urllib, smtplib) rather than apprise: apprise's DingTalk, WeCom
and Feishu plugins post to the vendors' fixed hosts (no private relay, no local receiver to
test against) and know neither DingTalk's atUserIds nor WeCom's markdown_v2.
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
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from typing import Any, Literal, Protocol

from pydantic import SecretStr

from nianbao.alerts import messages
from nianbao.alerts.messages import Message
from nianbao.settings import WEBHOOK_FORMATS, Settings, WebhookFormat, secret_value, split_list

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15
WEBHOOK_CONN_ID = "nianbao_webhook"
SMTP_CONN_ID = "nianbao_smtp"


class NotifyError(RuntimeError):
    """A notifier could not deliver; the message never holds a secret."""


class Notifier(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


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
SIGNED_FORMATS = ("dingtalk", "feishu")          # a signing secret (加签 / 签名校验)
KEYWORD_FORMATS = ("dingtalk", "feishu")         # a custom keyword the robot requires (自定义关键词)
MENTION_FORMATS = {"at_mobiles": ("dingtalk",), "at_user_ids": ("dingtalk", "feishu")}
WECOM_LIMIT_BYTES = 4000                         # WeCom refuses markdown content over 4096 bytes


@dataclass
class WebhookNotifier:
    """POSTs a message as JSON. `url` may carry the token itself, or `token` adds it: as
    access_token= (DingTalk), key= (WeCom), or an `Authorization: Bearer` header (generic, Slack).
    `secret` signs DingTalk (query) and Feishu (body) calls; `keyword` is put in every title;
    `at_mobiles` / `at_user_ids` are mentioned (DingTalk; Feishu takes user ids)."""

    url: SecretStr
    format: WebhookFormat = "generic"
    token: SecretStr | None = None
    secret: SecretStr | None = None
    keyword: str | None = None
    at_mobiles: tuple[str, ...] = ()
    at_user_ids: tuple[str, ...] = ()
    name: str = "webhook"

    def send(self, message: Message) -> None:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode()
        request = urllib.request.Request(self._target(), data=body, method="POST", headers=self._headers())
        where = redact_url(self.url.get_secret_value())
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = response.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            raise NotifyError(self._scrub(f"{self.format} webhook {where} failed: {exc}")) from None
        self._check_answer(answer, where)
        log.info("sent %d alert(s) to the %s webhook at %s (%s)", len(message.alerts), self.format, where,
                 message.event)

    def payload(self, message: Message) -> dict[str, Any]:
        if self.keyword and self.keyword not in message.title:
            message = replace(message, title=f"{self.keyword} {message.title}")
        match self.format:
            case "dingtalk":
                return self._dingtalk(message)
            case "feishu":
                return self._feishu(message)
            case "wecom" | "wecom_markdown_v2":
                msgtype = "markdown" if self.format == "wecom" else "markdown_v2"
                return {"msgtype": msgtype,
                        msgtype: {"content": _cap_bytes(messages.markdown(message), WECOM_LIMIT_BYTES)}}
            case "slack":
                text = messages.markdown(message, bold="*")
                return {"text": message.title, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
        return {"source": "nianbao", "event": message.event, "title": message.title, "resolved": message.resolved,
                "alerts": [alert.as_dict() for alert in message.alerts],
                "lines": [{"severity": line.severity, "label": line.label, "text": line.text, "text_en": line.text_en}
                          for line in message.ordered()], **message.extra}

    def _dingtalk(self, message: Message) -> dict[str, Any]:
        mentions = " ".join(f"@{who}" for who in (*self.at_mobiles, *self.at_user_ids))  # shown where they are @-ed
        payload: dict[str, Any] = {"msgtype": "markdown", "markdown": {
            "title": message.title, "text": messages.markdown(message, mentions=mentions)}}
        if mentions:
            payload["at"] = {"atMobiles": list(self.at_mobiles), "atUserIds": list(self.at_user_ids),
                             "isAtAll": False}
        return payload

    def _feishu(self, message: Message) -> dict[str, Any]:
        mentions = " ".join(f"<at id={who}></at>" for who in self.at_user_ids)
        body = messages.markdown(message, mentions=mentions).split("\n", 2)[-1]   # the title is the card's header
        payload: dict[str, Any] = {"msg_type": "interactive", "card": {
            "header": {"title": {"tag": "plain_text", "content": message.title},
                       "template": "red" if message.has_errors else "blue"},
            "elements": [{"tag": "markdown", "content": body}]}}
        if self.secret is not None:
            payload.update(feishu_signature(self.secret.get_secret_value()))
        return payload

    def _target(self) -> str:
        url = self.url.get_secret_value()
        query: dict[str, str] = {}
        if self.token is not None and self.format in ("dingtalk", "wecom", "wecom_markdown_v2"):
            query["access_token" if self.format == "dingtalk" else "key"] = self.token.get_secret_value()
        if self.secret is not None and self.format == "dingtalk":
            query.update(dingtalk_signature(self.secret.get_secret_value()))
        if not query:
            return url
        return f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{urllib.parse.urlencode(query)}"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "nianbao-alerts"}
        if self.token is not None and self.format in ("generic", "slack", "feishu"):
            headers["Authorization"] = f"Bearer {self.token.get_secret_value()}"
        return headers

    def _check_answer(self, answer: str, where: str) -> None:
        """DingTalk and WeCom answer HTTP 200 with {"errcode": n}, Feishu with {"code": n} (older
        robots {"StatusCode": n}), even when they refuse the message."""
        if self.format in ("generic", "slack"):
            return
        try:
            parsed = json.loads(answer)
            fields = ("code", "StatusCode") if self.format == "feishu" else ("errcode",)
            code = next((parsed[f] for f in fields if f in parsed), None)
        except (ValueError, TypeError):
            code = None
        if code != 0:
            raise NotifyError(self._scrub(f"{self.format} webhook {where} refused the message: {answer[:200]}"))

    def _scrub(self, text: str) -> str:
        return _scrub(text, (self.url, self.token, self.secret))


def dingtalk_signature(secret: str, now_ms: int | None = None) -> dict[str, str]:
    """DingTalk's 加签: timestamp (ms) and base64(HMAC-SHA256(key=secret, "timestamp\nsecret"))."""
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return {"timestamp": timestamp, "sign": base64.b64encode(digest).decode()}


def feishu_signature(secret: str, now_s: int | None = None) -> dict[str, str]:
    """Feishu's 签名校验: timestamp (s) and base64(HMAC-SHA256(key="timestamp\nsecret", empty message))."""
    timestamp = str(now_s if now_s is not None else int(time.time()))
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return {"timestamp": timestamp, "sign": base64.b64encode(digest).decode()}


def _cap_bytes(text: str, limit: int) -> str:
    encoded = text.encode()
    return text if len(encoded) <= limit else encoded[: limit - 6].decode("utf-8", "ignore") + "……"


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

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail.set_content(messages.plain(message))
        try:
            with self._connect() as smtp:
                if self.user and self.password is not None:
                    smtp.login(self.user, self.password.get_secret_value())
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            detail = _scrub(str(exc), (self.password,))
            raise NotifyError(f"e-mail via {self.host}:{self.port} failed: {detail}") from None
        log.info("sent %d alert(s) by e-mail to %d recipient(s) via %s:%d (%s)",
                 len(message.alerts), len(self.recipients), self.host, self.port, message.event)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context())
        smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
        if self.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp


# ---------------------------------------------------------------- configuration
def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value else None


def guess_format(url: str) -> WebhookFormat:
    host = urllib.parse.urlsplit(url).hostname or ""
    if "dingtalk" in host:
        return "dingtalk"
    if "feishu" in host or "larksuite" in host:
        return "feishu"
    if "weixin" in host or "wecom" in host:
        return "wecom"
    if "slack" in host:
        return "slack"
    return "generic"


def webhook_from(url: str, format: str | None = None, token: str | None = None, secret: str | None = None, *,
                 keyword: str | None = None, at_mobiles: Iterable[str] = (), at_user_ids: Iterable[str] = (),
                 name: str = "webhook") -> WebhookNotifier:
    """A webhook notifier; an option its format cannot honour is a ValueError (never silently dropped)."""
    chosen = (format or guess_format(url)).lower()
    if chosen not in WEBHOOK_FORMATS:
        raise ValueError(f"unknown webhook format {chosen!r}; use one of {', '.join(WEBHOOK_FORMATS)}")
    options = {"a signing secret": (secret, SIGNED_FORMATS), "a keyword": (keyword, KEYWORD_FORMATS),
               "at_mobiles": (tuple(at_mobiles), MENTION_FORMATS["at_mobiles"]),
               "at_user_ids": (tuple(at_user_ids), MENTION_FORMATS["at_user_ids"])}
    for option, (value, formats) in options.items():
        if value and chosen not in formats:
            raise ValueError(f"the {chosen} webhook takes no {option} (only {', '.join(formats)})")
    return WebhookNotifier(url=SecretStr(url), format=chosen, token=_secret(token), secret=_secret(secret),  # type: ignore[arg-type]
                           keyword=keyword or None, at_mobiles=tuple(at_mobiles), at_user_ids=tuple(at_user_ids),
                           name=name)


def notifiers_from_settings(settings: Settings) -> list[Notifier]:
    """NIANBAO_ALERT_WEBHOOK_URL (+ _FORMAT, _TOKEN, _SECRET, _KEYWORD, _AT_MOBILES, _AT_USER_IDS) and
    NIANBAO_ALERT_SMTP_HOST (+ _PORT, _USER, _PASSWORD, _FROM, _TO, _SECURITY); see docs/configuration.md."""
    found: list[Notifier] = []
    if url := secret_value(settings.alert_webhook_url):
        found.append(webhook_from(url, settings.alert_webhook_format, secret_value(settings.alert_webhook_token),
                                  secret_value(settings.alert_webhook_secret), keyword=settings.alert_webhook_keyword,
                                  at_mobiles=split_list(settings.alert_webhook_at_mobiles),
                                  at_user_ids=split_list(settings.alert_webhook_at_user_ids)))
    if host := settings.alert_smtp_host:
        found.append(_email(host, settings.alert_smtp_port, settings.alert_smtp_user,
                            secret_value(settings.alert_smtp_password), settings.alert_smtp_from,
                            settings.alert_smtp_to, settings.alert_smtp_security))
    return found


def _email(host: str, port: str | int | None, user: str | None, password: str | None, sender: str | None,
           recipients: str | None, security: str | None, name: str = "email") -> EmailNotifier:
    to = split_list(recipients)
    if not to:
        raise ValueError("the SMTP notifier needs recipients (NIANBAO_ALERT_SMTP_TO or the connection's extra 'to')")
    mode = (security or "none").lower()
    if mode not in ("none", "starttls", "ssl"):
        raise ValueError(f"unknown SMTP security {mode!r}; use none, starttls or ssl")
    return EmailNotifier(host=host, port=int(port or (465 if mode == "ssl" else 25)), user=user or None,
                         password=_secret(password), sender=sender or f"nianbao@{host}", recipients=to,
                         security=mode, name=name)  # type: ignore[arg-type]


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


CONNECTION_EXTRAS = frozenset({"format", "endpoint", "secret", "keyword", "at_mobiles", "at_user_ids"})


def webhook_from_connection(conn: ConnectionFields, name: str = WEBHOOK_CONN_ID) -> WebhookNotifier:
    """`nianbao_webhook`: host is the full URL (or schema + host + port); password the token;
    extra {"format": "dingtalk", "secret": "SEC…", "keyword": …, "at_mobiles": [...], "at_user_ids": [...]}."""
    unknown = set(conn.extra) - CONNECTION_EXTRAS
    if unknown:
        raise ValueError(f"the {name} connection has unknown extra field(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(CONNECTION_EXTRAS))}")
    host = conn.host or ""
    url = host if "://" in host else f"{conn.schema or 'https'}://{host}{f':{conn.port}' if conn.port else ''}"
    if endpoint := conn.extra.get("endpoint"):
        url = url.rstrip("/") + "/" + str(endpoint).lstrip("/")
    return webhook_from(url, conn.extra.get("format"), conn.password, conn.extra.get("secret"),
                        keyword=conn.extra.get("keyword"), at_mobiles=_listed(conn.extra.get("at_mobiles")),
                        at_user_ids=_listed(conn.extra.get("at_user_ids")), name=name)


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else split_list(value)


def email_from_connection(conn: ConnectionFields, name: str = SMTP_CONN_ID) -> EmailNotifier:
    """`nianbao_smtp`: host, port, login, password; extra {"from": …, "to": "a@x, b@y", "security": "starttls"}."""
    return _email(conn.host or "", conn.port, conn.login, conn.password, conn.extra.get("from"),
                  conn.extra.get("to"), conn.extra.get("security"), name=name)


def notifiers_from_airflow(lookup: Callable[[str], ConnectionFields | None] | None = None) -> list[Notifier]:
    """The notifiers of the Airflow connections that exist (inside a task), named by their conn id."""
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
    """The settings' notifiers, then (inside Airflow) the connections' ones. A bad setting is a
    ValueError here, before a check stores anything."""
    found = notifiers_from_settings(settings)
    if with_airflow:
        found.extend(notifiers_from_airflow())
    return found


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)   # notifier → why (scrubbed)


def notify_all(notifiers: Sequence[Notifier], message: Message) -> Delivery:
    """Send through every notifier; a failing one is logged (scrubbed) and does not stop the others."""
    delivery = Delivery()
    for notifier in notifiers:
        try:
            notifier.send(message)
        except NotifyError as exc:
            log.warning("%s", exc)
            delivery.failed[notifier.name] = str(exc)
        else:
            delivery.sent.append(notifier.name)
    return delivery
