"""The pages of one report published over several HTML pages: a flipbook's page list, or an
article paginated in place (下一页, 第2页, numbered links 1 2 3, `index_2.html`, `page-2.html`).

The spider follows them in reading order and keeps them as one multipart document
(`report.document.Part`): one report, one record. Generic, not per site: the next page is
found from the link's text or from the page's own file name, never from a site's template.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawler.families.base import NEXT_TEXTS

MAX_PARTS = 60          # a report is not longer than this; a pager that goes on is not a report's
_PAGE_FILE = re.compile(r"\.(s?html?|jsp|aspx?|php)$", re.IGNORECASE)
_NUMBERED_LEAF = re.compile(r"^(?P<stem>.*?[-_])(?P<n>\d{1,2})(?P<ext>\.s?html?)$", re.IGNORECASE)
_BARE_LEAF = re.compile(r"^(?P<stem>.+?)(?P<ext>\.s?html?)$", re.IGNORECASE)
_BRACKETS = "[]【】()（）<>〈〉 \u3000"


def next_part(page: Selector, page_url: str, position: int, seen: Collection[str]) -> str | None:
    """The URL of the page after `page` (the report's page number `position`, 1-based), or None.

    A link to another page of the same host that says it is the next page (下一页, 第N页 or N for
    the following number) or is the page's own file name numbered one further (index.html →
    index_1.html / index_2.html, page-1.html → page-2.html, art_5.html → art_6.html, in the same
    folder). Pages already read (`seen`) are never the next one: a pager's 上一页 and 目录 loop back.
    """
    by_name = _successors(page_url, position)
    for anchor in page.xpath("//body//a[@href]"):
        href = (anchor.attrib.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(page_url, href).split("#", 1)[0]
        if url in seen or not _same_host(url, page_url) or not _PAGE_FILE.search(urlsplit(url).path):
            continue
        text = "".join(anchor.xpath(".//text()").getall()).strip(_BRACKETS).lower()
        if text in NEXT_TEXTS or text in (f"第{position + 1}页", str(position + 1)) or url in by_name:
            return url
    return None


def _successors(page_url: str, position: int) -> set[str]:
    """The URLs the page after this one would have, if the pages are numbered by file name: the
    number one further when it is the page's (page-1.html first, or index_1.html second), else the
    first numbered names after a bare one (an article id like t2022_12.html is no page number)."""
    head, _, leaf = page_url.split("?", 1)[0].rpartition("/")
    numbered = _NUMBERED_LEAF.match(leaf)
    if numbered and int(numbered["n"]) in (position - 1, position):
        names = {f"{numbered['stem']}{int(numbered['n']) + 1}{numbered['ext']}"}
    else:
        bare = _BARE_LEAF.match(leaf)
        names = {f"{bare['stem']}{sep}{n}{bare['ext']}" for sep in "_-" for n in (1, 2)} if bare else set()
    return {f"{head}/{name}" for name in names}


def _same_host(url: str, other: str) -> bool:
    return urlsplit(url).netloc.lower() == urlsplit(other).netloc.lower()
