"""The document contract (crawler → extract → warehouse): one (url, sha256), the exact bytes a URL
served at some point, and what the listing said about it. One type, one set of names: the crawl
index stores it, the process stage hands it on, the warehouse records it.

A report paginated over several pages (a flipbook, an article with 下一页 / index_2.html) is one
multipart document: `parts` are its pages in reading order, each kept whole in the raw store
under its own sha256, and the document's sha256 is `parts_digest` over them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Part:
    """One page of a multipart document: where it was read, the sha256 of its bytes (the raw store's
    key) and its HTTP validators, so that a re-check asks for each page conditionally."""

    url: str
    sha256: str
    size: int | None = None
    etag: str | None = None
    last_modified: str | None = None


def parts_digest(parts: Sequence[Part]) -> str:
    """The one sha256 of a multipart document: over its parts' sha256s in reading order, so that a
    changed, added, removed or reordered page is a new version and a re-crawl of the same pages is not."""
    return hashlib.sha256("\n".join(part.sha256 for part in parts).encode()).hexdigest()


def parts_to_json(parts: Sequence[Part]) -> str | None:
    """How the crawl index and the warehouse keep `parts` (None for a single-file document)."""
    return json.dumps([asdict(part) for part in parts], ensure_ascii=False) if parts else None


def parts_from_json(text: str | None) -> tuple[Part, ...]:
    return tuple(Part(**part) for part in json.loads(text)) if text else ()


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
    parts: tuple[Part, ...] = ()      # a multipart document's pages, in reading order (none: one file)

    @property
    def raw_keys(self) -> tuple[str, ...]:
        """The sha256s under which the raw store keeps its bytes: its parts', or its own."""
        return tuple(part.sha256 for part in self.parts) or (self.sha256,)

    @property
    def key(self) -> str:
        """A file-name-safe identity of (url, sha256)."""
        return hashlib.sha256(f"{self.url}\n{self.sha256}".encode()).hexdigest()[:32]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)   # parts as a list of {"url", "sha256"}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DocumentVersion:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"not fields of a document version: {', '.join(sorted(unknown))}")
        parts = values.get("parts")
        if isinstance(parts, str) or parts is None:
            values = {**values, "parts": parts_from_json(parts)}
        else:
            values = {**values, "parts": tuple(p if isinstance(p, Part) else Part(**p) for p in parts)}
        return cls(**values)


DOCUMENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DocumentVersion))
