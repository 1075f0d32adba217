"""The run-summary extension: a crawl's `CrawlSummary`, from its signals and its stats.

Counts come from the stats (`count_key`, incremented by the spider and the raw-store
pipeline); failures, flags and a probe's candidates from the items the spider yields, as
they are scraped. At the end the summary goes to the crawl index (`runs`, `source_runs`)
and to the summary file (`crawler.locations.summary_path`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from twisted.python.failure import Failure

from crawler.index import DocumentIndex
from crawler.items import Candidate, Failed, ListPageProbe
from crawler.locations import index_url, summary_path
from crawler.spiders.reports import ReportsSpider
from crawler.summary import (
    COUNT_NAMES,
    STORE_CPU_STAT,
    CrawlSummary,
    DocumentCounts,
    Flag,
    Pages,
    SourceSummary,
    count_key,
)

logger = logging.getLogger(__name__)
# the flags a failure of this kind raises (other failures of a list page: list_page_error)
FLAGS_OF_KIND: dict[str, tuple[Flag, ...]] = {"challenge": ("challenge",), "unparsable": ("unparsable_page",),
                                             "pager_unfollowed": ("pager_unfollowed",),
                                             "needs_browser": ("needs_browser", "list_page_error")}
NO_SOURCE = "-"   # failures that belong to no source (a request without one)


class RunSummary:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.errors: dict[str, Counter[str]] = defaultdict(Counter)
        self.list_errors: dict[str, Counter[str]] = defaultdict(Counter)
        self.flags: dict[str, set[Flag]] = defaultdict(set)
        self.candidates: list[Candidate] = []
        self.list_page_probes: list[ListPageProbe] = []
        self.index: DocumentIndex | None = None
        self.started = time.monotonic()
        self.cpu_started = time.process_time()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        extension = cls(crawler)
        if isinstance(crawler.spider, ReportsSpider):
            crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
            crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
            crawler.signals.connect(extension.item_error, signal=signals.item_error)
            crawler.signals.connect(extension.spider_error, signal=signals.spider_error)
            crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: ReportsSpider) -> None:
        where = index_url(self.crawler.settings)
        if not spider.probe:
            self.index = DocumentIndex(where)
            self.index.start_run(spider.run_id)
        elif DocumentIndex.exists(where):
            self.index = DocumentIndex(where)
        self.started, self.cpu_started = time.monotonic(), time.process_time()

    def item_scraped(self, item: Any, spider: Spider) -> None:
        if isinstance(item, Failed):
            source = item.source_id or NO_SOURCE
            self.errors[source][item.kind] += 1
            if item.list_page:
                self.list_errors[source][item.kind] += 1
            flags = FLAGS_OF_KIND.get(item.kind) or (("list_page_error",) if item.list_page else ())
            if item.source_id:
                self.flags[item.source_id].update(flags)
            logger.warning("%s %s: %s %s", item.source_id, item.kind, item.url, item.detail)
        elif isinstance(item, Candidate):
            self.candidates.append(item)
        elif isinstance(item, ListPageProbe):
            self.list_page_probes.append(item)

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Failure) -> None:
        """The raw-store pipeline could not keep an item (Scrapy logs the error): counted, not lost silently."""
        self.errors[getattr(item, "source_id", None) or NO_SOURCE]["store_failed"] += 1

    def spider_error(self, failure: Failure, response: Any, spider: Spider) -> None:
        """A callback raised (Scrapy logs the traceback): counted, so the run shows it."""
        self.errors[response.meta.get("source_id") or NO_SOURCE]["spider_error"] += 1

    def spider_closed(self, spider: ReportsSpider, reason: str) -> None:
        summary = self.summary(spider, reason)
        if self.index is not None and not spider.probe:
            self.index.finish_run(spider.run_id, reason, summary.model_dump(mode="json"))
        path = summary_path(self.crawler.settings, spider.run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(summary.model_dump_json(indent=2), encoding="utf-8")
        if self.index is not None:
            self.index.close()

    def summary(self, spider: ReportsSpider, reason: str) -> CrawlSummary:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        sources = {source_id: self._source(spider, source_id, stats) for source_id in spider.plan.sources}
        totals = Counter({name: sum(getattr(s, name) for s in sources.values()) for name in COUNT_NAMES})
        errors: Counter[str] = sum(self.errors.values(), Counter())
        return CrawlSummary(
            run_id=spider.run_id, mode="probe" if spider.probe else ("full" if spider.full else "incremental"),
            finish_reason=reason, seconds=round(time.monotonic() - self.started, 2),
            cpu_seconds=round(time.process_time() - self.cpu_started, 3),
            store_cpu_seconds=round(stats.get(STORE_CPU_STAT, 0) / 1_000_000, 3),
            pages=Pages(list=totals["list_pages"], article=totals["article_pages"]),
            documents=DocumentCounts(**{name: totals[name] for name in DocumentCounts.model_fields}),
            document_bytes=totals["document_bytes"],
            responses=stats.get("downloader/response_count", 0), retries=stats.get("retry/count", 0),
            retry_wait_ms=stats.get("nianbao/retry_wait_ms", 0),
            response_bytes=stats.get("downloader/response_bytes", 0),
            errors=dict(errors), flags={sid: s.flags for sid, s in sources.items() if s.flags},
            sources=sources, candidates=self.candidates, list_page_probes=self.list_page_probes)

    def _source(self, spider: ReportsSpider, source_id: str, stats: dict[str, Any]) -> SourceSummary:
        counts = {name: stats.get(count_key(source_id, name), 0) for name in COUNT_NAMES}
        flags = set(self.flags[source_id])
        if self.index is not None and counts["reports_listed"] == 0:
            if self.index.previous_reports_listed(source_id, spider.run_id) > 0:
                flags.add("zero_reports")
            elif spider.plan.sources[source_id].expected and counts["list_pages"]:
                flags.add("no_reports_found")
        return SourceSummary(**counts, errors=dict(self.errors[source_id]),
                             list_errors=dict(self.list_errors[source_id]), flags=sorted(flags))
