"""One site of the portal: its items, its routes, and the answers it gives."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sandbox.portal.documents import Document, Item, publication_time, stable_id

if TYPE_CHECKING:
    from sandbox.portal.config import SiteSpec
    from sandbox.portal.families import Family


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    modified: datetime | None = None   # Last-Modified; with it, also an ETag and 304s

    @classmethod
    def html(cls, text: str, modified: datetime | None = None, status: int = 200) -> Response:
        return cls(status, text.encode("utf-8"), "text/html; charset=utf-8", modified=modified)

    @classmethod
    def not_found(cls) -> Response:
        return cls.html("<html><body><h1>404 Not Found</h1><p>您访问的页面不存在。</p></body></html>", status=404)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(status, b"", "text/html; charset=utf-8", {"Location": location})


@dataclass
class Route:
    item: Item
    role: str                  # article | attachment | page
    page_file: Path | None = None


class Site:
    """A site: spec + family + the items on its report column."""

    def __init__(self, spec: SiteSpec, family: Family) -> None:
        self.spec = spec
        self.family = family
        self.items: list[Item] = []
        self.routes: dict[str, Route] = {}
        self.moved_from: dict[str, str] = {}      # old list path → new list path (or "" for 404)
        self.changed = datetime(2020, 1, 1, tzinfo=UTC)

    @property
    def slug(self) -> str:
        return self.spec.slug

    @property
    def prefix(self) -> str:
        return f"/{self.spec.slug}"

    @property
    def list_url(self) -> str:
        return self.prefix + self.spec.list_path

    def add(self, document: Document, modified: datetime | None = None) -> Item:
        taken = {item.id for item in self.items}
        item = Item(document, stable_id(document.label, taken), modified or publication_time(document.published_date()))
        self.family.place(self, item)
        self.items.append(item)
        self.route(item.article_url, Route(item, "article"))
        if item.attachment_url:
            self.route(item.attachment_url, Route(item, "attachment"))
        for url, page in item.page_urls.items():
            self.route(url, Route(item, "page", page))
        self.changed = max(self.changed, item.modified)
        return item

    def route(self, url: str, route: Route) -> None:
        if url in self.routes:
            raise ValueError(f"site {self.slug}: two documents at {url}")
        self.routes[url] = route

    def listed(self) -> list[Item]:
        """Newest first, as every CMS lists them."""
        return sorted(self.items, key=lambda item: (item.published, item.id), reverse=True)

    def pages(self) -> list[list[Item]]:
        listed = self.listed()
        size = self.spec.page_size
        return [listed[start:start + size] for start in range(0, len(listed), size)] or [[]]

    def last_modified(self) -> datetime:
        return max([self.changed, *(item.modified for item in self.items)])

    def touch(self) -> None:
        self.changed = datetime.now(UTC).replace(microsecond=0)

    # ------------------------------------------------------------ answering
    def answer(self, method: str, path: str, body: bytes) -> Response:
        """The answer to a request whose path is inside this site (prefix included)."""
        route = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
        if route is not None and method in ("GET", "HEAD"):
            return self.serve(route)
        if path.split("?", 1)[0] in (f"{self.prefix}/admin/", f"{self.prefix}/search/"):
            return Response.html(_off_limits_page(self), self.changed)
        for old in (path, path.split("?", 1)[0]):   # a moved column's old URL, even where the family would answer
            if old in self.moved_from:
                new = self.moved_from[old]
                return Response.redirect(self.prefix + new, 301) if new else Response.not_found()
        response = self.family.answer(self, method, path, body)
        return response if response is not None else Response.not_found()

    def serve(self, route: Route) -> Response:
        item = route.item
        page = route.page_file if route.role == "page" else item.article_file if route.role == "article" else None
        if page is not None:
            body = page.read_bytes()
            return Response(200, body, html_type(body, self), modified=item.modified)
        if route.role == "article" and not item.document.is_html:
            return Response.html(self.family.article_page(self, item), item.modified)
        body = item.body()
        status = item.document.status
        if item.document.is_html:
            return Response(status, body, html_type(body, self), modified=item.modified)
        headers = self.family.attachment_headers(self, item)
        return Response(status, body, item.document.media_type, headers, modified=item.modified)

    def url_of(self, target: str) -> Item | None:
        route = self.routes.get(target) or self.routes.get(target.split("?", 1)[0])
        return route.item if route else None


def html_type(body: bytes, site: Site) -> str:
    """UTF-8 pages say so; GBK pages declare gb2312 or, on some sites, nothing at all."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return f"text/html; charset={site.spec.legacy_charset}" if site.spec.legacy_charset else "text/html"
    return "text/html; charset=utf-8"


def content_disposition(filename: str) -> str:
    """RFC 6266/5987: an ASCII fallback plus the UTF-8 name."""
    suffix = Path(filename).suffix
    fallback = filename.encode("ascii", "ignore").decode().strip() or f"download{suffix}"
    if fallback == suffix:
        fallback = f"download{suffix}"
    fallback = fallback.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _off_limits_page(site: Site) -> str:
    return (f"<html><head><meta charset=\"utf-8\"><title>{html.escape(site.spec.name)} 后台</title></head>"
            "<body><p>此区域禁止抓取（robots.txt）。</p></body></html>")
