"""The document contract (crawler → extract → warehouse): one (url, sha256), the exact bytes a URL
served at some point, and what the listing said about it. One type, one set of names: the crawl
index stores it, the process stage hands it on, the warehouse records it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class DocumentVersion:
    source_id: str
    agency: str                       # the agency as the registry names it
    url: str
    sha256: str
    listing_title: str | None = None  # the title and year as the listing shows them
    year: int | None = None
    listing_date: str | None = None   # ISO date the listing gives
    content_type: str | None = None   # as the server said
    real_kind: str | None = None      # as the bytes say (pdf, docx, html, …)
    filename: str | None = None
    size: int | None = None
    etag: str | None = None           # HTTP validators, for conditional re-checks
    last_modified: str | None = None
    referer: str | None = None
    storage_key: str | None = None    # where the raw store keeps the bytes
    first_seen_at: str | None = None
    last_checked_at: str | None = None
    run_id: str | None = None         # the crawl run that first saw it
    id: int | None = None             # the crawl index's row id (for incremental reads)

    @property
    def key(self) -> str:
        """A file-name-safe identity of (url, sha256)."""
        return hashlib.sha256(f"{self.url}\n{self.sha256}".encode()).hexdigest()[:32]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DocumentVersion:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"not fields of a document version: {', '.join(sorted(unknown))}")
        return cls(**values)


DOCUMENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DocumentVersion))
