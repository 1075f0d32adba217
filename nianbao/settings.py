"""Every setting of nianbao, in one model: read from the environment (prefix NIANBAO_) once, here.

Paths derive from the home directory (NIANBAO_HOME), never from the current directory.
The floor-2 packages (crawler, extract, warehouse) read no setting themselves: the
application hands them what they need as arguments, and the crawl process receives its
part serialised by its parent (`crawl_config`).

`python -m nianbao.settings` prints docs/configuration.md (a test keeps the file in step).
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from crawler.config import DEFAULT_RECHECK_SECONDS, database_in, raw_store_in
from crawler.registry import SHIPPED_SOURCES

ENV_PREFIX = "NIANBAO_"


def default_home() -> Path:
    """$XDG_DATA_HOME/nianbao, else ~/.local/share/nianbao."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "nianbao"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

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
    ocr_threads: int = Field(default=1, ge=1, description="Threads of one OCR engine (one engine per extraction worker).")
    # ------------------------------------------------------------ alerts (see nianbao/alerts/notifiers.py)
    alert_webhook_url: SecretStr | None = Field(default=None, description=(
        "Webhook for alerts (DingTalk, WeCom, Slack or generic JSON); its query may hold a token."))
    alert_webhook_format: str | None = Field(default=None, description=(
        "`dingtalk`, `wecom`, `slack` or `generic`."), json_schema_extra={"shown_default": "guessed from the URL"})
    alert_webhook_token: SecretStr | None = Field(default=None, description="Token sent with each webhook call.")
    alert_webhook_secret: SecretStr | None = Field(default=None, description="Signing secret of a DingTalk robot.")
    alert_smtp_host: str | None = Field(default=None, description="SMTP server for alert e-mails (none: no e-mail).")
    alert_smtp_port: int | None = Field(default=None, description="SMTP port.",
                                        json_schema_extra={"shown_default": "465 with `ssl`, else 25"})
    alert_smtp_user: str | None = Field(default=None, description="SMTP login.")
    alert_smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    alert_smtp_from: str | None = Field(default=None, description="Sender address.",
                                        json_schema_extra={"shown_default": "`nianbao@<smtp host>`"})
    alert_smtp_to: str | None = Field(default=None, description="Recipients, separated by commas or semicolons.")
    alert_smtp_security: str | None = Field(default=None, description="`none`, `starttls` or `ssl`.",
                                            json_schema_extra={"shown_default": "`none`"})

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
