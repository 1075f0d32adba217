"""Every setting of nianbao, in one model: read from the environment (prefix NIANBAO_) once, here.

Paths derive from the home directory (NIANBAO_HOME), never from the current directory.
The floor-2 packages (crawler, extract, warehouse) read no setting themselves: the
application hands them what they need as arguments, and the crawl process receives its
part serialised by its parent (`crawl_config`).

`python -m nianbao.settings` prints docs/configuration.md (a test keeps the file in step).
"""

from __future__ import annotations

import difflib
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crawler.config import DEFAULT_BROWSER, DEFAULT_RECHECK_SECONDS, database_in, raw_store_in
from crawler.registry import SHIPPED_SOURCES

ENV_PREFIX = "NIANBAO_"
ALERT_PREFIX = f"{ENV_PREFIX}ALERT_"
WebhookFormat = Literal["generic", "dingtalk", "feishu", "wecom", "wecom_markdown_v2", "slack"]
WEBHOOK_FORMATS: tuple[str, ...] = get_args(WebhookFormat)
SmtpSecurity = Literal["none", "starttls", "ssl"]


def default_home() -> Path:
    """$XDG_DATA_HOME/nianbao, else ~/.local/share/nianbao."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "nianbao"


class Settings(BaseSettings):
    # An empty variable is an unset one: compose files pass `${NAME:-}` for every optional setting.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", env_ignore_empty=True)

    # ------------------------------------------------------------ where things are
    home: Path = Field(default_factory=default_home, description=(
        "Where nianbao keeps its data; every path below derives from it."),
        json_schema_extra={"shown_default": "`$XDG_DATA_HOME/nianbao`, else `~/.local/share/nianbao`"})
    data_dir: Path | None = Field(default=None, description=(
        "The data directory: the warehouse (SQLite, with the crawl index and the staged records) and the raw store."),
        json_schema_extra={"shown_default": "`<home>`"})
    warehouse_url: SecretStr | None = Field(default=None, description=(
        "SQLAlchemy URL of the warehouse (PostgreSQL in production), which also holds the crawl index and the "
        "records staged between DAG tasks: the one database every host shares; may hold a password."),
        json_schema_extra={"shown_default": "`sqlite:///<data_dir>/warehouse.db`"})
    raw_store: str | None = Field(default=None, description=(
        "Where the crawled bytes are kept, under their SHA-256: a directory, or an fsspec URL such as "
        "`s3://bucket/prefix` (shared by every host; S3 credentials and endpoint from the standard `AWS_*` "
        "variables)."),
        json_schema_extra={"shown_default": "`<data_dir>/raw`"})
    sources_dir: Path = Field(default=SHIPPED_SOURCES, description="The source registry (`*.yaml`).",
                              json_schema_extra={"shown_default": "the `sources/` directory shipped with nianbao"})
    sandbox_url: str | None = Field(default=None, description=(
        "Base URL of the local sandbox portal; replaces `{sandbox}` in the registry's URLs."))
    # ------------------------------------------------------------ crawling and extracting
    recheck_interval: float = Field(default=DEFAULT_RECHECK_SECONDS, gt=0, description=(
        "Seconds before the crawler asks again (conditionally) whether a known document changed."))
    browser: str = Field(default=DEFAULT_BROWSER, description=(
        "The Chromium executable that sources with `render: true` are loaded in (headless); "
        "without it such a source is recorded as broken (`needs_browser`)."))
    ocr_threads: int = Field(default=1, ge=1, description="Threads of one OCR engine: its recogniser and OpenCV's image preprocessing (one engine per extraction worker).")
    # ------------------------------------------------------------ alerts (see nianbao/alerts/notifiers.py)
    alert_webhook_url: SecretStr | None = Field(default=None, description=(
        "Webhook for alerts (DingTalk, Feishu, WeCom, Slack or generic JSON); its query may hold a token."))
    alert_webhook_format: WebhookFormat | None = Field(default=None, description=(
        "`dingtalk`, `feishu`, `wecom` (markdown), `wecom_markdown_v2`, `slack` or `generic`."),
        json_schema_extra={"shown_default": "guessed from the URL"})
    alert_webhook_token: SecretStr | None = Field(default=None, description="Token sent with each webhook call.")
    alert_webhook_secret: SecretStr | None = Field(default=None, description=(
        "Signing secret of a DingTalk (加签) or Feishu (签名校验) robot."))
    alert_webhook_keyword: str | None = Field(default=None, description=(
        "Custom keyword a DingTalk or Feishu robot requires (自定义关键词); put in every title."))
    alert_webhook_at_mobiles: str | None = Field(default=None, description=(
        "Phone numbers to @ in DingTalk messages, separated by commas."))
    alert_webhook_at_user_ids: str | None = Field(default=None, description=(
        "User ids to @ (DingTalk userid, Feishu open_id), separated by commas."))
    alert_smtp_host: str | None = Field(default=None, description="SMTP server for alert e-mails (none: no e-mail).")
    alert_smtp_port: int | None = Field(default=None, description="SMTP port.",
                                        json_schema_extra={"shown_default": "465 with `ssl`, else 25"})
    alert_smtp_user: str | None = Field(default=None, description="SMTP login.")
    alert_smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    alert_smtp_from: str | None = Field(default=None, description="Sender address.",
                                        json_schema_extra={"shown_default": "`nianbao@<smtp host>`"})
    alert_smtp_to: str | None = Field(default=None, description="Recipients, separated by commas or semicolons.")
    alert_smtp_security: SmtpSecurity | None = Field(default=None, description="`none`, `starttls` or `ssl`.",
                                                     json_schema_extra={"shown_default": "`none`"})

    @model_validator(mode="after")
    def _alert_settings_hold_together(self) -> Settings:
        """A misspelt alert variable, or a part of a notifier without the notifier, would send
        nothing, silently: each is an error as soon as the settings are read."""
        problems = [*_unknown_alert_variables(os.environ), *self._orphan_alert_settings()]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _orphan_alert_settings(self) -> list[str]:
        problems = []
        for part, needs in (("webhook", "alert_webhook_url"), ("smtp", "alert_smtp_host")):
            given = [name for name in type(self).model_fields
                     if name.startswith(f"alert_{part}_") and name != needs and getattr(self, name) is not None]
            if given and getattr(self, needs) is None:
                names = ", ".join(env_name(name) for name in given)
                problems.append(f"{names} set without {env_name(needs)}")
        if self.alert_smtp_host and not split_list(self.alert_smtp_to):
            problems.append(f"{env_name('alert_smtp_host')} set without recipients ({env_name('alert_smtp_to')})")
        return problems

    # The paths and URL as used: the variable when set, else derived from the home directory.
    @property
    def data_path(self) -> Path:
        return (self.data_dir or self.home).expanduser()

    @property
    def warehouse(self) -> str:
        """The warehouse URL in clear (for the engine; never log it)."""
        if self.warehouse_url is not None:
            return self.warehouse_url.get_secret_value()
        return database_in(self.data_path)

    @property
    def raw_store_url(self) -> str:
        return self.raw_store or raw_store_in(self.data_path)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _unknown_alert_variables(environ: Any) -> list[str]:
    known = {env_name(name) for name in Settings.model_fields if name.startswith("alert_")}
    problems = []
    for name in sorted(key for key in environ if key.upper().startswith(ALERT_PREFIX) and key.upper() not in known):
        guess = difflib.get_close_matches(name.upper(), known, n=1)
        problems.append(f"unknown setting {name}" + (f" (did you mean {guess[0]}?)" if guess else ""))
    return problems


def split_list(value: str | None) -> list[str]:
    """A list setting: items separated by commas or semicolons."""
    return [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]


def secret_value(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def child_environment() -> dict[str, str]:
    """This process's environment without the NIANBAO_ variables: a child is told its settings."""
    return {name: value for name, value in os.environ.items() if not name.startswith(ENV_PREFIX)}


# ---------------------------------------------------------------- docs/configuration.md
def configuration_markdown() -> str:
    """The table of every setting: its variable, default and meaning, from the model itself."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated by `python -m nianbao.settings > docs/configuration.md`; "
        "tests/test_settings.py fails when it is out of date. -->",
        "",
        "nianbao reads its settings from environment variables, once, in `nianbao/settings.py`.",
        "Paths derive from `NIANBAO_HOME`, never from the current directory. Settings marked",
        "secret are never printed (they show as `**********`).",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        shown = extra.get("shown_default") or _shown(info.default)
        secret = " (secret)" if "SecretStr" in str(info.annotation) else ""
        lines.append(f"| `{ENV_PREFIX}{name.upper()}` | {shown} | {info.description}{secret} |")
    return "\n".join(lines) + "\n"


def _shown(default: Any) -> str:
    if default is None:
        return "none"
    return f"`{default:g}`" if isinstance(default, float) else f"`{default}`"


if __name__ == "__main__":
    sys.stdout.write(configuration_markdown())
