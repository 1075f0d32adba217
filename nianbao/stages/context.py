"""Where a stage reads and writes: the settings, resolved once per run."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from nianbao.settings import get_settings


@dataclass(frozen=True)
class StageContext:
    data_dir: Path
    warehouse_url: str
    raw_store: str
    sources_dir: Path
    sandbox_url: str | None = None

    @property
    def crawl_index(self) -> Path:
        return Path(os.environ.get("NIANBAO_CRAWL_INDEX") or self.data_dir / "crawl" / "index.db")

    @property
    def staging_dir(self) -> Path:
        """Records between the extract, validate and load tasks of the DAG."""
        return self.data_dir / "staging"

    @classmethod
    def from_settings(cls, **overrides: object) -> StageContext:
        settings = get_settings()
        context = cls(data_dir=settings.data_dir, warehouse_url=settings.warehouse_url,
                      raw_store=settings.raw_store, sources_dir=settings.sources_dir,
                      sandbox_url=os.environ.get("NIANBAO_SANDBOX_URL") or None)
        return replace(context, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


_migrated: set[str] = set()


def ensure_warehouse(context: StageContext) -> None:
    """Bring the warehouse schema up to date (once per process and URL; idempotent anyway)."""
    if context.warehouse_url in _migrated:
        return
    from warehouse.db import upgrade

    upgrade(context.warehouse_url)
    _migrated.add(context.warehouse_url)
