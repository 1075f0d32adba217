"""Generic fallback: any list page, read by `crawler.discovery` — links with the date of their row,
records in scripts' JS literals and in the JSON a list script asks for, pagers of every common
kind (numbered, 下一页/尾页, createPageHTML, WCM variables, AspNetPager postbacks, 共N页, pager
functions), the document of an <iframe>, per-year sub-columns, and the column's own link left out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from scrapy import FormRequest, Request
from scrapy.http import TextResponse

from crawler.discovery.lists import discover_page, discover_text
from crawler.discovery.model import Follow
from crawler.families.base import Adapter, Listing, ListPage, document_base, page_links

if TYPE_CHECKING:
    from crawler.registry import Source

FOLLOW_META = "discovery"


class GenericAdapter(Adapter):
    family = "generic"

    def __init__(self, source: Source) -> None:
        super().__init__(source)
        self._columns: list[str] = []
        self._follows_made: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()

    def start_requests(self, url: str) -> Iterable[Request]:
        self._columns.append(url)
        yield Request(url)

    def parse_list(self, response: TextResponse) -> ListPage:
        follow = Follow.from_meta(response.url, _meta(response).get(FOLLOW_META))
        limit = self.source.overrides.max_pages or 500
        if is_html(response):
            found = discover_page(response.selector.root, response.url, self._columns, follow, limit)
        else:
            found = discover_text(response.text, response.url, follow, limit)
        listings = [Listing(record.url, record.title, record.date) for record in found.records]
        if self.source.overrides.list_selector and is_html(response):
            # the source names the list's area: its links, plus what scripts hold
            base = document_base(response.selector, response.url)
            anchors = {link.url for link in page_links(response.selector, base)}
            listings = self.listings_in(response.selector, base) + [
                listing for listing in listings if listing.url not in anchors]
        return ListPage(listings, [self._request(f) for f in found.follows if self._fresh(f, response.url)])

    def _fresh(self, follow: Follow, current_url: str) -> bool:
        if follow.key in self._follows_made or (follow.method == "GET" and follow.url == current_url):
            return False
        self._follows_made.add(follow.key)
        return True

    @staticmethod
    def _request(follow: Follow) -> Request:
        meta = {FOLLOW_META: follow.to_meta()}
        if follow.method == "POST":
            return FormRequest(follow.url, formdata=list(follow.form), meta=meta)
        return Request(follow.url, meta=meta)


def _meta(response: TextResponse) -> dict:
    return response.request.meta if response.request is not None else {}


def is_html(response: TextResponse) -> bool:
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    if "json" in content_type or "javascript" in content_type:
        return False
    return "html" in content_type or response.text.lstrip()[:1] == "<"
