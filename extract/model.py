"""The neutral grid every reader produces and the one mapper consumes.

A document is a stream of rows in reading order. A row is a list of cells; a
cell is its printed text and, when the reader knows it, its horizontal extent.
Rows of one printed table share a coordinate system (`space`): grid column
indices for HTML/DOCX/XLSX, page points for PDF, image pixels for OCR. A cell
may also know its vertical extent (y0/y1: points or pixels from the top of the
page, or the grid row it starts on and the row after its last), which is where
the record's `cell_sources` come from. Prose lines are rows too (usually of one
cell). Readers never decide what a cell means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from extract.findings import Findings
from report.record import Finding, OcrPage


@dataclass(frozen=True)
class CellRead:
    """How an OCR reader read one cell: the crops it recognised (one per printed line, grey,
    as cut from the cleaned page; kept for figure cells only) and the recogniser's confidence,
    so that a cell can be read again when the report's identities say its figure is wrong.
    `corrected` is set by extract.ocr_repair when such a re-reading replaced the first."""

    page: int
    crops: tuple[Any, ...]
    confidence: float
    corrected: bool = False


@dataclass(frozen=True)
class Cell:
    text: str
    x0: float | None = None
    x1: float | None = None
    # Vertical extent, in the row's space, when the reader knows it (top-left origin).
    y0: float | None = field(default=None, compare=False)
    y1: float | None = field(default=None, compare=False)
    # Set by the OCR reader; not part of what a cell is (two cells printing the same are equal).
    read: CellRead | None = field(default=None, compare=False, repr=False)

    @property
    def positioned(self) -> bool:
        return self.x0 is not None and self.x1 is not None

    @property
    def centre(self) -> float:
        assert self.x0 is not None and self.x1 is not None
        return (self.x0 + self.x1) / 2


@dataclass
class Row:
    cells: list[Cell]
    page: int = 1
    # Rows of one table share a coordinate space; None for free text lines.
    space: str | None = None
    # True when the row is a line of a ruled/marked-up table (a box per cell).
    gridded: bool = False
    # A ruled/marked-up table's number on its page, 1-based in reading order (the rows of one
    # table on one page, whatever the reader).
    table: int | None = None

    @property
    def unit(self) -> Literal["pt", "px", "grid"] | None:
        """What the cells' coordinates measure: PDF points, OCR image pixels, or grid row/column."""
        if self.space == "pdf":
            return "pt"
        if self.space == "ocr":
            return "px"
        return "grid" if self.space else None

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.cells if c.text)

    @property
    def compact(self) -> str:
        return "".join("".join(c.text.split()) for c in self.cells)


@dataclass
class Document:
    """What a reader hands to the mapper."""

    rows: list[Row] = field(default_factory=list)
    reader: str = "unknown"
    pages: int | None = None
    ocr_pages: list[OcrPage] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # A title as the document's own metadata states it (HTML <title>, PDF info).
    meta_title: str | None = None
    # The body the page's source line names (来源：…, 发布机构：…), as printed.
    source_line: str | None = None


class ReaderError(Exception):
    """A reader cannot read this document; `kind` is the finding to record."""

    def __init__(self, kind: Findings, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.kind = kind
        self.message = message
        self.message_en = message_en

    def finding(self) -> Finding:
        return finding(self.kind, self.message, self.message_en)


def finding(kind: Findings, message: str, message_en: str, cells: list[str] | None = None) -> Finding:
    return Finding(rule=kind.id, severity=kind.severity, message=message, message_en=message_en, cells=cells or [])
