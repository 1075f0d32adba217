"""What the crawl index knows of a URL, as the spider needs it to decide whether to ask again."""

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
        return cls(index.latest(url), index.page(url), index.quarantined(url))

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
