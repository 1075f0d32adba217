"""Where a crawl keeps things, from its Scrapy settings (which `python -m crawler` fills from the
`CrawlConfig` its parent handed over): one answer for the spider, the pipeline and the summary
extension."""

from __future__ import annotations

from pathlib import Path

from scrapy.settings import BaseSettings

from crawler.config import SUMMARY_SETTING, CrawlConfig


def crawl_config(settings: BaseSettings) -> CrawlConfig:
    return CrawlConfig.from_scrapy(settings)


def index_url(settings: BaseSettings) -> str:
    """The crawl index's database URL, default the warehouse's (SQLite in the data directory)."""
    return crawl_config(settings).crawl_index


def raw_store_url(settings: BaseSettings) -> str:
    """The raw store (a directory or fsspec URL), default <data dir>/raw."""
    return crawl_config(settings).raw_store


def summary_path(settings: BaseSettings, run_id: str) -> Path:
    """The run summary JSON: the path the parent asked for, else <data dir>/crawl/runs/<run id>.json."""
    asked = settings.get(SUMMARY_SETTING)
    return Path(asked) if asked else crawl_config(settings).data_dir / "crawl" / "runs" / f"{run_id}.json"
