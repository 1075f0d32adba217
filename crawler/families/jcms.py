"""大汉 jcms: a column page `/col/colNNN/index.html` embeds the first records in a `<datastore>`;
further records come from a POST to `/module/web/jpage/dataproxy.jsp?startrecord=&endrecord=&perpage=`
that answers with the same XML record set."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urljoin, urlsplit

from lxml.html import HtmlElement
from parsel import Selector
from scrapy import FormRequest
from scrapy.http import TextResponse

from crawler.families.base import (
    Adapter,
    Listing,
    ListPage,
    absolute_url,
    nearby_date,
    node_text,
    page_anchors,
)

DATAPROXY = "/module/web/jpage/dataproxy.jsp"
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_TAG = r"<{name}>\s*(\d+)\s*</{name}>"
_JS_PARAM = r"""['"]?{name}['"]?\s*[:=]\s*['"]?([^'",\s}}&]+)"""
_COLUMN_IN_PATH = re.compile(r"/col/col(\d+)/")
_FORM_FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                "permissiontype")


class JcmsAdapter(Adapter):
    family = "jcms"

    def parse_list(self, response: TextResponse) -> ListPage:
        text = response.text
        page = ListPage(self._records(text, response.url))
        if DATAPROXY in urlsplit(response.url).path:
            return page  # a dataproxy answer: the first page already asked for every group
        total = _tag("totalrecord", text)
        per_page = _tag("perpage", text) or _tag("rsperpage", text) or _js(text, "perpage") or 15
        if total is None:
            total = _js(text, "totalRecord") or len(page.listings)
        already = len(page.listings)
        group = int(per_page) * 3
        params = self._form(text, response.url)
        proxy = self._proxy_path(text)
        for start in range(already + 1, int(total) + 1, group):
            end = min(start + group - 1, int(total))
            url = urljoin(response.url, f"{proxy}?startrecord={start}&endrecord={end}&perpage={per_page}")
            page.next_pages.append(FormRequest(url, formdata=params))
        return page

    @staticmethod
    def _records(text: str, base_url: str) -> list[Listing]:
        listings = []
        for fragment in _RECORD.findall(text):
            # the lxml tree parsel builds, read without a Selector per anchor
            dates: dict[HtmlElement, str | None] = {}
            for anchor in page_anchors(Selector(text=fragment)):
                href = anchor.get("href")
                title = anchor.get("title") or " ".join(node_text(anchor)).strip()
                if href and title:
                    listings.append(Listing(absolute_url(base_url, href), title.strip(), nearby_date(anchor, dates)))
        return listings

    @staticmethod
    def _proxy_path(text: str) -> str:
        """Where this site's dataproxy.jsp lives: the page's proxyUrl, its nextgroup link, or the root."""
        named = _js_str(text, "proxyUrl")
        if named and named.endswith("dataproxy.jsp"):
            return named
        nextgroup = _NEXTGROUP.search(text)
        if nextgroup:
            href = Selector(text=nextgroup.group(1)).css("a::attr(href)").get() or ""
            if urlsplit(href).path.endswith("dataproxy.jsp"):
                return urlsplit(href).path
        return DATAPROXY

    def _form(self, text: str, url: str) -> dict[str, str]:
        """The dataproxy form fields: from the nextgroup link, the page's jpage script, overrides."""
        fields = {"col": "1", "appid": "1", "path": "/", "sourceContentType": "1", "permissiontype": "0"}
        nextgroup = _NEXTGROUP.search(text)
        if nextgroup:
            href = Selector(text=nextgroup.group(1)).css("a::attr(href)").get() or ""
            fields.update({k: v for k, v in parse_qsl(urlsplit(href).query) if k in _FORM_FIELDS})
        for name in _FORM_FIELDS:
            if name not in fields or name in ("webid", "columnid", "unitid", "webname"):
                value = _js_str(text, name)
                if value:
                    fields.setdefault(name, value)
        column = self.source.overrides.column or (_COLUMN_IN_PATH.search(url) or [None, None])[1]
        if column:
            fields.setdefault("columnid", column)
        fields.update(self.source.overrides.jcms_params)
        return {k: fields[k] for k in sorted(fields)}


def _tag(name: str, text: str) -> int | None:
    match = re.search(_TAG.format(name=name), text, re.IGNORECASE)
    return int(match.group(1)) if match else None


def _js(text: str, name: str) -> int | None:
    value = _js_str(text, name)
    return int(value) if value and value.isdigit() else None


def _js_str(text: str, name: str) -> str | None:
    match = re.search(_JS_PARAM.format(name=name), text, re.IGNORECASE)
    return match.group(1) if match else None
