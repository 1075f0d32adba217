"""Limits a crawl enforces per download and per source, each failure recorded with its cause.

- An endless body (no Content-Length) that grows past DOWNLOAD_MAXSIZE: Scrapy cancels the
  download and the errback would see a bare DownloadCancelledError; here it becomes
  DownloadTooLarge, which the spider records as `too_large`, with the size.
- A per-source deadline (NIANBAO_SOURCE_DEADLINE seconds from the source's first request;
  0 for none): a download in flight is cut at the deadline (its timeout capped to the time
  left), and every later request of the source is dropped as Deadline, recorded as
  `deadline` — a drip-feeding server cannot hold a crawl for many minutes per URL.
- A list page nested deeper than libxml2 reads (2048 levels even with huge_tree): the
  parser stops there and drops the rest of the page, links included, without a word;
  here the page is refused as Unparsable (recorded as `unparsable`, with the reason).
"""

from __future__ import annotations

import time

from lxml import etree
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import HtmlResponse, Response

DEFAULT_DEADLINE_SECONDS = 1800.0
# libxml2 stops at 2048 levels; a tree reaching this deep has most likely been cut there
PARSER_DEPTH_LIMIT = 2000
_IMPLIED_ELEMENTS = 8
_ELEMENTS = etree.XPath("count(//*)")
_AT_DEPTH_LIMIT = etree.XPath(f"boolean(//*[count(ancestor::*) >= {PARSER_DEPTH_LIMIT}])")


class DownloadTooLarge(DownloadCancelledError):
    """A body that went on past DOWNLOAD_MAXSIZE (the message says so, for the failure's kind)."""


class Deadline(IgnoreRequest):
    """The request's source has used up its crawl time."""


class Unparsable(IgnoreRequest):
    """A list page the HTML parser cannot read to its end."""


def cut_by_parser(response: Response) -> bool:
    """True when the page's tree reaches the parser's nesting limit (the rest of it was dropped)."""
    if not isinstance(response, HtmlResponse) or response.body.count(b"<") < PARSER_DEPTH_LIMIT - _IMPLIED_ELEMENTS:
        return False   # every element but the few the parser implies (html, head, body) opens with a "<"
    root = response.selector.root   # parsed once: the adapter reuses this tree
    if not isinstance(root, etree._Element) or _ELEMENTS(root) < PARSER_DEPTH_LIMIT:
        return False
    return bool(_AT_DEPTH_LIMIT(root))


class SourceLimits:
    """Downloader middleware: the size of endless bodies, and each source's deadline."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.deadline = settings.getfloat("NIANBAO_SOURCE_DEADLINE", DEFAULT_DEADLINE_SECONDS)
        self.started: dict[str, float] = {}
        self.received: dict[int, int] = {}   # id(request) → body bytes so far, while it downloads
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceLimits:
        return cls(crawler)

    def _bytes_received(self, data: bytes, request: Request) -> None:
        self.received[id(request)] = self.received.get(id(request), 0) + len(data)

    def process_request(self, request: Request) -> None:
        source = request.meta.get("source_id")
        if not source or not self.deadline:
            return
        now = time.monotonic()
        left = self.started.setdefault(source, now) + self.deadline - now
        if left <= 0:
            raise Deadline(f"{source}: its crawl deadline of {self.deadline:g} s has passed; {request.url} not fetched")
        request.meta["download_timeout"] = min(float(request.meta.get("download_timeout", self.timeout)), left)

    def process_response(self, request: Request, response: Response) -> Response:
        self.received.pop(id(request), None)
        if request.meta.get("role") == "list" and cut_by_parser(response):
            raise Unparsable(f"the list page is nested {PARSER_DEPTH_LIMIT}+ levels deep, where the HTML parser "
                             f"stops and drops the rest of the page (links included)")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        received = self.received.pop(id(request), 0)
        maxsize = request.meta.get("download_maxsize", self.maxsize)
        if type(exception) is DownloadCancelledError and maxsize and received > maxsize:
            raise DownloadTooLarge(f"Received {received} bytes which is larger than download max size ({maxsize}) "
                                   f"in request {request}; the body had no declared length and went on")
