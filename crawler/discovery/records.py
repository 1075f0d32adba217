"""Records (title, URL, date) wherever a page keeps them: its links, its scripts' JS literals,
and the JSON a list API answers with.

A link's date may sit in another cell, div or span of the same row rather than around the
link: the row is the largest ancestor that holds no other titled link. A truncated title
(`…年政府信息公开工作年…`) yields to the full one in `title=""`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import chompjs
from lxml.html import HtmlElement

from crawler.discovery.model import Record
from crawler.discovery.scripts import UrlFunction, looks_like_url, markup_calls, resolve_call
from crawler.families.base import absolute_url, anchor_title, link_target, page_anchors
from crawler.recognise import parse_date

_TITLE_KEYS = re.compile(r"title|^(name|bt|wzbt|subject|text|label|docname|filename)$", re.IGNORECASE)
_URL_KEYS = re.compile(r"url|link|href|^(path|src|addr|address|docpath|filepath)$", re.IGNORECASE)
_DATE_KEYS = re.compile(r"date|time|^(fbrq|rq|pubtime|day|ctime|mtime)$", re.IGNORECASE)
_COUNT_KEYS = re.compile(r"^(pagecount|totalpage|totalpages|pages|pagetotal|pagenum|pagesnum|totalpagenum|"
                         r"page_count|total_page|total_pages|countpage)$", re.IGNORECASE)
_TOTAL_KEYS = re.compile(r"^(total|totalcount|totalrecords|totalrecord|recordcount|totalnum|count|totalelements|"
                         r"totalsize|total_count|records|rowcount|totalrow)$", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SHORT_TITLE = 6          # a link text shorter than this is a pager or a 下载 button, not a row's title
_INDEX_LEAF = re.compile(r"/(?:index|default)\.(?:s?html?|jsp|aspx?|php)$", re.IGNORECASE)
_CHINA = timedelta(hours=8)


# ---------------------------------------------------------------- links
@dataclass(frozen=True)
class PageLink:
    anchor: HtmlElement
    url: str | None
    title: str


def page_links(root: HtmlElement, page_url: str, functions: dict[str, UrlFunction] | None = None) -> list[PageLink]:
    """Every <a> under `root` with where it leads and its title, read once for all the readers of a page."""
    return [PageLink(anchor, anchor_url(anchor, page_url, functions or {}), anchor_title(anchor))
            for anchor in page_anchors(root)]


def link_records(root: HtmlElement, page_url: str, functions: dict[str, UrlFunction] | None = None,
                 skip: Iterable[str] = (), links: list[PageLink] | None = None) -> list[Record]:
    """Every titled link under `root`, with the date of its row; links to `skip` (the column itself) left out."""
    links = page_links(root, page_url, functions) if links is None else links
    skipped = {column_key(url) for url in (page_url, *skip)}
    titled = {link.anchor for link in links if len(link.title.strip()) >= _SHORT_TITLE}
    records = []
    dates: dict[HtmlElement, str | None] = {}
    for link in links:
        if link.url and link.title and column_key(link.url) not in skipped:
            records.append(Record(link.url, link.title, row_date(link.anchor, dates, titled)))
    return records


def anchor_url(anchor: HtmlElement, page_url: str, functions: dict[str, UrlFunction]) -> str | None:
    """Where a link leads: its href, a window.open(…), or a call of a page function that builds the URL."""
    url = link_target(anchor, page_url)
    if url:
        return url
    for code in (anchor.get("href") or "", anchor.get("onclick") or ""):
        for call in markup_calls(code.removeprefix("javascript:")):
            built = resolve_call(call, functions)
            if built and looks_like_url(built):
                return absolute_url(page_url, built)
    return None


def row_date(anchor: HtmlElement, dates: dict[HtmlElement, str | None],
             titled: set[HtmlElement] | None = None) -> str | None:
    """The date in the link's own row: the link, then each ancestor that holds no other titled link.

    `titled`: the page's links with a title (≥ 6 characters), when the caller has them already.
    """
    node: HtmlElement | None = anchor
    while node is not None and node.tag not in ("body", "html"):
        if node is not anchor and _other_titled_link(node, anchor, titled):
            return None
        if node not in dates:
            found = parse_date(node.text_content())
            dates[node] = found.isoformat() if found else None
        if dates[node]:
            return dates[node]
        node = node.getparent()
    return None


def _other_titled_link(node: HtmlElement, anchor: HtmlElement, titled: set[HtmlElement] | None) -> bool:
    # node.iter("a") is page_anchors(node) read lazily: a list's container holds every link of the
    # page, and the first other titled one settles it
    if titled is not None:
        return any(other is not anchor and other in titled for other in node.iter("a"))
    return any(other is not anchor and len(anchor_title(other).strip()) >= _SHORT_TITLE
               for other in node.iter("a"))


@lru_cache(maxsize=16384)   # a page's links are keyed twice (its records, then their unique list)
def column_key(url: str) -> str:
    """One spelling of a column URL: no fragment, no trailing index.html/default.htm, no trailing slash."""
    bare = url.split("#", 1)[0]
    bare = _INDEX_LEAF.sub("/", bare)
    return bare.rstrip("/")


# ---------------------------------------------------------------- JS and JSON data
def js_values(text: str) -> Iterator[Any]:
    """Every JSON/JS object or array literal in a script (or a JSON document), parsed by chompjs."""
    try:
        yield from chompjs.parse_js_objects(text, omitempty=True)
    except ValueError:
        return


def data_records(data: Any, base_url: str) -> list[Record]:
    """Every object in a JSON/JS structure that has a title-like and a URL-like field."""
    found: dict[str, Record] = {}
    for item in _objects(data):
        record = _record(item, base_url)
        if record is not None:
            found.setdefault(record.url, record)
    return list(found.values())


def _objects(data: Any) -> Iterator[dict]:
    stack = [data]
    while stack:
        value = stack.pop(0)
        if isinstance(value, dict):
            yield value
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _record(item: dict, base_url: str) -> Record | None:
    url = _field(item, _URL_KEYS, lambda v: isinstance(v, str) and looks_like_url(v))
    if url is None:
        return None
    title = _field(item, _TITLE_KEYS, lambda v: isinstance(v, str) and len(v.strip()) >= 2) or _longest_text(item)
    if title is None:
        return None
    dated = _field(item, _DATE_KEYS, lambda v: _date(v) is not None)
    return Record(absolute_url(base_url, url.strip()), _plain_text(title), _date(dated) if dated is not None else None)


def _longest_text(item: dict) -> str | None:
    """With no title-like key (`{t: …, href: …}`): the longest value that reads as a title."""
    texts = [v for v in item.values() if isinstance(v, str) and len(_CJK.findall(v)) >= 4 and not looks_like_url(v)]
    return max(texts, key=len) if texts else None


def _field(item: dict, keys: re.Pattern[str], usable: Any) -> Any:
    for key, value in item.items():
        if isinstance(key, str) and keys.search(key) and usable(value):
            return value
    return None


def _plain_text(title: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", title)).strip()


def _date(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and 1e9 <= value < 1e13:
        seconds = value / 1000 if value >= 1e11 else value
        return (datetime.fromtimestamp(seconds, UTC) + _CHINA).date().isoformat()
    if isinstance(value, str):
        found = parse_date(value)
        return found.isoformat() if found else None
    return None


def page_count(data: Any, page_size: int | None) -> int | None:
    """The number of pages a JSON answer says the list has: a page count, or a total over the page size."""
    totals = []
    for item in _objects(data):
        for key, value in item.items():
            number = _integer(value)
            if number is None or not isinstance(key, str):
                continue
            if _COUNT_KEYS.match(key):
                return number
            if _TOTAL_KEYS.match(key):
                totals.append(number)
    if totals and page_size:
        return math.ceil(totals[0] / page_size)
    return None


def _integer(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
