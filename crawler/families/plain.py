"""Plain numbered lists: `…/1.html`, `…/2.html` or `?page=N`, with a 共N页 total when printed."""

from __future__ import annotations

import re

from scrapy.http import TextResponse

from crawler.families.base import (
    Adapter,
    ListPage,
    document_base,
    page_links,
    page_template,
    pager_links,
)

_TOTAL_PAGES = re.compile(r"共\s*(\d+)\s*页|totalPages?\s*[=:]\s*(\d+)", re.IGNORECASE)


class PlainAdapter(Adapter):
    family = "plain"

    def parse_list(self, response: TextResponse) -> ListPage:
        base = document_base(response.selector, response.url)
        links = page_links(response.selector, base)
        page = ListPage(self.listings_in(response.selector, base, links))
        urls = pager_links(response.selector, response.url, links)
        template = page_template(response.url)
        total = _TOTAL_PAGES.search(response.text)
        if template and total:
            count = int(total.group(1) or total.group(2))
            urls += [template.replace("{n}", str(n)) for n in range(1, min(count, 500) + 1)]
        page.next_pages = self.page_requests(urls, response.url)
        return page
