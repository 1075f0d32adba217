"""What a portal site lists: documents (from the corpus or made by a test) placed as items.

A `Document` is the thing published; an `Item` is that document placed on one site,
with an id, dates and the URLs its CMS family gave it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sandbox.corpus import CorpusEntry

EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "text/html": ".html",
    "application/zip": ".zip",
}
CHINA = timedelta(hours=8)


@dataclass
class Document:
    """A document to publish: a corpus entry's file, or bytes a test made itself."""

    title: str
    content: bytes | Path                # bytes, a file, or a directory of pages (flipbook)
    site: str | None = None
    name: str | None = None              # the corpus name, or any unique label
    form: str = "word-pdf"
    kind: str = "report"                 # report | not-report | broken | filler
    media_type: str = "application/pdf"
    published: str = "2025-01-15"        # ISO date
    filename: str | None = None          # the attachment's published name; default: title + extension
    year: int | None = None

    status: int = 200                    # a corpus entry may ask for another status (hostile pages)

    @classmethod
    def from_entry(cls, entry: CorpusEntry) -> Document:
        truth = entry.truth
        extra = truth.model_extra or {}
        year = truth.year or _year_in(truth.name)
        return cls(
            title=truth.title or f"{truth.agency or ''}{year}年政府信息公开工作年度报告",
            content=entry.path,
            site=truth.site,
            name=truth.name,
            form=truth.form,
            kind=truth.kind,
            media_type=truth.media_type,
            published=truth.published or f"{year + 1}-02-{10 + len(truth.name) % 15:02d}",
            year=truth.year,
            status=int(extra.get("status") or 200),
        )

    @property
    def label(self) -> str:
        return self.name or self.title

    @property
    def is_flipbook(self) -> bool:
        return isinstance(self.content, Path) and self.content.is_dir()

    @property
    def is_html(self) -> bool:
        """An HTML document is its own article page; anything else is an attachment."""
        return self.media_type.split(";")[0].strip() == "text/html" and not self.is_flipbook

    @property
    def extension(self) -> str:
        if isinstance(self.content, Path) and self.content.suffix:
            return self.content.suffix.lower()
        base = self.media_type.split(";")[0].strip()
        return EXTENSIONS.get(base) or mimetypes.guess_extension(base) or ".bin"

    @property
    def published_name(self) -> str:
        return self.filename or f"{self.title}{self.extension}"

    def published_date(self) -> date:
        try:
            return date.fromisoformat(self.published[:10])
        except ValueError:
            return date(2025, 1, 15)


def _year_in(name: str) -> int:
    """Hostile corpus entries carry no year; their names do (huaian-2024-xxe)."""
    match = re.search(r"-(20\d\d)-", name)
    return int(match.group(1)) if match else 2024


@dataclass
class Item:
    """A document placed on a site."""

    document: Document
    id: int
    modified: datetime
    article_url: str = ""                # site-prefixed path, the page the list links to
    attachment_url: str | None = None    # the file itself, when it is not the article
    page_urls: dict[str, Path] = field(default_factory=dict)   # flipbook page URL → file
    article_file: Path | None = None     # a flipbook's own index.html, served as its article
    replacement: bytes | None = None     # set by PortalServer.replace (更正版)

    @property
    def title(self) -> str:
        return self.document.title

    @property
    def published(self) -> date:
        return self.document.published_date()

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.document.label.encode()).hexdigest()

    def body(self) -> bytes:
        if self.replacement is not None:
            return self.replacement
        content = self.document.content
        return content if isinstance(content, bytes) else content.read_bytes()

    def summary(self) -> dict:
        return {
            "name": self.document.name, "title": self.title, "kind": self.document.kind,
            "form": self.document.form, "published": self.published.isoformat(),
            "article_url": self.article_url, "attachment_url": self.attachment_url,
            "page_urls": sorted(self.page_urls), "replaced": self.replacement is not None,
        }


def stable_id(label: str, taken: set[int], low: int = 100_000, span: int = 900_000) -> int:
    """An id derived from the document's name, so URLs survive restarts and corpus growth."""
    candidate = low + int.from_bytes(hashlib.sha256(label.encode()).digest()[:6], "big") % span
    while candidate in taken:
        candidate = low + (candidate - low + 1) % span
    return candidate


def publication_time(day: date) -> datetime:
    """Half past nine, Beijing time, on the publication day (as UTC)."""
    return datetime.combine(day, time(9, 30), tzinfo=UTC) - CHINA


_FILLER_TITLES = (
    ("关于印发{year}年政务公开工作要点的通知", 0),
    ("{agency}{year}年法治政府建设年度报告", 1),
    ("{agency}{year}年部门预算公开说明", 0),
    ("政府信息公开指南", 0),
    ("{agency}关于开展安全生产月活动的通知", 1),
    ("{year}年度政府信息公开申请办理情况统计", 0),
    ("{agency}领导班子成员分工调整的通知", 1),
    ("关于{year}年第三季度网站抽查情况的通报", 0),
)


def filler_documents(slug: str, agency: str, count: int) -> list[Document]:
    """News and notices that sit in the same column as the reports (none of them is one)."""
    documents = []
    for index in range(count):
        template, lag = _FILLER_TITLES[index % len(_FILLER_TITLES)]
        year = 2020 + (index * 3 + len(slug)) % 5
        title = template.format(year=year, agency=agency)
        day = date(year + lag, 1 + (index * 5 + len(slug)) % 12, 1 + (index * 7) % 27)
        body = (f"<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>"
                f"<h1>{title}</h1><p>{agency}发布。</p></body></html>").encode()
        documents.append(Document(title=title, content=body, site=slug, name=f"{slug}-filler-{index + 1}",
                                  form="html", kind="filler", media_type="text/html",
                                  published=day.isoformat()))
    return documents
