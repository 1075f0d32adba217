"""TRS WCM: `index.html`, `index_1.html` …; the pager is `createPageHTML(N, cur, "index", "html")`."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from scrapy.http import TextResponse

from crawler.families.base import Adapter, ListPage, document_base, page_links, pager_links

_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(\w+)['\"]?\s*,\s*['\"]?(\w+)['\"]?\s*,\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")
_VARIABLE = r"var\s+{name}\s*=\s*['\"]?(\d+)"


class TrsAdapter(Adapter):
    family = "trs"

    def parse_list(self, response: TextResponse) -> ListPage:
        base = document_base(response.selector, response.url)
        links = page_links(response.selector, base)
        page = ListPage(self.listings_in(response.selector, base, links))
        urls = self._pager_urls(response) or pager_links(response.selector, response.url, links)
        page.next_pages = self.page_requests(urls, response.url)
        return page

    def _pager_urls(self, response: TextResponse) -> list[str]:
        call = _CREATE_PAGE.search(response.text)
        if not call:
            return []
        total = _number(call.group(1), response.text)
        if total is None:
            return []
        stem, ext = call.group(3), call.group(4)
        limit = min(total, self.source.overrides.max_pages or 500)
        if limit < 1:
            return []
        # the names are plain words ([\w-]+), so joining each is the folder plus the name: join once
        first = urljoin(response.url, f"{stem}.{ext}")
        folder = first[: len(first) - len(f"{stem}.{ext}")]
        return [first] + [f"{folder}{stem}_{n}.{ext}" for n in range(1, limit)]


def _number(token: str, text: str) -> int | None:
    """A createPageHTML argument: a literal, or a `var name = N` defined in the page."""
    if token.isdigit():
        return int(token)
    match = re.search(_VARIABLE.format(name=re.escape(token)), text)
    return int(match.group(1)) if match else None

