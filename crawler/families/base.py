"""What every CMS adapter shares: reading links (title, URL, date) and pagers from a list page.

An adapter turns one list-page response into listings (candidate links with their
title and date) and further list-page requests. Adding a site of a known family is a
registry entry; a new family is a small subclass of `Adapter`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml.html import HtmlElement
from parsel import Selector, css2xpath
from scrapy import Request
from scrapy.http import TextResponse

from crawler.recognise import parse_date

if TYPE_CHECKING:
    from crawler.registry import Source

NEXT_TEXTS = {"下一页", "下页", "后一页", "下一頁", "next", ">", ">>", "»", "›"}
LAST_TEXTS = {"尾页", "末页", "最后一页", "尾頁", "last", ">|", "»|"}
_WINDOW_OPEN = re.compile(r"""(?:window\.open|location\.href\s*=|location\s*=)\s*\(?\s*['"]([^'"]+)['"]""")
_PAGE_PARAM = re.compile(r"^(page|pageno|pagenum|page_no|pageindex|p|curpage|currentpage|pn)$", re.IGNORECASE)
_NUMBERED_LEAF = re.compile(r"(?P<stem>.*?)(?:_(?P<n>\d{1,4}))?(?P<ext>\.s?html?)")   # index_3.html, list.html
_NUMBER_LEAF = re.compile(r"\d{1,4}\.s?html?")                                        # 3.html
# Links are read from the lxml tree directly, with compiled XPath: the same expressions parsel
# would build, without a Selector object per node (that wrapping was most of a list page's cost).
_ANCHORS = etree.XPath(css2xpath("a"))
_BASE_HREF = etree.XPath("(//base[@href])[1]/@href", smart_strings=False)
_TEXTS = etree.XPath(css2xpath("::text"), smart_strings=False)
ROW_TAGS = ("li", "tr", "dd", "p")   # the row or list item a link's date is printed in
# Hrefs that urljoin would only prefix (site-rooted /a/b.html, sibling ./b.html or b.html?page=2,
# query-only ?page=2): no dot segments, doubled slashes, params, fragment or empty query.
_URL_CHARS = r"[\w\-.~%=&+,]"
_PLAIN_ROOTED = re.compile(rf"/(?:{_URL_CHARS}|/)*(?:\?(?:{_URL_CHARS}|/)+)?")
_PLAIN_SIBLING = re.compile(rf"(?:\./)?(?P<name>{_URL_CHARS}+)(?:\?(?:{_URL_CHARS}|/)+)?")
_PLAIN_QUERY = re.compile(rf"\?(?:{_URL_CHARS}|/)+")
_PLAIN_PATH = re.compile(rf"/(?:{_URL_CHARS}|/)*")   # a base URL's path of the same kind

Node: TypeAlias = Selector | HtmlElement


@dataclass(frozen=True)
class Listing:
    url: str
    title: str
    listed: str | None = None   # ISO date as the listing shows it


@dataclass
class ListPage:
    listings: list[Listing] = field(default_factory=list)
    next_pages: list[Request] = field(default_factory=list)


class Adapter:
    family = "base"

    def __init__(self, source: Source) -> None:
        self.source = source
        self._pages_requested: set[str] = set()

    def page_requests(self, urls: Iterable[str], current_url: str) -> list[Request]:
        """GET requests for the list pages in `urls` that this adapter has not asked for before.

        Every page of a paged column links to every other page, so without this each of N pages
        builds N requests that the spider would drop as already queued (the spider still
        de-duplicates and applies max_pages; this only saves building them). One adapter serves
        one source for one crawl.
        """
        fresh = [url for url in dict.fromkeys(urls) if url != current_url and url not in self._pages_requested]
        self._pages_requested.update(fresh)
        return [Request(url) for url in fresh]

    def start_requests(self, url: str) -> Iterable[Request]:
        yield Request(url)

    def parse_list(self, response: TextResponse) -> ListPage:
        raise NotImplementedError

    # -------------------------------------------------------------- shared helpers
    def listings_in(self, selector: Selector, base_url: str, links: list[Link] | None = None) -> list[Listing]:
        """Every titled link of the list (inside `list_selector` when the source sets one).

        `links`: the page's `page_links`, when the caller has them already.
        """
        if self.source.overrides.list_selector:
            areas = list(selector.css(self.source.overrides.list_selector)) or [selector]
            links = [link for area in areas for link in page_links(area, base_url)]
        elif links is None:
            links = page_links(selector, base_url)
        dates: dict[HtmlElement, str | None] = {}
        return [Listing(link.url, link.title, nearby_date(link.anchor, dates)) for link in links if link.title]


@dataclass(frozen=True)
class Link:
    anchor: HtmlElement
    url: str
    title: str


def page_links(root: Node, base_url: str) -> list[Link]:
    """Every <a> under `root` that leads somewhere, with its absolute URL and title, in page order."""
    found = []
    for anchor in _ANCHORS(_element(root)):
        url = link_target(anchor, base_url)
        if url:
            found.append(Link(anchor, url, anchor_title(anchor)))
    return found


def page_anchors(root: Node) -> list[HtmlElement]:
    """Every <a> under `root`, in page order (what parsel's `root.css("a")` gives, unwrapped)."""
    return _ANCHORS(_element(root))


def _element(node: Node) -> HtmlElement:
    return node.root if isinstance(node, Selector) else node


def node_text(node: Node) -> list[str]:
    """Every text node inside `node` (what parsel's `node.css("::text").getall()` gives)."""
    element = _element(node)
    if not len(element):   # no child nodes (most links): its own text is all, without an XPath call
        return [element.text] if element.text else []
    return _TEXTS(element)


@lru_cache(maxsize=256)
def _join_prefixes(base_url: str) -> tuple[str, str, str] | None:
    """What urljoin puts before a site-rooted, a sibling and a query-only href of `base_url`."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path
    if _PLAIN_PATH.fullmatch(path) and "//" not in path and "/." not in path:   # urljoin would only cut the leaf
        return origin, origin + path[:path.rfind("/") + 1], origin + path
    return origin, urljoin(base_url, "x")[:-1], urljoin(base_url, "?x")[:-2]


def absolute_url(base_url: str, href: str) -> str:
    """`urljoin(base_url, href)`, without parsing both URLs for the common plain href."""
    prefixes = _join_prefixes(base_url)
    if prefixes:
        origin, directory, page = prefixes
        if href.startswith("/"):
            if _PLAIN_ROOTED.fullmatch(href) and "//" not in href and "/." not in href:
                return origin + href
        elif href.startswith("?"):
            if _PLAIN_QUERY.fullmatch(href):
                return page + href
        else:
            sibling = _PLAIN_SIBLING.fullmatch(href)
            if sibling and sibling["name"] not in (".", ".."):
                return directory + href.removeprefix("./")
    return urljoin(base_url, href)


def document_base(root: Node, page_url: str) -> str:
    """The URL a page's relative links are resolved against: its `<base href>` (itself relative
    to the page), as a browser does, else the page's own URL."""
    hrefs = _BASE_HREF(_element(root))
    href = str(hrefs[0]).strip() if hrefs else ""
    if not href or href.lower().startswith(("javascript:", "data:")):
        return page_url
    base = urljoin(page_url, href)
    return base if urlsplit(base).scheme in ("http", "https") else page_url


def link_target(anchor: Node, base_url: str) -> str | None:
    """The absolute URL an <a> leads to: its href, or the URL in an onclick window.open(…)."""
    element = _element(anchor)
    href = (element.get("href") or "").strip()
    if href and not href.lower().startswith(("javascript:", "#", "mailto:", "tel:")):
        return absolute_url(base_url, href)
    for attribute in ("onclick", "href"):
        match = _WINDOW_OPEN.search(element.get(attribute) or "")
        if match:
            return absolute_url(base_url, match.group(1))
    return None


def anchor_title(anchor: Node) -> str:
    text = " ".join(t.strip() for t in node_text(anchor) if t.strip())
    title = (_element(anchor).get("title") or "").strip()
    return title if len(title) >= len(text) else text


def nearby_date(anchor: Node, dates: dict[HtmlElement, str | None] | None = None) -> str | None:
    """The date printed beside a link: in its own text, else in its row or list item.

    `dates`: the dates already read per element of the same page; links of one row or one
    pager share their ancestors, so reading each ancestor once keeps a page linear in its links.
    """
    element = _element(anchor)
    dates = {} if dates is None else dates
    found = _date_in(element, dates)
    if found:
        return found
    # the nearest row ancestor, walked in Python: an XPath per link was most of this function's cost
    row = next(element.iterancestors(*ROW_TAGS), None)
    found = _date_in(row, dates) if row is not None else None
    if found:
        return found
    parent = element.getparent()
    return _date_in(parent, dates) if parent is not None else None


def _date_in(node: HtmlElement, dates: dict[HtmlElement, str | None]) -> str | None:
    # lxml hands out one proxy per node while a reference to it lives (here: the dict key)
    if node not in dates:
        found = parse_date(" ".join(node_text(node)))
        dates[node] = found.isoformat() if found else None
    return dates[node]


@lru_cache(maxsize=16384)
def page_template(url: str) -> str | None:
    """The URL with its page number replaced by {n}: index_3.html, 3.html, ?page=3 → one template.

    Two list pages of one column share a template; a first page `index.html` is treated as
    `index_{n}.html`.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    for position, (name, value) in enumerate(query):
        if _PAGE_PARAM.match(name) and value.isdigit() and len(value) <= 4:
            query[position] = (name, "{n}")
            return urlunsplit(parts._replace(query=urlencode(query, safe="{}")))
    head, _, leaf = parts.path.rpartition("/")
    match = _NUMBERED_LEAF.fullmatch(leaf)
    if match and match.group("n") or match and match.group("stem") in ("index", "default", "list"):
        leaf = f"{match.group('stem')}_{{n}}{match.group('ext')}"
    elif _NUMBER_LEAF.fullmatch(leaf):
        leaf = re.sub(r"^\d+", "{n}", leaf)
    else:
        return None
    return urlunsplit(parts._replace(path=f"{head}/{leaf}"))


def pager_links(selector: Selector, base_url: str, links: list[Link] | None = None) -> list[str]:
    """Links to other pages of the same list: 下一页/尾页 and numbered links of the same template.

    `links`: the page's `page_links`, when the caller has them already.
    """
    template = page_template(base_url)
    folder = _folder(template) if template else ""
    found = []
    for link in page_links(selector, base_url) if links is None else links:
        if link.url == base_url:
            continue
        text = link.title.strip().lower()
        if text in NEXT_TEXTS or text in LAST_TEXTS or (
                template and _folder(link.url) == folder and page_template(link.url) == template):
            found.append(link.url)
    return found


def _folder(url: str) -> str:
    """A URL up to the last / of its path, case-folded: two URLs of one page template share it.

    A cheap test before `page_template`, which parses the URL: most links of a list page are
    documents in other folders, and each is a new URL the template cache has never seen.
    """
    path = url.split("?", 1)[0].split("#", 1)[0]
    return path[:path.rfind("/") + 1].lower()
