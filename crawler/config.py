"""What one crawl process needs to know, handed over by its parent (never read from the environment).

The application writes a `CrawlConfig` as JSON and starts `python -m crawler crawl --config FILE`;
by hand, the same fields come from the command-line options. The crawl turns it into the
Scrapy settings the spider reads (`NIANBAO_DATA_DIR`, …: Scrapy setting names, not variables).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_RECHECK_SECONDS = 24 * 3600.0
DEFAULT_BROWSER = "/usr/bin/chromium"   # Debian's chromium; sources with `render: true` are loaded in it


def raw_store_in(data_dir: Path) -> str:
    return str(data_dir / "raw")


def database_in(data_dir: Path) -> str:
    """The default database (SQLite) of a data directory: the warehouse's, and the crawl index's in it."""
    return f"sqlite:///{data_dir / 'warehouse.db'}"


@dataclass(frozen=True)
class CrawlConfig:
    data_dir: Path
    sources_dir: Path
    raw_store: str = ""                 # default <data dir>/raw
    crawl_index: str = ""               # database URL (or SQLite file); default the warehouse's, database_in()
    sandbox_url: str | None = None
    recheck_interval: float = DEFAULT_RECHECK_SECONDS
    browser: str = DEFAULT_BROWSER      # the Chromium executable rendered sources are loaded in
    scrapy: dict[str, Any] = field(default_factory=dict)   # any Scrapy setting, e.g. DOWNLOAD_MAXSIZE

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "sources_dir", Path(self.sources_dir))
        object.__setattr__(self, "raw_store", self.raw_store or raw_store_in(self.data_dir))
        object.__setattr__(self, "crawl_index", str(self.crawl_index or database_in(self.data_dir)))

    def to_json(self) -> str:
        values = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        return json.dumps(values, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CrawlConfig:
        values = json.loads(text)
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown crawl settings: {', '.join(sorted(unknown))}")
        return cls(**values)

    def with_changes(self, **changes: Any) -> CrawlConfig:
        return replace(self, **{k: v for k, v in changes.items() if v not in (None, "")})

    def scrapy_settings(self, summary_path: Path) -> dict[str, object]:
        carried = {setting: _as_setting(getattr(self, name)) for name, setting in SCRAPY_NAMES.items()}
        return {**carried, SUMMARY_SETTING: str(summary_path), **self.scrapy}

    @classmethod
    def from_scrapy(cls, settings: Any) -> CrawlConfig:
        """The config back from the Scrapy settings `scrapy_settings` made (inside the spider)."""
        missing = [key for key in (SCRAPY_NAMES["data_dir"], SCRAPY_NAMES["sources_dir"]) if not settings.get(key)]
        if missing:
            raise ValueError(f"the crawl has no {', '.join(missing)}: start it with `python -m crawler`")
        return cls(data_dir=settings.get(SCRAPY_NAMES["data_dir"]), sources_dir=settings.get(SCRAPY_NAMES["sources_dir"]),
                   raw_store=settings.get(SCRAPY_NAMES["raw_store"]) or "",
                   crawl_index=settings.get(SCRAPY_NAMES["crawl_index"]) or "",
                   sandbox_url=settings.get(SCRAPY_NAMES["sandbox_url"]) or None,
                   recheck_interval=settings.getfloat(SCRAPY_NAMES["recheck_interval"], DEFAULT_RECHECK_SECONDS),
                   browser=settings.get(SCRAPY_NAMES["browser"]) or DEFAULT_BROWSER)


# The Scrapy setting each field travels in, from `python -m crawler` to the spider.
SCRAPY_NAMES = {"data_dir": "NIANBAO_DATA_DIR", "sources_dir": "NIANBAO_SOURCES_DIR", "raw_store": "NIANBAO_RAW_STORE",
                "crawl_index": "NIANBAO_CRAWL_INDEX", "sandbox_url": "NIANBAO_SANDBOX_URL",
                "recheck_interval": "NIANBAO_RECHECK_INTERVAL", "browser": "NIANBAO_BROWSER"}
SUMMARY_SETTING = "NIANBAO_SUMMARY_PATH"


def _as_setting(value: Any) -> object:
    return "" if value is None else value if isinstance(value, float) else str(value)
