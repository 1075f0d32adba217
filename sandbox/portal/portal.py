"""The portal's state: sites with their documents, faults, the request log, and mutations."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from sandbox.corpus import CorpusEntry, load_corpus
from sandbox.portal.config import PortalConfig
from sandbox.portal.documents import Document, Item, filler_documents
from sandbox.portal.families import family
from sandbox.portal.families.jcms import DATAPROXY
from sandbox.portal.faults import FaultSet
from sandbox.portal.site import Response, Site

HOST_SUFFIX = ".sandbox.test"


class LoggedRequest(NamedTuple):
    method: str
    path: str       # as requested, query included
    status: int     # 0: no answer at all (timeout fault)
    bytes: int      # body bytes actually sent
    body: str = ""  # the request's own body (a POST's form) as Latin-1 text, so that a run can be replayed


class Portal:
    """Everything the HTTP layer asks: which site, which answer; and the mutations between crawls."""

    def __init__(self, config: PortalConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.faults = FaultSet(config.faults)
        self.sites: dict[str, Site] = {spec.slug: Site(spec, family(spec.family)) for spec in config.site_specs()}
        self.held_back: dict[str, Document] = {}
        self._log: list[list[LoggedRequest]] = []   # one slot per request, in arrival order
        for document in self._documents():
            if document.name in config.hold_back:
                self.held_back[document.name] = document
            elif document.site in self.sites:
                self.sites[document.site].add(document)
        if config.fillers:
            for site in self.sites.values():
                for filler in filler_documents(site.slug, site.spec.name, config.fillers):
                    site.add(filler)

    def _documents(self) -> list[Document]:
        given = self.config.documents
        entries = given if given is not None else load_corpus(self.config.corpus_root)
        return [item if isinstance(item, Document) else Document.from_entry(item) for item in entries]

    # ------------------------------------------------------------ request log
    def arrived(self) -> list[LoggedRequest]:
        """A place in the log, in the order requests arrive, that `log` fills once it is answered (a
        client may send its next request before the thread that answered the last one logs it)."""
        slot: list[LoggedRequest] = []
        with self.lock:
            self._log.append(slot)
        return slot

    def log(self, slot: list[LoggedRequest], method: str, path: str, status: int, sent: int, body: str = "") -> None:
        with self.lock:
            slot.append(LoggedRequest(method, path, status, sent, body))

    @property
    def requests(self) -> list[LoggedRequest]:
        """The requests answered, in the order they arrived."""
        with self.lock:
            return [slot[0] for slot in self._log if slot]

    def clear_requests(self) -> None:
        with self.lock:
            self._log.clear()

    # ------------------------------------------------------------ answering
    def locate(self, host: str, path: str) -> tuple[Site | None, str]:
        """The site a request is for (by Host header or path prefix), and its prefixed path."""
        name = host.split(":", 1)[0].lower()
        if name.endswith(HOST_SUFFIX):
            slug = name[: -len(HOST_SUFFIX)]
            site = self.sites.get(slug)
            if site is not None and not (path == site.prefix or path.startswith(site.prefix + "/")):
                path = site.prefix + path
            return site, path
        slug = path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
        return self.sites.get(slug), path

    def answer(self, method: str, site: Site | None, path: str, body: bytes) -> Response:
        with self.lock:
            if site is None:
                return self.root_answer(method, path, body)
            if path.split("?", 1)[0] == site.prefix + "/robots.txt":
                return Response(200, self.robots([site]).encode(), "text/plain; charset=utf-8", modified=site.changed)
            if path == site.prefix:
                return Response.redirect(site.prefix + "/", 301)
            if path == site.prefix + "/":
                return Response.html(self.home(site), site.last_modified())
            return site.answer(method, path, body)

    def shared_endpoint(self, method: str, path: str, body: bytes) -> Response | None:
        """jcms dataproxy.jsp and the gkmlpt API at the host root, as on a real site group: the column decides."""
        bare = path.split("?", 1)[0]
        gkmlpt = re.fullmatch(r"/gkmlpt/api/all/(\d+)", bare)
        for site in self.sites.values():
            if gkmlpt and site.spec.family == "gkmlpt" and str(site.spec.column_id) == gkmlpt.group(1):
                return site.family.answer(site, method, site.prefix + path, body)
            if bare == DATAPROXY and site.spec.family == "jcms":
                fields = parse_qs(urlsplit(path).query) | parse_qs(body.decode("utf-8", "replace"))
                if fields.get("columnid", [""])[0] == site.family.column_id(site):  # type: ignore[attr-defined]
                    return site.family.answer(site, method, site.prefix + path, body)
        return None

    def root_answer(self, method: str, path: str, body: bytes) -> Response:
        bare = path.split("?", 1)[0]
        if bare == "/robots.txt":
            changed = max(site.changed for site in self.sites.values()) if self.sites else None
            return Response(200, self.robots(list(self.sites.values())).encode(), "text/plain; charset=utf-8",
                            modified=changed)
        shared = self.shared_endpoint(method, path, body)
        if shared is not None:
            return shared
        if bare == "/":
            links = "".join(f'<li><a href="{site.list_url}">{site.spec.name}</a> ({site.spec.family})</li>'
                            for site in self.sites.values())
            return Response.html(f"<html><head><meta charset=\"utf-8\"><title>sandbox portal</title></head>"
                                 f"<body><h1>sandbox portal</h1><ul>{links}</ul></body></html>")
        return Response.not_found()

    @staticmethod
    def robots(sites: list[Site]) -> str:
        lines = ["User-agent: *"]
        for site in sites:
            lines += [f"Disallow: {site.prefix}/admin/", f"Disallow: {site.prefix}/search/"]
        return "\n".join(lines) + "\n"

    @staticmethod
    def home(site: Site) -> str:
        return (f"<html><head><meta charset=\"utf-8\"><title>{site.spec.name}</title></head><body>"
                f"<h1>{site.spec.name}</h1><a href=\"{site.list_url}\">政府信息公开年报</a></body></html>")

    # ------------------------------------------------------------ mutations
    def publish(self, slug: str, document: str | Document | CorpusEntry) -> Item:
        """Put a document on a site now; it is listed by its publication date, Last-Modified is now."""
        with self.lock:
            site = self._site(slug)
            if isinstance(document, str):
                document = self.named_document(document)
            elif isinstance(document, CorpusEntry):
                document = Document.from_entry(document)
            now = datetime.now(UTC).replace(microsecond=0)
            item = site.add(document, modified=max(now, site.last_modified() + timedelta(seconds=1)))
            self.held_back.pop(document.name or "", None)
            return item

    def named_document(self, name: str) -> Document:
        if name in self.held_back:
            return self.held_back[name]
        for entry in load_corpus(self.config.corpus_root):
            if entry.name == name:
                return Document.from_entry(entry)
        raise KeyError(f"no held-back or corpus document named {name!r}")

    def replace(self, target: str, new_bytes: bytes) -> Item:
        """Serve new bytes at the same URL (更正版): new ETag, later Last-Modified."""
        with self.lock:
            site, item = self.find(target)
            if item.document.is_flipbook:
                raise ValueError(f"{target}: a flipbook has many pages; replace is for single files")
            item.replacement = bytes(new_bytes)
            now = datetime.now(UTC).replace(microsecond=0)
            item.modified = max(now, item.modified + timedelta(seconds=1))
            site.changed = max(site.changed, item.modified)
            return item

    def find(self, target: str) -> tuple[Site, Item]:
        """An item by document name, or by its article or attachment URL (absolute or a path)."""
        path = target
        if "://" in target:
            parts = urlsplit(target)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        for site in self.sites.values():
            item = site.url_of(path)
            if item is None:
                item = next((i for i in site.items if i.document.name == target), None)
            if item is not None:
                return site, item
        raise KeyError(f"no document named or served at {target!r}")

    def move_column(self, slug: str, new_list_path: str, redirect: bool = False) -> str:
        """Move a site's report column; the old list URL then 404s (or 301s to the new one)."""
        with self.lock:
            site = self._site(slug)
            old = site.spec.list_path
            if not new_list_path.startswith("/") or new_list_path == old:
                raise ValueError(f"new list path must start with '/' and differ from {old!r}")
            site.spec.list_path = new_list_path
            site.moved_from[site.prefix + old] = new_list_path if redirect else ""
            site.moved_from[site.prefix + old.split("?", 1)[0]] = new_list_path if redirect else ""
            site.touch()
            return site.list_url

    def _site(self, slug: str) -> Site:
        if slug not in self.sites:
            raise KeyError(f"no site {slug!r}; sites: {', '.join(self.sites)}")
        return self.sites[slug]

    def summary(self) -> dict:
        with self.lock:
            return {"sites": [{"slug": site.slug, "name": site.spec.name, "family": site.spec.family,
                               "list_url": site.list_url, "items": [i.summary() for i in site.listed()]}
                              for site in self.sites.values()],
                    "held_back": sorted(self.held_back),
                    "faults": [fault.to_dict() for fault in self.faults.all()]}

