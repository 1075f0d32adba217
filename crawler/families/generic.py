"""Generic fallback: any list page; follows 下一页/尾页 and numbered pager links."""

from __future__ import annotations

from scrapy.http import TextResponse

from crawler.families.base import Adapter, ListPage, page_links, pager_links


class GenericAdapter(Adapter):
    family = "generic"

    def parse_list(self, response: TextResponse) -> ListPage:
        links = page_links(response.selector, response.url)
        page = ListPage(self.listings_in(response.selector, response.url, links))
        page.next_pages = self.page_requests(pager_links(response.selector, response.url, links), response.url)
        return page
