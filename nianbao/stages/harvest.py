"""The whole harvest: crawl (a child process per batch of sources) → process → check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from nianbao.alerts.notifiers import Notifier
from nianbao.stages.check import CheckSummary, check, configured
from nianbao.stages.context import StageContext
from nianbao.stages.crawl import CrawlFailed, CrawlOutcome, run_crawl
from nianbao.stages.lock import holding_harvest_lock
from nianbao.stages.process import ProcessSummary, Progress, process
from nianbao.stages.registry import crawl_batches, families, load_sources


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


@holding_harvest_lock
def harvest(context: StageContext, *, today: date, sources: Sequence[str] | None = None,
            years: Sequence[int] | None = None, jobs: int = 2, fast: bool = False, per_family: bool = False,
            notifiers: Sequence[Notifier] | None = None, progress: Progress | None = None,
            on_crawl: Callable[[CrawlOutcome], None] | None = None) -> HarvestSummary:
    """One harvest of `sources` (default: the registry); every step is idempotent.

    The crawl is one child process for all sources (Scrapy keeps each host polite), or
    with `per_family` one per batch of a CMS family, as the Airflow DAG runs it. A crawl
    that fails is recorded and the harvest goes on with what was crawled. `notifiers`
    None means those configured by the environment; [] sends nothing.
    """
    if notifiers is None:   # checked before the crawl: a bad notifier setting stops the run before it stores anything
        notifiers = configured(context)
    summary = HarvestSummary()
    plan = _crawl_plan(context, sources, per_family)
    if progress:
        progress("crawl", 0, len(plan))
    for batch in plan:
        try:
            outcome = run_crawl(context, batch, fast=fast)
        except CrawlFailed as exc:
            outcome = CrawlOutcome(sources=batch, summary={"finish_reason": "crashed", "error": str(exc)},
                                   returncode=1)
        summary.crawls.append(outcome)
        if on_crawl:
            on_crawl(outcome)
        if progress:
            progress("crawl", len(summary.crawls), len(plan))
    selected = sources or sorted({s for c in summary.crawls for s in c.sources})
    summary.processed = process(context, sources=selected, years=years, jobs=jobs, progress=progress)
    summary.checked = check(context, today=today, sources=sources, years=years, notifiers=notifiers)
    return summary


def _crawl_plan(context: StageContext, sources: Sequence[str] | None, per_family: bool) -> list[list[str]]:
    if per_family:
        return [batch for family in families() for batch in crawl_batches(context, family, sources)]
    ids = [source.id for source in load_sources(context, sources)]
    return [ids] if ids else []
