"""The whole harvest: crawl (a child process per batch of sources) → process → check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from nianbao.stages.check import CheckSummary, check
from nianbao.stages.context import StageContext
from nianbao.stages.crawl import CrawlOutcome, run_crawl
from nianbao.stages.process import ProcessSummary, Progress, process
from nianbao.stages.registry import FAMILIES, crawl_batches


@dataclass
class HarvestSummary:
    crawls: list[CrawlOutcome] = field(default_factory=list)
    processed: ProcessSummary = field(default_factory=ProcessSummary)
    checked: CheckSummary | None = None

    @property
    def new_documents(self) -> int:
        return sum(c.new_documents for c in self.crawls)

    @property
    def crawl_failures(self) -> list[str]:
        return [", ".join(c.sources) for c in self.crawls if c.finish_reason != "finished"]


def harvest(context: StageContext, *, today: date, sources: Sequence[str] | None = None,
            years: Sequence[int] | None = None, jobs: int = 2, fast: bool = False,
            progress: Progress | None = None,
            on_crawl: Callable[[CrawlOutcome], None] | None = None) -> HarvestSummary:
    """One harvest of `sources` (default: the registry); every step is idempotent."""
    summary = HarvestSummary()
    for family in FAMILIES:
        for batch in crawl_batches(context, family, sources):
            outcome = run_crawl(context, batch, fast=fast)
            summary.crawls.append(outcome)
            if on_crawl:
                on_crawl(outcome)
    crawled = sorted({s for c in summary.crawls for s in c.sources})
    summary.processed = process(context, sources=crawled or sources, years=years, jobs=jobs, progress=progress)
    summary.checked = check(context, today=today, sources=sources, years=years)
    return summary
