"""A list page (or a JSON/JS answer) → its records and the follow-ups that carry more of them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lxml.html import HtmlElement

from crawler.discovery.columns import frame_follows, script_follows, year_column_follows
from crawler.discovery.model import Follow, Found, Record
from crawler.discovery.pagers import MAX_PAGES, pager_follows
from crawler.discovery.records import (
    column_key,
    data_records,
    js_values,
    link_records,
    page_count,
    page_links,
)
from crawler.discovery.scripts import (
    PAGE,
    DataRequest,
    data_requests,
    script_texts,
    size_param,
    url_functions,
)
from crawler.families.base import absolute_url, document_base

_COLUMN_PARAM = re.compile(r"channel|column|^col|cat|node|^lm|classid|^cid$|^chnl", re.IGNORECASE)


def discover_page(root: HtmlElement, page_url: str, columns: Iterable[str] = (), follow: Follow | None = None,
                  limit: int = MAX_PAGES) -> Found:
    """Records and follow-ups of an HTML list page (or the document of its frame, or a sub-column).

    Frames, data scripts and script requests are followed only from a shell — a page that lists
    no dated rows itself — and a request only when it names a page or a column: a page that lists
    its rows keeps its weather frame and visitor counter, which would answer with no rows.
    """
    base = document_base(root, page_url)   # what relative URLs are resolved against; page_url is the page
    scripts = script_texts(root)
    functions = url_functions(scripts)
    links = page_links(root, base, functions)
    records = link_records(root, page_url, functions, columns, links)
    shell = not any(record.date for record in records)
    for text in scripts:
        for value in js_values(text):
            records += data_records(value, base)
    follows = pager_follows(root, page_url, scripts, functions, limit, links)
    follows += year_column_follows(root, page_url, links)
    if shell:
        follows += frame_follows(root, base) + script_follows(root, base)
        follows += [data_follow(request, 1, base) for request in data_requests(scripts) if _asks_for_rows(request)]
    return Found(_unique(records, page_url, columns), follows)


def _asks_for_rows(request: DataRequest) -> bool:
    names = [*request.params, *(name for name, _ in parse_qsl(urlsplit(request.url.replace(PAGE, "1")).query))]
    return request.page_param is not None or any(_COLUMN_PARAM.search(name) for name in names)


def discover_text(text: str, url: str, follow: Follow | None = None, limit: int = MAX_PAGES) -> Found:
    """Records of a JSON answer or a script, and (for paged data) the requests for its other pages."""
    base = (follow.base if follow else None) or url
    values = list(js_values(text))
    records = [record for value in values for record in data_records(value, base)]
    found = Found(_unique(records, url, ()))
    if follow is None or follow.kind != "data" or not follow.page_param or follow.page != 1:
        return found
    size = follow.page_size or len(records)
    count = next((n for n in (page_count(value, size) for value in values) if n), None)
    if count is not None:
        found.follows = [next_page(follow, n) for n in range(2, min(count, limit) + 1)]
    return found


def data_follow(request: DataRequest, page: int, page_url: str) -> Follow:
    """The Follow for one page of the data a script asks for."""
    number = str(page)
    url = absolute_url(page_url, request.url.replace(PAGE, number))
    params = [(name, value.replace(PAGE, number)) for name, value in request.params.items()]
    size = size_param(request.params) or size_param(dict(parse_qsl(urlsplit(url).query)))
    if request.method == "POST":
        return Follow(url, "data", "POST", tuple(params), request.page_param, page, size, page_url)
    return Follow(_with_query(url, params), "data", "GET", (), request.page_param, page, size, page_url)


def next_page(follow: Follow, page: int) -> Follow:
    """The same data request for another page: its page parameter set to `page`."""
    name = follow.page_param
    form = tuple((k, str(page) if k == name else v) for k, v in follow.form)
    url = follow.url
    if follow.method != "POST" or not any(k == name for k, _ in follow.form):
        parts = urlsplit(url)
        query = [(k, str(page) if k == name else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        url = urlunsplit(parts._replace(query=urlencode(query)))
    return Follow(url, "data", follow.method, form, name, page, follow.page_size, follow.base)


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in query}
    query += [(k, v) for k, v in params if k not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _unique(records: list[Record], page_url: str, columns: Iterable[str]) -> list[Record]:
    """One record per (URL, title), in page order, the column's own pages left out."""
    skipped = {column_key(u) for u in (page_url, *columns)}
    chosen: dict[tuple[str, str], Record] = {}
    for record in records:
        if column_key(record.url) not in skipped:
            chosen.setdefault((record.url, record.title), record)
    return list(chosen.values())
