"""What the crawl index knows of a URL, as the spider needs it to decide whether to ask again.

`KnownUrls` asks the index only about URLs it holds a row of: the set of those is read once, when
the crawl starts, and grows with every row this crawl writes (the raw-store pipeline adds each URL
it records), so a URL the index has never seen — every link of a first crawl — costs no query.
A row another process writes for a URL during this crawl is not seen until the next crawl: that URL
is fetched again, unconditionally, and its version recorded `unchanged` (or `new`, when its bytes differ:
the raw-store pipeline asks the index for an earlier version only of a URL it holds a row of)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crawler.index import DocumentIndex, DocumentVersion
from crawler.items import Failed


@dataclass(frozen=True)
class KnownUrl:
    document: DocumentVersion | None     # its newest document version
    page: dict[str, Any] | None          # its article-page row (with the attachments it linked to)
    held: dict[str, Any] | None          # its quarantine row: bytes that were not a document

    @classmethod
    def look_up(cls, index: DocumentIndex, url: str) -> KnownUrl:
        return cls(*index.known(url))

    def _rows(self) -> list[dict[str, Any]]:
        """Document first: its validators win over the page's and the quarantine's."""
        return [row for row in (vars(self.document) if self.document else None, self.page, self.held) if row]

    def checked_within(self, interval: timedelta) -> bool:
        checked = max((row["last_checked_at"] for row in self._rows()), default=None)
        return checked is not None and datetime.now(UTC) - datetime.fromisoformat(checked) < interval

    @property
    def unfinished_article(self) -> bool:
        """An article kept as a document but killed before its page row was written: due again."""
        return self.document is not None and self.document.real_kind == "html" and not self.page

    def validators(self) -> dict[str, str]:
        """The conditional-request headers: If-None-Match and If-Modified-Since, when known."""
        rows = self._rows()
        headers = {"If-None-Match": next((row["etag"] for row in rows if row["etag"]), None),
                   "If-Modified-Since": next((row["last_modified"] for row in rows if row["last_modified"]), None)}
        return {name: value for name, value in headers.items() if value}

    def still_held(self, source_id: str, url: str, why: str) -> list[Failed]:
        """The quarantined URL's failure again, for this run (nothing when it is not quarantined)."""
        held = self.held
        return [Failed(source_id, url, held["kind"], f"{why}: {held['detail']}", held["sha256"])] if held else []


UNKNOWN = KnownUrl(None, None, None)


class KnownUrls:
    """The spider's view of the crawl index: `look_up(url)` as `KnownUrl.look_up`, with no query for
    a URL the index holds no row of."""

    def __init__(self, index: DocumentIndex) -> None:
        self.index = index
        self.urls = index.urls()

    def add(self, url: str) -> None:
        """The index now holds a row of `url` (called once the row is committed)."""
        self.urls.add(url)

    def look_up(self, url: str) -> KnownUrl:
        return KnownUrl.look_up(self.index, url) if url in self.urls else UNKNOWN
