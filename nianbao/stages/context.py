"""Where a stage reads and writes: the settings, resolved once per run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from nianbao.settings import Settings, get_settings

if TYPE_CHECKING:
    from crawler.index import DocumentIndex

T = TypeVar("T")


@dataclass(frozen=True)
class StageContext:
    data_dir: Path
    warehouse_url: str
    raw_store: str
    sources_dir: Path
    sandbox_url: str | None = None
    settings: Settings = field(default_factory=get_settings, compare=False)   # the rest: alerts, OCR, re-checks

    @property
    def crawl_index(self) -> str:
        """The crawl index lives in the warehouse database: one database every host shares."""
        return self.warehouse_url

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, data_dir: Path | None = None,
                      sandbox_url: str | None = None) -> StageContext:
        """The settings' paths; a `data_dir` given here moves everything derived from it too."""
        settings = settings or get_settings()
        if data_dir is not None:
            settings = settings.model_copy(update={"data_dir": data_dir})
        return cls(data_dir=settings.data_path, warehouse_url=settings.warehouse, raw_store=settings.raw_store_url,
                   sources_dir=settings.sources_dir, sandbox_url=sandbox_url or settings.sandbox_url,
                   settings=settings)


_migrated: set[str] = set()


def ensure_warehouse(context: StageContext) -> None:
    """Bring the warehouse schema up to date (once per process and URL; idempotent anyway)."""
    if context.warehouse_url in _migrated:
        return
    from warehouse.db import upgrade
    from warehouse.load import with_retries

    with_retries(lambda: upgrade(context.warehouse_url))   # one transaction on PostgreSQL: run again whole
    _migrated.add(context.warehouse_url)


def read_crawl_index(context: StageContext, read: Callable[[DocumentIndex], T]) -> T:
    """`read` on the crawl index, run again whole after a dropped connection (on a cluster the
    index lives in the shared PostgreSQL database)."""
    from crawler.index import DocumentIndex
    from warehouse.load import with_retries

    def attempt() -> T:
        index = DocumentIndex(context.crawl_index)
        try:
            return read(index)
        finally:
            index.close()

    return with_retries(attempt)
