"""The crawl process tuned for a crawl (an extension, enabled in crawler.settings), once the spider opens.

- The garbage collector. Everything start-up made — the modules, the registry, the engine, the
  index's metadata, some 120,000 objects — lives as long as the process, yet every collection of
  the oldest generation walks all of it; and Python's default collects the youngest generation
  every 700 allocations, a few times per response. `gc.freeze()` moves the start-up objects out of
  the collector's sight, and the youngest generation is collected every YOUNG_THRESHOLD allocations.
  Objects are still freed by their reference counts, cycles still collected.
- Logging. Scrapy leaves the root logger at NOTSET, sets its own `scrapy` logger to DEBUG, and
  filters in its handler, so every DEBUG call of the engine (each response crawled, each item
  scraped) builds a log record that is then thrown away. Both loggers are set to LOG_LEVEL, so
  those calls stop at the level check; what is logged does not change.
"""

from __future__ import annotations

import gc
import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler

YOUNG_THRESHOLD = 20_000


class CrawlProcessTuning:
    def __init__(self, log_level: str) -> None:
        self.log_level = log_level

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProcessTuning:
        extension = cls(str(crawler.settings.get("LOG_LEVEL") or "DEBUG"))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        gc.freeze()
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
        for name in ("", "scrapy"):   # the root logger, and the one Scrapy's logging config sets to DEBUG
            logging.getLogger(name).setLevel(self.log_level)
