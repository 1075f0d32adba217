"""Other documents that hold a column's rows: the <iframe> a column page is a shell for, the
per-year sub-columns of an annual-report index (`2019年度` … `2024年度`), and the external
script that carries the list as a JS literal."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from crawler.discovery.model import Follow
from crawler.discovery.records import PageLink, page_links
from crawler.sniff import DOCUMENT_EXT, IMAGE_EXT, extension

_YEAR_COLUMN = re.compile(r"\s*[\[【(（]?\s*(?:19|20)\d{2}\s*(?:年|年度)?\s*[\]】)）]?\s*")
_VIEWER = re.compile(r"viewer\.html?|pdfjs|pdf\.js", re.IGNORECASE)
# scripts every portal loads that never carry a list: left alone
_LIBRARY = re.compile(r"jquery|bootstrap|vue|react|layui|layer|swiper|echarts|common|public|base|util|polyfill|"
                      r"analytics|stat|tongji|baidu|cnzz|wza|aria|barrier|share|nav|menu|search|slide|font",
                      re.IGNORECASE)
_DATA_SCRIPT = re.compile(r"list|data|json|column|lanmu|items|docs|info|xxgk|nb", re.IGNORECASE)


def frame_follows(root: HtmlElement, page_url: str) -> list[Follow]:
    """The documents of the page's <iframe>/<frame> elements, when they are pages of the same site."""
    follows = []
    for frame in root.iter("iframe", "frame"):
        src = (frame.get("src") or "").strip()
        if not src or src.lower().startswith(("javascript:", "about:", "data:")):
            continue
        url = urljoin(page_url, src)
        if _same_site(url, page_url) and not _VIEWER.search(urlsplit(url).path) and not _is_file(url):
            follows.append(Follow(url, "frame"))
    return follows


def year_column_follows(root: HtmlElement, page_url: str, links: list[PageLink] | None = None) -> list[Follow]:
    """Links to one sub-column per year, titled by the year alone (`2019年度`, `【2020年】`)."""
    follows = []
    for link in page_links(root, page_url) if links is None else links:
        if not _YEAR_COLUMN.fullmatch(link.title or ""):
            continue
        url = link.url
        if url and url != page_url and _same_site(url, page_url) and not _is_file(url):
            follows.append(Follow(url, "column"))
    return follows


def script_follows(root: HtmlElement, page_url: str) -> list[Follow]:
    """External scripts of the same site whose name says they carry data (`list.js`, `data_123.js`)."""
    follows = []
    for script in root.iter("script"):
        src = (script.get("src") or "").strip()
        if not src:
            continue
        url = urljoin(page_url, src)
        leaf = urlsplit(url).path.rsplit("/", 1)[-1]
        if _same_site(url, page_url) and _DATA_SCRIPT.search(leaf) and not _LIBRARY.search(leaf):
            follows.append(Follow(url, "script"))
    return follows


def _same_site(url: str, page_url: str) -> bool:
    return urlsplit(url).netloc == urlsplit(page_url).netloc and urlsplit(url).scheme in ("http", "https")


def _is_file(url: str) -> bool:
    return extension(url) in DOCUMENT_EXT or extension(url) in IMAGE_EXT
