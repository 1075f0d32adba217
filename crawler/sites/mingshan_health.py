"""本溪市明山区卫生健康局 (sandbox-mingshan-health): a generic CMS whose pager links carry no URL.

Its 首页/上一页/下一页/尾页 are `<a href="javascript:void(0);" onclick="goPage(N)">` counting pages
from 0, and a script on the page sends goPage(N) to `?page=N+1` of the list page itself (the first
page has no `?page`): static discovery of the script cannot do that arithmetic.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from scrapy.http import TextResponse

from crawler.families.base import ListPage
from crawler.families.generic import GenericAdapter

_GO_PAGE = re.compile(r"goPage\((\d{1,4})\)")


class Adapter(GenericAdapter):
    def parse_list(self, response: TextResponse) -> ListPage:
        page = super().parse_list(response)
        parts = urlsplit(response.url)
        current = parse_qs(parts.query).get("page", ["1"])[0]
        numbers = sorted({str(int(n) + 1) for n in _GO_PAGE.findall(response.text)} - {current}, key=int)
        list_page = parts._replace(query="", fragment="").geturl()
        page.next_pages += self.page_requests([f"{list_page}?page={n}" for n in numbers], response.url)
        return page
