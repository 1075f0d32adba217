"""From an article page to the documents it carries: attachment links, iframes and embeds,
pdf.js viewers (`viewer.html?file=`), `downfile.jsp` downloads and `onclick="window.open(…)"`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml import etree
from parsel import Selector, css2xpath

from crawler.discovery.documents import script_documents
from crawler.families.base import anchor_title, link_target
from crawler.sniff import DOCUMENT_EXT, IMAGE_EXT, extension
from report.titles import INTERPRETATION, normalise_title

_DOWNLOAD_PATH = re.compile(r"downfile\.jsp|download\.jsp|filedownload|/download/|getfile|attachment", re.I)
_VIEWER = re.compile(r"viewer\.html?|pdfjs|pdf\.js", re.I)
_BOOK_PAGE = re.compile(r"^第\s*\d+\s*页$")
_FILE_EXT = DOCUMENT_EXT | IMAGE_EXT
_LINKS = etree.XPath(css2xpath("a, area, button, span[onclick], div[onclick]"))
_FRAMES = etree.XPath(css2xpath("iframe[src], embed[src], object[data], frame[src]"))


@dataclass(frozen=True)
class Attachment:
    url: str
    title: str
    kind: str = "file"      # file | page (one page of a report shown as an HTML flipbook)


def attachments(html: Selector, base_url: str) -> list[Attachment]:
    """Document links in an article page, in page order, without duplicates."""
    found: dict[str, Attachment] = {}
    for anchor in _LINKS(html.root):
        attachment = _linked(anchor, base_url)
        if attachment and not _interprets(attachment.title):
            found.setdefault(attachment.url, attachment)
    for frame in _FRAMES(html.root):
        src = frame.get("src") or frame.get("data") or ""
        document = document_url(urljoin(base_url, src.strip()))
        if document:
            found.setdefault(document, Attachment(document, frame.get("title") or ""))
    for record in script_documents(html.root, base_url, document_url):   # onclick="downloadFile('1')", viewers
        if not _interprets(record.title):
            found.setdefault(record.url, Attachment(record.url, record.title))
    return list(found.values())


def _linked(anchor: etree._Element, base_url: str) -> Attachment | None:
    """The document or flipbook page a link leads to (its title read only then: most links of an
    article page lead elsewhere)."""
    url = link_target(anchor, base_url)
    if not url:
        return None
    document = document_url(url)
    if document:
        return Attachment(document, anchor_title(anchor))
    if url.split("?")[0].endswith((".html", ".htm", ".shtml")):
        title = anchor_title(anchor).strip()
        if _BOOK_PAGE.match(title):
            return Attachment(url, title, "page")
    return None


def _interprets(title: str) -> bool:
    """A link to an interpretation of the report (图解, 解读 …), not to the report."""
    return bool(INTERPRETATION.search(normalise_title(title)))


def page_images(html: Selector, base_url: str) -> list[Attachment]:
    """The images in a page's body, for a report published as pictures (（图片版）)."""
    found: dict[str, Attachment] = {}
    for number, image in enumerate(html.xpath("//body//img[@src]"), start=1):
        url = urljoin(base_url, image.attrib["src"].strip())
        if urlsplit(url).scheme in ("http", "https"):
            found.setdefault(url, Attachment(url, image.attrib.get("alt") or f"第{number}张", "image"))
    return list(found.values())


@lru_cache(maxsize=8192)   # an article's menus and footer link the same URLs as every other article of its site
def document_url(url: str) -> str | None:
    """The document behind a link: a file by extension, a download script, or a pdf.js viewer's file."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    if _VIEWER.search(parts.path):
        target = parse_qs(parts.query).get("file")
        return urljoin(url, unquote(target[0])) if target else None
    if extension(url) in _FILE_EXT:
        return url
    if _DOWNLOAD_PATH.search(parts.path):
        return url
    return None


def body_text(html: Selector) -> str:
    """The page's visible text (scripts and styles left out)."""
    texts = html.root.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]", smart_strings=False)
    return " ".join(filter(None, (t.strip() for t in texts)))
