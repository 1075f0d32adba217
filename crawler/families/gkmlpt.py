"""gkmlpt (广东 政府信息公开目录平台): an HTML shell at `/gkmlpt/index`, data from `/gkmlpt/api/all/<col>?page=N`."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from urllib.parse import urljoin

from scrapy import Request
from scrapy.http import TextResponse

from crawler.families.base import Adapter, Listing, ListPage, absolute_url

_API = re.compile(r"""["']?((?:https?://[^"'\s]+)?[^"'\s]*/gkmlpt/api/all/(\d+))""")
_FIRST_PAGE = re.compile(r"[?&]page=1(?:&|$)")
_COLUMN_HINTS = re.compile(r"(?:columnId|column_id|classify_id|CLASSIFY_ID|col(?:umn)?)\W{1,4}(\d{2,})|#(\d{2,})")


class GkmlptAdapter(Adapter):
    family = "gkmlpt"

    def parse_list(self, response: TextResponse) -> ListPage:
        if "json" in (response.headers.get(b"Content-Type") or b"").decode("latin-1") or response.text.lstrip().startswith("{"):
            return self._parse_api(response)
        api = self._api_url(response)
        if not api:
            return ListPage()
        return ListPage(next_pages=[Request(f"{api}?page=1", headers={"Accept": "application/json"})])

    def _api_url(self, response: TextResponse) -> str | None:
        """The column's list API: named in the shell's script, else built from the column id."""
        if self.source.overrides.column:
            return urljoin(response.url, f"api/all/{self.source.overrides.column}")
        named = _API.search(response.text)
        if named:
            return urljoin(response.url, named.group(1))
        hint = _COLUMN_HINTS.search(response.text)
        if not hint:
            return None
        return urljoin(response.url, f"api/all/{next(g for g in hint.groups() if g)}")

    def _parse_api(self, response: TextResponse) -> ListPage:
        try:
            data = json.loads(response.text)
        except ValueError:
            return ListPage()
        articles = data.get("articles") or data.get("data") or data.get("list") or []
        page = ListPage([Listing(absolute_url(response.url, a["url"]), a.get("title", ""), _date(a))
                         for a in articles if isinstance(a, dict) and a.get("url")])
        if data.get("page", 1) == 1 or _FIRST_PAGE.search(response.url):   # only the first page asks for the rest
            size = int(data.get("page_size") or data.get("per_page") or len(articles) or 1)
            pages = int(data.get("pages") or math.ceil(int(data.get("total", 0)) / size) or 1)
            page.next_pages = [Request(re.sub(r"page=1\b", f"page={n}", response.url),
                                       headers={"Accept": "application/json"})
                               for n in range(2, min(pages, self.source.overrides.max_pages or 500) + 1)]
        return page


def _date(article: dict) -> str | None:
    for key in ("date", "publish_date", "display_publish_time", "first_publish_time", "created_at"):
        value = article.get(key)
        if isinstance(value, int | float) and value > 0:
            return datetime.fromtimestamp(value, UTC).date().isoformat()
        if isinstance(value, str) and value[:4].isdigit():
            return value[:10]
    return None
