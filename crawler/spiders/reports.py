"""The one generic spider: list pages → report links → article pages → documents → raw store.

Each source's CMS adapter reads its list pages; everything after that is shared. List
pages are read on every run; a known document or article page is re-validated with a
conditional request at most once per NIANBAO_RECHECK_INTERVAL (always with `full`).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.attachments import attachments, body_text, page_images
from crawler.config import SUMMARY_SETTING, CrawlConfig
from crawler.families import Adapter, Listing, adapter_for
from crawler.index import DocumentIndex
from crawler.middlewares import (
    GuardedResolver,
    OffsiteRedirect,
    PrivateAddressRefused,
    RedirectLoop,
)
from crawler.recognise import recognise
from crawler.registry import SANDBOX_PLACEHOLDER, Source, load_registry, split_ids
from crawler.sniff import DOCUMENT_EXT, check, extension, is_challenge, is_report_text, real_kind
from crawler.store import RawStore

_FILENAME_STAR = re.compile(r"filename\*\s*=\s*([\w-]+)''([^;]+)", re.IGNORECASE)
_FILENAME = re.compile(r'filename\s*=\s*"?([^";]+)"?', re.IGNORECASE)


class ReportsSpider(Spider):
    name = "reports"

    def __init__(self, sources: str = "", full: str | bool = False, probe: str | bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.only = split_ids(sources)
        self.full = _truthy(full)
        self.probe = _truthy(probe)
        self.run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ReportsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._configure(crawler.settings)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    # ------------------------------------------------------------------ set-up
    def _configure(self, settings: Any) -> None:
        config = CrawlConfig.from_scrapy(settings)
        self.sandbox_url = config.sandbox_url
        registry = load_registry(config.sources_dir)
        for error in registry.errors:
            self.logger.error("registry: %s", error)
        self.sources = {s.id: s for s in registry.select(self.only or None)
                        if self.sandbox_url or not any(SANDBOX_PLACEHOLDER in u for u in s.list_urls)}
        self.adapters: dict[str, Adapter] = {sid: adapter_for(s) for sid, s in self.sources.items()}
        self.allowed_domains = sorted({h for s in self.sources.values() for h in s.hosts(self.sandbox_url)})
        self.private_hosts = {f"{host}:{port}" for s in self.sources.values() if s.allow_private
                              for host, port in _host_ports(s.resolved_urls(self.sandbox_url))}
        GuardedResolver.allowed_private = {hp.rsplit(":", 1)[0] for hp in self.private_hosts}
        index_path = Path(config.crawl_index or "")
        if self.probe:
            self.index = DocumentIndex(index_path, readonly=True) if index_path.exists() else None
            self.store = None
        else:
            self.index = DocumentIndex(index_path)
            self.store = RawStore(config.raw_store)
            self.index.start_run(self.run_id)
        self.recheck = timedelta(seconds=config.recheck_interval)
        self.summary_path = Path(settings.get(SUMMARY_SETTING) or config.data_dir / "crawl" / "runs" / f"{self.run_id}.json")
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.errors: dict[str, Counter] = defaultdict(Counter)
        self.flags: dict[str, set[str]] = defaultdict(set)
        self.reports_seen: dict[str, set[str]] = defaultdict(set)
        self.list_pages_queued: dict[str, set[tuple[str, str, bytes]]] = defaultdict(set)
        self.candidates: list[dict[str, Any]] = []
        self.started = time.monotonic()
        self.cpu_started = time.process_time()

    async def start(self):
        self.cpu_started = time.process_time()
        for source in self.sources.values():
            for url in source.resolved_urls(self.sandbox_url):
                for request in self.adapters[source.id].start_requests(url):
                    yield self._list_request(request, source)

    def _list_request(self, request: Request, source: Source) -> Request:
        return request.replace(callback=self.parse_list, errback=self.on_error,
                               meta={**request.meta, "source_id": source.id, "role": "list"})

    # ------------------------------------------------------------------ list pages
    def parse_list(self, response: TextResponse):
        source = self.sources[response.meta["source_id"]]
        self.counts[source.id]["list_pages"] += 1
        if is_challenge(response.body):
            self._fail(source, response.url, "challenge", "list page is a WAF/anti-bot challenge")
            return
        page = self.adapters[source.id].parse_list(response)
        if not page.listings and not page.next_pages:
            self._fail(source, response.url, "unparsable", "list page has no links the adapter can read")
        limit = source.overrides.max_pages
        queued = self.list_pages_queued[source.id]
        for request in page.next_pages:
            key = (request.method, request.url, request.body)
            if key in queued or (limit and len(queued) >= limit):
                continue
            queued.add(key)
            yield self._list_request(request, source)
        for listing in page.listings:
            yield from self._consider(source, listing)

    def _consider(self, source: Source, listing: Listing):
        pattern = source.overrides.article_pattern
        if pattern and not re.search(pattern, listing.url):
            return
        found = recognise(listing.title, listing.url, listing.listed, source.overrides.title_pattern)
        if not found or listing.url in self.reports_seen[source.id]:
            return
        self.reports_seen[source.id].add(listing.url)
        info = {"title": listing.title, "year": found.year, "listed": listing.listed, "version": found.version}
        if self.probe:
            known = bool(self.index and (self.index.latest(listing.url) or self.index.page(listing.url)))
            self.candidates.append({"source_id": source.id, **info, "url": listing.url, "known": known})
            return
        yield from self._follow(source, listing.url, info, role="target")

    # ------------------------------------------------------------------ targets
    def _follow(self, source: Source, url: str, info: dict[str, Any], role: str, referer: str | None = None):
        assert self.index is not None
        document = self.index.latest(url)
        page = self.index.page(url)
        held = self.index.quarantined(url)
        checked = max(filter(None, [document and document.last_checked_at, page and page["last_checked_at"],
                                    held and held["last_checked_at"]]), default=None)
        # an article kept as a document but killed before its page row was written is due again
        unfinished_article = role == "target" and document is not None and document.real_kind == "html" and not page
        if checked and not self.full and not unfinished_article and _age(checked) < self.recheck:
            self.counts[source.id]["not_due"] += 1
            if held:
                self._fail(source, url, held["kind"], f"still (not re-fetched): {held['detail']}", held["sha256"])
            if page:
                yield from self._follow_children(source, url, info, page["children"])
            return
        headers = {}
        etag = (document and document.etag) or (page and page["etag"]) or (held and held["etag"])
        modified = ((document and document.last_modified) or (page and page["last_modified"])
                    or (held and held["last_modified"]))
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        yield Request(url, callback=self.parse_target, errback=self.on_error, headers=headers,
                      meta={"source_id": source.id, "role": role, "info": info, "referer_page": referer,
                            "handle_httpstatus_list": [304]})

    def _follow_children(self, source: Source, url: str, info: dict[str, Any], children: list[dict[str, Any]]):
        for child in children:
            yield from self._follow(source, child["url"], {**info, "filename": child.get("title"),
                                                           "child_kind": child.get("kind", "file")},
                                    role="attachment", referer=url)

    def parse_target(self, response: Response):
        source = self.sources[response.meta["source_id"]]
        info = response.meta["info"]
        if response.status == 304:
            yield from self._not_modified(source, response, info)
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        filename = download_name(response) or None
        is_page = (isinstance(response, TextResponse) and response.meta["role"] == "target"
                   and real_kind(response.body) == "html"
                   and "html" in content_type and not _claims_file(response.url, filename))
        if is_page:
            assert isinstance(response, TextResponse)
            yield from self._article(source, response, info)
        else:
            self._keep(source, response, info, filename)

    def _not_modified(self, source: Source, response: Response, info: dict[str, Any]):
        assert self.index is not None
        asked = _asked_url(response)
        self.counts[source.id]["not_modified"] += 1
        if self.index.latest(asked):
            self.index.touch(asked)
            self.counts[source.id]["unchanged"] += 1
        held = self.index.quarantined(asked)
        if held:
            self.index.touch_quarantine(asked)
            self._fail(source, asked, held["kind"], f"unchanged (304): {held['detail']}", held["sha256"])
        page = self.index.page(asked)
        if page:
            self.index.touch_page(asked)
            yield from self._follow_children(source, asked, info, page["children"])

    def _article(self, source: Source, response: TextResponse, info: dict[str, Any]):
        assert self.index is not None
        asked = _asked_url(response)
        self.counts[source.id]["article_pages"] += 1
        if is_challenge(response.body):
            assert self.store is not None
            self._quarantine(source, response, "challenge", "a WAF/anti-bot challenge instead of the page")
            return
        found = attachments(response.selector, response.url)
        holds_report = is_report_text(body_text(response.selector))
        if not found and info.get("version") == "图片版":
            # the report is the pictures in the page: keep the page and every image in it
            found, holds_report = page_images(response.selector, response.url), True
        if holds_report:
            self._keep(source, response, info, None)
        if not found and not holds_report:
            self._fail(source, asked, "no_document", "the article has neither a report body nor an attachment")
            return
        children = [{"url": a.url, "title": a.title, "kind": a.kind} for a in found]
        self.index.record_page(asked, source.id, _header(response, b"ETag"),
                               _header(response, b"Last-Modified"), children)
        yield from self._follow_children(source, asked, info, children)

    def _keep(self, source: Source, response: Response, info: dict[str, Any], filename: str | None) -> None:
        assert self.index is not None and self.store is not None
        body = response.body
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        verdict = check(body, response.url, content_type, filename)
        if not verdict.ok:
            self._quarantine(source, response, verdict.problem or "invalid", verdict.detail)
            return
        if info.get("child_kind") == "image" and verdict.kind != "image":
            self._quarantine(source, response, "type_mismatch", f"an image of the page, bytes are {verdict.kind}")
            return
        if (response.meta["role"] == "attachment" and verdict.kind == "html" and info.get("child_kind") != "page"
                and not is_report_text(body_text(response.selector) if isinstance(response, TextResponse) else "")):
            self._quarantine(source, response, "not_a_document", "an attachment link answered with an HTML page")
            return
        sha256 = self.store.put(body)
        self.index.release(_asked_url(response))
        outcome = self.index.record(
            url=_asked_url(response), sha256=sha256, source_id=source.id, agency=source.agency, size=len(body),
            storage_key=RawStore.key(sha256), run_id=self.run_id, listing_title=info.get("title"), year=info.get("year"),
            listing_date=info.get("listed"), content_type=content_type or None, real_kind=verdict.kind,
            filename=filename or info.get("filename"), etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"), referer=response.meta.get("referer_page"))
        self.counts[source.id][outcome] += 1
        self.counts[source.id]["documents"] += 1
        self.counts[source.id]["document_bytes"] += len(body)

    # ------------------------------------------------------------------ failures
    def on_error(self, failure: Failure):
        request: Request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        source = self.sources.get(request.meta.get("source_id", ""))
        kind, detail = classify_failure(failure)
        if request.meta.get("role") == "list" and source:
            self.flags[source.id].add("list_page_error")
        first_url = (request.meta.get("redirect_urls") or [request.url])[0]   # the URL we asked for
        self._fail(source, first_url, kind, detail)

    def _quarantine(self, source: Source, response: Response, kind: str, detail: str) -> None:
        """Bytes that are not a document: kept in the store, never a document, failure recorded."""
        assert self.index is not None and self.store is not None
        sha256 = self.store.put(response.body) if response.body else None
        self.index.quarantine(_asked_url(response), source.id, kind, detail, sha256, _header(response, b"ETag"),
                              _header(response, b"Last-Modified"))
        self._fail(source, _asked_url(response), kind, detail, sha256)

    def _fail(self, source: Source | None, url: str, kind: str, detail: str, sha256: str | None = None) -> None:
        source_id = source.id if source else None
        self.errors[source_id or "-"][kind] += 1
        if kind == "challenge" and source:
            self.flags[source.id].add("challenge")
        if kind == "unparsable" and source:
            self.flags[source.id].add("unparsable_page")
        self.logger.warning("%s %s: %s %s", source_id, kind, url, detail)
        if self.index is not None and not self.probe:
            self.index.record_failure(self.run_id, source_id, url, kind, detail, sha256)

    # ------------------------------------------------------------------ summary
    def _closed(self, spider: Spider, reason: str) -> None:
        summary = self.summary(reason)
        if self.probe:
            summary["candidates"] = self.candidates
        else:
            assert self.index is not None
            self.index.finish_run(self.run_id, reason, summary)
        self.summary_path.parent.mkdir(parents=True, exist_ok=True)
        self.summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        if self.index is not None:
            self.index.close()

    def summary(self, reason: str) -> dict[str, Any]:
        sources = {}
        totals: Counter = Counter()
        errors: Counter = Counter()
        for source_id, source in self.sources.items():
            listed = len(self.reports_seen[source_id])
            flags = set(self.flags[source_id])
            if self.index is not None and listed == 0:
                if self.index.previous_reports_listed(source_id, self.run_id) > 0:
                    flags.add("zero_reports")
                elif source.expected and self.counts[source_id]["list_pages"]:
                    flags.add("no_reports_found")
            counts = self.counts[source_id]
            totals.update(counts)
            errors.update(self.errors[source_id])
            sources[source_id] = {"reports_listed": listed, **counts,
                                  "errors": dict(self.errors[source_id]), "flags": sorted(flags)}
        errors.update(self.errors["-"])
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        return {
            "run_id": self.run_id, "mode": "probe" if self.probe else ("full" if self.full else "incremental"),
            "finish_reason": reason, "seconds": round(time.monotonic() - self.started, 2),
            # this process's CPU from the first request to the end (imports and set-up left out)
            "cpu_seconds": round(time.process_time() - self.cpu_started, 3),
            "pages": {"list": totals["list_pages"], "article": totals["article_pages"]},
            "documents": {k: totals[k] for k in ("new", "changed", "unchanged", "not_modified", "not_due")},
            "document_bytes": totals["document_bytes"],
            "responses": stats.get("downloader/response_count", 0),
            "retries": stats.get("retry/count", 0),
            "retry_wait_ms": stats.get("nianbao/retry_wait_ms", 0),
            "response_bytes": stats.get("downloader/response_bytes", 0),
            "errors": dict(errors),
            "flags": {sid: s["flags"] for sid, s in sources.items() if s["flags"]},
            "sources": sources,
        }


# ---------------------------------------------------------------------- helpers
def classify_failure(failure: Failure) -> tuple[str, str]:
    error = failure.value
    if isinstance(error, HttpError):
        return f"http_{error.response.status}", str(error)
    if failure.check(PrivateAddressRefused):
        return "private_address", str(error)
    if failure.check(OffsiteRedirect):
        return "offsite", str(error)
    if failure.check(RedirectLoop):
        return "redirect_loop", str(error)
    name = type(error).__name__
    text = str(error)
    if "max redirections" in text.lower():
        return "redirect_loop", text
    if "DataLoss" in name or "dataloss" in text.lower():
        return "truncated", text
    if "robots.txt" in text:
        return "robots", text
    if "offsite" in text.lower():
        return "offsite", text
    if "maxsize" in text.lower() or "larger than download max size" in text.lower() or (
            name == "CancelledError" and "size" in text):
        return "too_large", text
    if "Timeout" in name or "timed out" in text.lower():
        return "timeout", text
    if "DNS" in name or "Resolve" in name:
        return "dns", text   # also a second lookup the resolver refused as non-public (GuardedResolver)
    if "Connection" in name or "ResponseNeverReceived" in name or "ResponseFailed" in name:
        return "connection", f"{name}: {text}"
    return name.lower(), text


def download_name(response: Response) -> str:
    """The file name in Content-Disposition (RFC 5987 filename*, or a raw UTF-8/GBK filename)."""
    raw = response.headers.get(b"Content-Disposition") or b""
    if not raw:
        return ""
    star = _FILENAME_STAR.search(raw.decode("latin-1"))
    if star:
        return unquote(star.group(2).strip().strip('"'), encoding=star.group(1) or "utf-8", errors="replace")
    for encoding in ("utf-8", "gb18030", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    plain = _FILENAME.search(text)
    return unquote(plain.group(1).strip()) if plain else ""


def _claims_file(url: str, filename: str | None) -> bool:
    return extension(url, filename) in DOCUMENT_EXT


def _asked_url(response: Response) -> str:
    """The URL the crawl asked for (as the listing or article gave it), before any redirect.

    Documents are keyed by it, so the next run's conditional request goes to the same URL.
    """
    return (response.meta.get("redirect_urls") or [response.url])[0]


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _age(iso: str) -> timedelta:
    return datetime.now(UTC) - datetime.fromisoformat(iso)


def _truthy(value: str | bool) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes", "on")


def _host_ports(urls: list[str]) -> set[tuple[str, int]]:
    pairs = set()
    for url in urls:
        parts = urlsplit(url)
        pairs.add((parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)))
    return pairs
