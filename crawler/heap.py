"""The crawl process's garbage collector, tuned for a crawl (an extension, enabled in crawler.settings).

When the spider opens, everything start-up made — the modules, the registry, the engine, the
index's metadata, some 120,000 objects — lives as long as the process, yet every collection of the
oldest generation walks all of it; and Python's default collects the youngest generation every
700 allocations, a few times per response. `gc.freeze()` moves the start-up objects out of the
collector's sight, and the youngest generation is collected every YOUNG_THRESHOLD allocations.
Nothing else changes: objects are still freed by their reference counts, cycles still collected.
"""

from __future__ import annotations

import gc

from scrapy import Spider, signals
from scrapy.crawler import Crawler

YOUNG_THRESHOLD = 20_000


class CrawlHeap:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlHeap:
        extension = cls()
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        gc.freeze()
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
