"""What the spider yields: typed items, stored by `crawler.pipelines` and counted by `crawler.extensions`.

The spider decides what a response is; it never writes. Each item says what is to be kept:

- `Document`: bytes that passed the checks, with what the listing said about them; a report
  paginated over several HTML pages is one `Document` whose `parts` are its pages in order;
- `ArticlePage`: an article page read, with the attachments it links to;
- `NotModified`: a conditional request answered 304 (what is known of the URL is still current);
- `Failed`: something went wrong at a URL, with its cause; `Quarantined` is a failure whose
  bytes are kept (a challenge page, an HTML page where a file was promised, …);
- `Candidate`: in a probe, a report a crawl would collect;
- `ListPageProbe`: in a probe, what one list page gave (items, pagers, follow-ups, a verdict).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scrapy.http import Response

from crawler.responses import asked_url, header
from report.document import Part


@dataclass
class Listed:
    """What the list page said about a report: its title, year, date and version (全文版/图片版)."""

    title: str | None = None
    year: int | None = None
    listed: str | None = None
    version: str | None = None
    filename: str | None = None      # an attachment's link text, when it came from an article page
    child_kind: str | None = None    # file | image | page: what the article page linked to


@dataclass(frozen=True)
class PagePart:
    """One page of a multipart document, as read: where, and its bytes, or (answered 304) the page
    the crawl index holds, whose bytes are in the raw store already."""

    url: str
    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    known: Part | None = None

    @property
    def size(self) -> int:
        return len(self.body) if self.body is not None else (self.known.size or 0) if self.known else 0


@dataclass
class Document:
    source_id: str
    agency: str
    url: str                          # as the listing or article gave it, before any redirect
    body: bytes
    real_kind: str
    listed: Listed
    content_type: str | None = None
    filename: str | None = None       # from Content-Disposition
    etag: str | None = None
    last_modified: str | None = None
    referer: str | None = None        # the article page that linked to it
    parts: list[PagePart] = field(default_factory=list)   # a multipart document's pages (body is b"")

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts) if self.parts else len(self.body)

    @property
    def transferred(self) -> int:
        """The bytes downloaded for it (a multipart document's pages that answered 304: none)."""
        return sum(len(part.body or b"") for part in self.parts) if self.parts else len(self.body)


@dataclass
class ArticlePage:
    source_id: str
    url: str
    children: list[dict[str, Any]]    # {"url", "title", "kind"} of every attachment followed
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class NotModified:
    url: str
    document: bool = False            # which of the index's rows for the URL to mark as checked now
    page: bool = False
    quarantined: bool = False


@dataclass
class Failed:
    source_id: str | None
    url: str
    kind: str                         # timeout, http_404, challenge, unparsable, no_document, …
    detail: str
    sha256: str | None = None         # the bytes kept for it, when there are any
    list_page: bool = False           # a list page failed: the source's listing may be broken
    year: int | None = None           # the listing's year, when a listed document failed


@dataclass
class Quarantined(Failed):
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def of(cls, source_id: str, response: Response, kind: str, detail: str, url: str | None = None) -> Quarantined:
        """The response's bytes and validators, kept for `url` (default: the URL the response was asked for)."""
        return cls(source_id, url or asked_url(response), kind, detail, body=response.body,
                   etag=header(response, b"ETag"), last_modified=header(response, b"Last-Modified"))


@dataclass
class Candidate:
    source_id: str
    url: str
    known: bool                       # the crawl index has it already
    title: str | None = None
    year: int | None = None
    listed: str | None = None
    version: str | None = None


@dataclass
class ListPageProbe:
    """In a probe, what one list page gave: enough to fix the source's registry entry in one look."""

    source_id: str
    url: str
    via: str                          # start, page, frame, column, data, script: how it was reached
    rendered: bool                    # loaded in the browser (render: true)
    items: int                        # titled links and records read
    rows: int                         # of them, with a listing date
    reports: int                      # report titles first seen here: documents a crawl would fetch
    pagers: list[str]                 # the pager kinds recognised
    follows: dict[str, int]           # further list requests by kind (page, frame, column, data, script)
    scripts: int                      # <script> elements of the page
    needs_browser: bool               # scripts, but nothing discovery can read: render: true may help
    verdict: str
