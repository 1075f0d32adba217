"""The one generic spider: list pages → report links → article pages → documents.

Each source's CMS adapter reads its list pages; the rest is shared. A known document or article
page is re-validated (a conditional request) at most once per NIANBAO_RECHECK_INTERVAL, or now
with `full`. A report paginated over several HTML pages (a flipbook's page list, an article whose
pager goes on: `crawler.parts`) is read page after page and kept as one multipart document. The
spider only decides: it yields items (`crawler.items`) that the raw-store
pipeline keeps and the run-summary extension counts; a downloader middleware spots challenges.
"""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response, TextResponse
from twisted.python.failure import Failure

from crawler.attachments import Attachment, attachments, body_text, page_images
from crawler.discovery.pagers import visible_pager
from crawler.failures import classify_failure
from crawler.families import Adapter, Listing, adapter_for
from crawler.families.base import document_base
from crawler.families.generic import FOLLOW_META
from crawler.index import DocumentIndex
from crawler.items import (
    ArticlePage,
    Candidate,
    Document,
    Failed,
    Listed,
    NotModified,
    PagePart,
    Quarantined,
)
from crawler.known import KnownUrls
from crawler.locations import crawl_config, index_url
from crawler.middlewares import ChallengePage, GuardedResolver
from crawler.parts import MAX_PARTS, next_part
from crawler.plan import CrawlPlan
from crawler.probe import START_META, probe_list_page
from crawler.recognise import recognise
from crawler.registry import Source, split_ids
from crawler.render import (
    NEEDS_BROWSER,
    answer_listings,
    handler_installed,
    missing_browser,
    recorder_of,
    rendered,
)
from crawler.responses import (
    asked_url,
    content_type,
    download_name,
    header,
    is_article_page,
    is_html_page,
    judge,
)
from crawler.sniff import is_report_text
from crawler.summary import count_key
from report.document import Part


class ReportsSpider(Spider):
    name = "reports"
    plan: CrawlPlan
    allowed_domains: list[str]
    private_hosts: set[str]            # read by the private-address and redirect guards
    adapters: dict[str, Adapter]
    index: DocumentIndex | None        # read here; the raw-store pipeline writes it
    known: KnownUrls | None = None      # what the index holds, asked per followed URL (None: no index)
    recheck: timedelta
    render_problem: str | None          # why sources with render: true cannot be rendered here (None: they can)

    def __init__(self, sources: str = "", full: str | bool = False, probe: str | bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.only = split_ids(sources)
        self.full, self.probe = _truthy(full), _truthy(probe)
        self.run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        self.reports_seen: dict[str, set[str]] = defaultdict(set)
        self.list_pages_queued: dict[str, set[tuple[str, str, bytes]]] = defaultdict(set)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ReportsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.plan = plan = CrawlPlan.from_settings(crawler.settings, spider.only)
        spider.allowed_domains, spider.private_hosts = plan.allowed_domains, plan.private_hosts
        GuardedResolver.allowed_private = {hp.rsplit(":", 1)[0] for hp in plan.private_hosts}
        spider.adapters = {sid: adapter_for(s) for sid, s in plan.sources.items()}
        where = index_url(crawler.settings)   # a probe writes nothing, not even an empty index
        spider.index = None if spider.probe and not DocumentIndex.exists(where) else DocumentIndex(where)
        spider.known = KnownUrls(spider.index) if spider.index is not None and not spider.probe else None
        spider.recheck = timedelta(seconds=crawl_config(crawler.settings).recheck_interval)
        spider.render_problem = _render_problem(crawler, plan)
        return spider

    async def start(self):
        for source_id, urls in self.plan.list_urls.items():
            source = self.plan.sources[source_id]
            if source.render and self.render_problem:
                for url in urls:   # recorded as the source's broken list, never skipped silently
                    yield Failed(source_id, url, NEEDS_BROWSER, self.render_problem, list_page=True)
                continue
            for request in (r for url in urls for r in self.adapters[source_id].start_requests(url)):
                yield self._list_request(request.replace(meta={**request.meta, START_META: True}), source)

    def _list_request(self, request: Request, source: Source) -> Request:
        # the adapter's own new request, completed in place (a copy per list page costs a URL parse)
        # (parse_list reads a TextResponse: every list page is one; Scrapy types callbacks for any Response)
        request.callback = self.parse_list   # type: ignore[assignment]
        request.errback = self.on_error
        request.meta.update(source_id=source.id, role="list")
        if source.render and request.method == "GET" and _carries_a_page(request):
            return rendered(request, source.hosts(self.plan.sandbox_url))
        return request

    def count(self, source: Source, name: str) -> None:
        self.crawler.stats.inc_value(count_key(source.id, name))   # type: ignore[union-attr]  # set once crawling

    def parse_list(self, response: TextResponse):
        source = self.plan.sources[response.meta["source_id"]]
        self.count(source, "list_pages")
        page = self.adapters[source.id].parse_list(response)
        recorder = recorder_of(response.meta)
        if recorder is not None:
            page.listings += answer_listings(recorder, response.url)
        if not page.listings and not page.next_pages:
            yield Failed(source.id, response.url, "unparsable", _nothing_read(response, recorder is not None),
                         list_page=True)
        elif response.meta.get(START_META) and not page.next_pages:
            yield from self._unfollowed_pager(source, response)
        reports_before = len(self.reports_seen[source.id])
        limit, queued = source.overrides.max_pages, self.list_pages_queued[source.id]
        for request in page.next_pages:
            key = (request.method, request.url, request.body)
            if key not in queued and not (limit and len(queued) >= limit):
                queued.add(key)
                yield self._list_request(request, source)
        for listing in page.listings:
            yield from self._consider(source, listing)
        if self.probe:
            yield probe_list_page(source.id, response, page, len(self.reports_seen[source.id]) - reports_before,
                                  rendered=recorder is not None)

    def _unfollowed_pager(self, source: Source, response: TextResponse):
        """A first list page that shows more pages, none of which the adapter could reach: the
        column is read only in part, which the health check must know."""
        if not isinstance(response, HtmlResponse):
            return
        shown = visible_pager(response.selector.root)
        if shown:
            yield Failed(source.id, response.url, "pager_unfollowed",
                         f"the list shows more pages ({shown}) but no other page could be reached", list_page=True)

    def _consider(self, source: Source, listing: Listing):
        pattern = source.overrides.article_pattern
        if (pattern and not re.search(pattern, listing.url)) or listing.url in self.reports_seen[source.id]:
            return
        found = recognise(listing.title, listing.url, listing.listed, source.overrides.title_pattern)
        if not found:
            return
        self.reports_seen[source.id].add(listing.url)
        self.count(source, "reports_listed")
        info = Listed(listing.title, found.year, listing.listed, found.version)
        if self.probe:
            known = bool(self.index and (self.index.latest(listing.url) or self.index.page(listing.url)))
            yield Candidate(source.id, listing.url, known, listing.title, found.year, listing.listed, found.version)
        else:
            yield from self._follow(source, listing.url, info, role="target")

    def _follow(self, source: Source, url: str, info: Listed, role: str, referer: str | None = None):
        assert self.known is not None
        known = self.known.look_up(url)
        due = self.full or (role == "target" and known.unfinished_article) or not known.checked_within(self.recheck)
        if not due:
            self.count(source, "not_due")
            yield from known.still_held(source.id, url, "still (not re-fetched)")
            if known.page:
                yield from self._follow_children(source, url, info, known.page["children"])
            return
        parts = known.document.parts if known.document else ()
        yield Request(url, callback=self.parse_target, errback=self.on_error,
                      headers=_validators(parts[0]) if parts else known.validators(),
                      meta={"source_id": source.id, "role": role, "info": info, "referer_page": referer,
                            "handle_httpstatus_list": [304], "known_parts": parts})

    def _follow_children(self, source: Source, url: str, info: Listed, children: list[dict[str, Any]]):
        for child in children:
            child_info = Listed(info.title, info.year, info.listed, info.version, child.get("title"),
                                child.get("kind", "file"))
            yield from self._follow(source, child["url"], child_info, role="attachment", referer=url)

    def parse_target(self, response: Response):
        source, info = self.plan.sources[response.meta["source_id"]], response.meta["info"]
        if response.status == 304:
            if response.meta.get("known_parts"):
                yield from self._recheck_parts(source, response, info)
            else:
                yield from self._not_modified(source, response, info)
            return
        filename = download_name(response) or None
        if is_article_page(response, filename):
            assert isinstance(response, TextResponse)
            yield from self._article(source, response, info)
        else:
            yield self._keep(source, response, info, filename)

    def _not_modified(self, source: Source, response: Response, info: Listed):
        assert self.known is not None
        asked = asked_url(response)
        known = self.known.look_up(asked)
        self.count(source, "not_modified")
        if known.document:
            self.count(source, "unchanged")
        yield NotModified(asked, document=bool(known.document), page=bool(known.page), quarantined=bool(known.held))
        yield from known.still_held(source.id, asked, "unchanged (304)")
        if known.page:
            yield from self._follow_children(source, asked, info, known.page["children"])

    def _article(self, source: Source, response: TextResponse, info: Listed):
        self.count(source, "article_pages")
        base = document_base(response.selector, response.url)
        found = attachments(response.selector, base)
        holds_report = is_report_text(body_text(response.selector))
        book = [a.url for a in found if a.kind == "page"]
        if book or (holds_report and next_part(response.selector, response.url, 1, {response.url})):
            # one report over several pages (a flipbook's page list, 下一页 …): one multipart document
            files = [a for a in found if a.kind != "page"]
            read = MultipartRead(source.id, asked_url(response), info, _children(files), book,
                                 known=response.meta.get("known_parts") or ())
            yield from self._parts(read, response)
            return
        if not found and info.version == "图片版":
            # the report is the pictures in the page: keep the page and every image in it
            found, holds_report = page_images(response.selector, base), True
        if holds_report:
            yield self._keep(source, response, info, None)
        if not found and not holds_report:
            yield Failed(source.id, asked_url(response), "no_document",
                         "the article has neither a report body nor an attachment")
            return
        children = _children(found)
        yield ArticlePage(source.id, asked_url(response), children, header(response, b"ETag"),
                          header(response, b"Last-Modified"))
        yield from self._follow_children(source, asked_url(response), info, children)

    # ------------------------------------------------------------------ a report over several pages
    def _parts(self, read: MultipartRead, response: TextResponse):
        """Add this page to the report being read; ask for its next page, or keep the whole report.

        The pages are read one after the other, each saying which comes next (a flipbook's page
        list says it first). A re-check asks for each known page conditionally: a 304 page is the
        page the index holds, and the page after it is the one that followed it then."""
        read.parts.append(PagePart(response.url if read.parts else read.url, response.body,
                                   header(response, b"ETag"), header(response, b"Last-Modified")))
        yield from self._next_part(read, next_part(response.selector, response.url, len(read.parts),
                                                   read.seen() | {response.url}))

    def _unchanged_part(self, read: MultipartRead, known: Part):
        read.parts.append(PagePart(known.url, None, known=known))
        later = read.known[[part.url for part in read.known].index(known.url) + 1:]
        yield from self._next_part(read, later[0].url if later else None)

    def _next_part(self, read: MultipartRead, found: str | None):
        source = self.plan.sources[read.source_id]
        self.count(source, "report_pages")
        seen = read.seen()
        following = next((url for url in read.book if url not in seen), None) or found
        if following and following not in seen and len(read.parts) < MAX_PARTS:
            known = read.known_part(following)
            yield Request(following, callback=self.parse_part, errback=self.on_part_error, dont_filter=True,
                          headers=_validators(known), meta={"source_id": source.id, "role": "part",
                                                            "multipart": read, "handle_httpstatus_list": [304]})
            return
        if read.unchanged():
            self.count(source, "not_modified")
            self.count(source, "unchanged")
            yield NotModified(read.url, document=True, page=True)
        else:
            yield Document(source.id, source.agency, read.url, b"", "html", read.info, "text/html", parts=read.parts)
            yield ArticlePage(source.id, read.url, read.children)
        yield from self._follow_children(source, read.url, read.info, read.children)

    def parse_part(self, response: Response):
        read: MultipartRead = response.meta["multipart"]
        known = read.known_part(asked_url(response))
        if response.status == 304 and known is not None:
            yield from self._unchanged_part(read, known)
        elif isinstance(response, TextResponse) and is_html_page(response, download_name(response) or None):
            yield from self._parts(read, response)
        else:
            yield Failed(read.source_id, read.url, "not_a_document",
                         f"page {len(read.parts) + 1} of the report ({asked_url(response)}) is not an HTML page")

    def _recheck_parts(self, source: Source, response: Response, info: Listed):
        """The first page of a known multipart report answered 304: check its other pages."""
        assert self.index is not None
        url, known = asked_url(response), response.meta["known_parts"]
        page = self.index.page(url)
        read = MultipartRead(source.id, url, info, page["children"] if page else [], [], known=known)
        yield from self._unchanged_part(read, known[0])

    def on_part_error(self, failure: Failure):
        """A page of a multipart report could not be read: the report is not kept in part."""
        request: Request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        read: MultipartRead = request.meta["multipart"]
        kind, detail = classify_failure(failure)
        yield Failed(read.source_id, read.url, kind,
                     f"page {len(read.parts) + 1} of the report ({asked_url(request)}): {detail}",
                     year=read.info.year)

    def _keep(self, source: Source, response: Response, info: Listed, filename: str | None) -> Document | Failed:
        verdict = judge(response, info.child_kind, filename)
        if not verdict.ok:
            return Quarantined.of(source.id, response, verdict.problem or "invalid", verdict.detail)
        return Document(source.id, source.agency, asked_url(response), response.body, verdict.kind, info,
                        content_type(response) or None, filename, header(response, b"ETag"),
                        header(response, b"Last-Modified"), response.meta.get("referer_page"))

    def on_error(self, failure: Failure):
        request: Request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        source = self.plan.sources.get(request.meta.get("source_id", ""))
        kind, detail = classify_failure(failure)
        on_list = request.meta.get("role") == "list"
        if source and isinstance(failure.value, ChallengePage):
            if on_list:
                self.count(source, "list_pages")
            else:   # the challenge page's bytes are kept, in quarantine
                yield Quarantined.of(source.id, failure.value.response, kind, detail, asked_url(request))
                return
        yield Failed(source.id if source else None, asked_url(request), kind, detail, list_page=on_list)


@dataclass
class MultipartRead:
    """A report paginated over several HTML pages, while its pages are read in order."""

    source_id: str
    url: str                          # the article: the report's first page, its URL in the index
    info: Listed
    children: list[dict[str, Any]]    # the article's other attachments, followed once the report is kept
    book: list[str]                   # the page list a flipbook's article gives (read first, in order)
    parts: list[PagePart] = field(default_factory=list)
    known: tuple[Part, ...] = ()      # the pages the crawl index holds (a re-check)

    def seen(self) -> set[str]:
        return {part.url for part in self.parts}

    def known_part(self, url: str) -> Part | None:
        return next((part for part in self.known if part.url == url), None)

    def unchanged(self) -> bool:
        """Every known page answered 304, and no page came or went."""
        return bool(self.known) and all(part.body is None for part in self.parts) and \
            [part.url for part in self.parts] == [part.url for part in self.known]


def _validators(part: Part | None) -> dict[str, str]:
    headers = {"If-None-Match": part.etag, "If-Modified-Since": part.last_modified} if part else {}
    return {name: value for name, value in headers.items() if value}


def _children(found: list[Attachment]) -> list[dict[str, Any]]:
    return [{"url": a.url, "title": a.title, "kind": a.kind} for a in found]


def _render_problem(crawler: Crawler, plan: CrawlPlan) -> str | None:
    if not any(source.render for source in plan.sources.values()):
        return None
    problem = missing_browser(crawl_config(crawler.settings).browser)
    if problem is None and not handler_installed(crawler.settings):
        problem = "needs a browser: this crawl was started without the browser (start it with python -m crawler)"
    return problem


def _carries_a_page(request: Request) -> bool:
    """A list page to load in the browser, not a JSON or script answer asked for by discovery."""
    return (request.meta.get(FOLLOW_META) or {}).get("kind", "page") not in ("data", "script")


def _nothing_read(response: TextResponse, was_rendered: bool) -> str:
    if was_rendered:
        return "the rendered list page has no links or records the crawler can read"
    if response.xpath("//script"):
        return "list page has no links the adapter can read, but has scripts: it may need a browser (render: true)"
    return "list page has no links the adapter can read"


def _truthy(value: str | bool) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes", "on")
