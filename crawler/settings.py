"""Scrapy settings for the report crawler: polite and safe by default.

`fast_settings()` turns politeness off for tests and benchmarks against the local
sandbox; nothing else should use it.
"""

from __future__ import annotations

BOT_NAME = "nianbao"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
USER_AGENT = "nianbao-crawler/0.1 (archive of 政府信息公开工作年度报告; obeys robots.txt)"

# --- where things go: NIANBAO_DATA_DIR, NIANBAO_RAW_STORE, … are set by `python -m crawler`
# from the crawl's settings (crawler.config.CrawlConfig), never from the environment.

# --- politeness
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
NIANBAO_SOURCE_DEADLINE = 1800.0   # seconds per source per crawl (crawler.limits)
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 300.0

# --- safety: no console, no remote control; offsite + private-address guard
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
    "crawler.extensions.RunSummary": 500,
    "crawler.tuning.CrawlProcessTuning": 510,
}
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.PrivateAddressGuard": 60,
    "crawler.limits.SourceLimits": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.ChallengeDetector": 580,   # below HttpCompression (590): reads decoded bodies
    "crawler.middlewares.RedirectGuard": 620,
}
# Every spider middleware wraps every request and item a callback yields; two of Scrapy's do nothing
# for this crawl: the depth counter (no DEPTH_LIMIT, no depth priority, nothing reads it) and the
# developer's warning about meta keys copied from a response (the spider builds every meta itself).
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "crawler.middlewares.PageReferer": 700,   # Scrapy's, its policy resolved once per page
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
ITEM_PIPELINES = {"crawler.pipelines.RawStorePipeline": 300}
TWISTED_DNS_RESOLVER = "crawler.middlewares.GuardedResolver"
HTTPCACHE_ENABLED = False
REQUEST_FINGERPRINTER_CLASS = "crawler.fingerprints.ExactRequestFingerprinter"   # duplicates by method, URL, body
# Scrapy starts CONCURRENT_ITEMS worker tasks for every callback's output, and its default of 100
# made that the largest per-response cost of the engine. Most output is requests (scheduled
# synchronously); the items go to one storage thread in order, so 8 loses nothing.
CONCURRENT_ITEMS = 8
COOKIES_ENABLED = True
# Scrapy reads each callback's source (tokenize, ast) once per crawl to warn of a generator that
# returns a value (~4 ms per crawl): a warning for whoever writes the spider, not for a crawl;
# what the callbacks yield is what the crawler's tests check
WARN_ON_GENERATOR_RETURN_VALUE = False
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 60.0


def fast_settings() -> dict[str, object]:
    """Politeness off, for the local sandbox in tests and benchmarks."""
    return {
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "RETRY_BACKOFF_BASE": 0.05,
        "RETRY_BACKOFF_MAX": 0.2,
        "RETRY_AFTER_MAX": 0.5,
        "DOWNLOAD_TIMEOUT": 10,
        "LOG_LEVEL": "WARNING",
    }
