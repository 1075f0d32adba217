"""The report record: the canonical JSON contract of shared/spec/FORMAT.md, plus provenance."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning", "info"]
ReportFormat = Literal["2021", "2019", "2014", "unknown"]
# Exact: a count is an int, a decimal or amount a Decimal; never a float (2**53 + 1 stays itself).
CellValue = int | Decimal | None

EMPTY_MARKERS: frozenset[str] = frozenset({"", "/", "-", "—", "——", "－", "无", "/ ", "─", "–", "空"})


class Finding(BaseModel):
    """What a rule found: its id, how bad, which cells, and why (Chinese and English)."""

    model_config = ConfigDict(extra="allow")

    rule: str
    severity: Severity
    cells: list[str] = Field(default_factory=list)
    message: str
    message_en: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class OcrPage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int
    confidence: float


class Provenance(BaseModel):
    """Where a record came from: the document version and how it was read."""

    model_config = ConfigDict(extra="forbid")  # a misnamed field is an error, not a silent extra

    sha256: str | None = None
    url: str | None = None
    source_id: str | None = None
    listing_title: str | None = None   # the document contract's names (report/document.py)
    listing_date: str | None = None
    content_type: str | None = None
    reader: str | None = None
    pages: int | None = None
    ocr_pages: list[OcrPage] = Field(default_factory=list)
    extractor_version: str | None = None
    duration_ms: float | None = None
    peak_rss_mb: float | None = None  # the isolated worker's peak memory (extract.worker)


class CellSource(BaseModel):
    """Where one cell's value was printed: the page, the box on it, the text read there."""

    model_config = ConfigDict(extra="forbid")

    page: int | None = None  # 1-based; None for a document without pages (HTML, DOCX, XLS)
    bbox: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 (top-left origin)
    unit: Literal["pt", "px", "grid"] | None = None  # PDF points, image pixels, table row/col
    table: int | None = None  # grid units: which table of the page (1-based, reading order)
    text: str = ""  # the printed text the value was read from
    confidence: float | None = None  # the recogniser's, for OCR
    corrected: bool = False  # re-read because the report's identities disagreed


class ReportRecord(BaseModel):
    """One document's report: the canonical cells, the six sections, the findings.

    `cells` holds every cell the document prints and only those; a printed cell
    without a number is None, never 0. `raw` keeps each cell's printed string.
    """

    model_config = ConfigDict(extra="allow")

    agency: str | None = None
    year: int | None = None
    format: ReportFormat = "unknown"
    title: str | None = None
    cells: dict[str, CellValue] = Field(default_factory=dict)
    raw: dict[str, str] = Field(default_factory=dict)
    sections: dict[str, str] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    agency_level: str | None = None
    agency_kind: str | None = None
    provenance: Provenance = Field(default_factory=Provenance)
    cell_sources: dict[str, CellSource] = Field(default_factory=dict)

    def value(self, key: str) -> CellValue:
        return self.cells.get(key)

    def has(self, key: str) -> bool:
        return key in self.cells

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    def to_json(self) -> str:
        """The record as JSON, its figures written as exact JSON numbers."""
        return dumps_exact(self.to_jsonable())

    def to_jsonable(self) -> dict[str, Any]:
        """The record as JSON-ready values; the cells keep their ints and Decimals (see dumps_exact)."""
        data = self.model_dump(mode="json")
        data["cells"] = dict(self.cells)
        return data

    @classmethod
    def from_json(cls, text: str | bytes) -> ReportRecord:
        try:
            data = loads_exact(text)
        except ValueError:   # not JSON: pydantic's own error says where
            return cls.model_validate_json(text)
        return cls.model_validate(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportRecord:
        return cls.model_validate(data)


def dumps_exact(value: Any) -> str:
    """JSON with every Decimal written as the exact number it is (json.dumps cannot);
    the output is compact and keeps non-ASCII characters."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{dumps_exact(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps_exact(item) for item in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is no JSON number")
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)


def loads_exact(text: str | bytes) -> Any:
    """JSON with its fractional numbers read as Decimals and its integers as ints, exactly."""
    return json.loads(text, parse_float=Decimal)
