"""Where a crawl keeps things, from its Scrapy settings: one answer for the spider, the pipeline
and the summary extension."""

from __future__ import annotations

from pathlib import Path

from scrapy.settings import BaseSettings


def data_dir(settings: BaseSettings) -> Path:
    return Path(settings.get("NIANBAO_DATA_DIR") or "var")


def index_path(settings: BaseSettings) -> Path:
    """The crawl index (SQLite): NIANBAO_CRAWL_INDEX, default <data dir>/crawl/index.db."""
    return Path(settings.get("NIANBAO_CRAWL_INDEX") or data_dir(settings) / "crawl" / "index.db")


def raw_store_url(settings: BaseSettings) -> str:
    """The raw store: NIANBAO_RAW_STORE (a directory or fsspec URL), default <data dir>/raw."""
    return str(settings.get("NIANBAO_RAW_STORE") or data_dir(settings) / "raw")


def summary_path(settings: BaseSettings, run_id: str) -> Path:
    """The run summary JSON: NIANBAO_SUMMARY_PATH, default <data dir>/crawl/runs/<run id>.json."""
    return Path(settings.get("NIANBAO_SUMMARY_PATH") or data_dir(settings) / "crawl" / "runs" / f"{run_id}.json")
