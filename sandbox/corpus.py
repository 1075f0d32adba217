"""The committed corpus: documents in sandbox/corpus/ with a reviewed truth file beside each.

`<name>.<ext>` is the document as an agency would publish it (or a directory of
pages, for flipbooks and articles paginated in place); `<name>.truth.json` says what it is and, for reports, the
canonical record it must extract to (shared/spec/FORMAT.md).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from report.record import ReportRecord

CORPUS_DIR = Path(__file__).parent / "corpus"

Form = Literal[
    "word-pdf", "reportlab-pdf", "cid-pdf", "scanned-pdf", "html", "docx", "doc",
    "xlsx", "xls", "flipbook", "paged-html", "hostile", "lookalike",
]
Kind = Literal["report", "not-report", "broken"]


class Truth(BaseModel):
    """The reviewed truth of one corpus document."""

    model_config = ConfigDict(extra="allow")

    name: str
    file: str
    form: Form
    kind: Kind = "report"
    media_type: str
    agency: str | None = None
    year: int | None = None
    title: str | None = None
    published: str | None = None
    level: str | None = None
    agency_kind: str | None = None
    region_code: str | None = None
    record: ReportRecord | None = None
    expected_rules: list[str] = Field(default_factory=list)
    expected_finding: str | None = None
    variant: str | None = None
    seed: int | None = None
    reviewed: bool = False
    notes: str = ""
    site: str | None = None
    """The slug of the sandbox site that publishes the document (sandbox.agencies)."""


class CorpusEntry(BaseModel):
    truth: Truth
    path: Path

    @property
    def name(self) -> str:
        return self.truth.name

    def read_bytes(self) -> bytes:
        if self.path.is_dir():
            raise IsADirectoryError(f"{self.path} is a multi-page document; read its pages")
        return self.path.read_bytes()

    def pages(self) -> list[Path]:
        return sorted(self.path.iterdir()) if self.path.is_dir() else [self.path]


def load_corpus(root: Path | None = None) -> list[CorpusEntry]:
    """Every document of the corpus with its truth, sorted by name."""
    return list(_load(root or CORPUS_DIR))


@lru_cache(maxsize=4)
def _load(root: Path) -> tuple[CorpusEntry, ...]:
    entries = []
    for truth_path in sorted(root.glob("*.truth.json")):
        truth = Truth.model_validate(json.loads(truth_path.read_text(encoding="utf-8")))
        entries.append(CorpusEntry(truth=truth, path=root / truth.file))
    return tuple(entries)
