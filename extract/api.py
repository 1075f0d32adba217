"""bytes → ReportRecord: sniff, read, map, describe. Never raises for bad input."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from extract.findings import Findings
from extract.mapper import MappedTables, Mapper, decide_format
from extract.metadata import agency_kind, agency_level, resolve_metadata
from extract.model import Document, ReaderError, finding
from extract.sniff import DocType, sniff
from extract.version import EXTRACTOR_VERSION
from report.document import Part, parts_digest
from report.record import CellSource, Finding, Provenance, ReportRecord

log = logging.getLogger(__name__)


class Hints(BaseModel):
    """What the crawler knew about the document (all optional)."""

    model_config = ConfigDict(extra="forbid")   # a misnamed hint is an error, not lost

    url: str | None = None
    listing_title: str | None = None
    agency: str | None = None
    year: int | None = None
    source_id: str | None = None
    listing_date: str | None = None
    sha256: str | None = None
    content_type: str | None = None


def extract_bytes(data: bytes, *, hints: Hints | None = None, ocr: bool = True) -> ReportRecord:
    """The canonical record of one document. Problems become findings, never exceptions."""
    started = time.perf_counter()
    hints = hints or Hints()
    doc_type = sniff(data)
    record: ReportRecord
    try:
        document = read_document(data, doc_type, ocr=ocr)
    except ReaderError as exc:
        record = ReportRecord(findings=[exc.finding()])
        document = Document(reader=doc_type)
    except Exception as exc:  # a reader bug must not lose the document
        log.exception("reader %s failed", doc_type)
        record = ReportRecord(findings=[finding(
            Findings.EXTRACT_ERROR, f"读取失败：{type(exc).__name__}: {exc}",
            f"the {doc_type} reader failed: {type(exc).__name__}: {exc}")])
        document = Document(reader=doc_type)
    else:
        record = build_record(document, hints)
    record.provenance = _provenance(data, hints, document, doc_type, started)
    return record


def extract_file(path: str | Path, hints: Hints | None = None, *, ocr: bool = True) -> ReportRecord:
    path = Path(path)
    if path.is_dir():   # a flipbook: its HTML pages, in file-name order, are the parts of one report
        pages = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".html", ".htm"))
        return extract_parts([page.read_bytes() for page in pages], hints)
    try:
        data = path.read_bytes()
    except OSError as exc:
        record = ReportRecord(findings=[finding(Findings.UNREADABLE_FILE, f"无法读取文件：{exc}", f"cannot read the file: {exc}")])
        return record
    return extract_bytes(data, hints=hints, ocr=ocr)


def extract_parts(parts: Sequence[bytes], hints: Hints | None = None) -> ReportRecord:
    """The record of a multipart document: one report paginated over several HTML pages, read in
    order as one (`report.document.Part`); each cell's provenance names the page it came from."""
    from extract.readers.html import read_html_pages

    started = time.perf_counter()
    hints = hints or Hints()
    try:
        document = read_html_pages(parts)
        record = build_record(document, hints)
    except ReaderError as exc:
        document = Document(reader="html-pages")
        record = ReportRecord(findings=[exc.finding()])
    digest = parts_digest([Part("", hashlib.sha256(part).hexdigest()) for part in parts])
    record.provenance = _provenance(b"", hints.model_copy(update={"sha256": hints.sha256 or digest}), document,
                                    "html", started)
    return record


def read_document(data: bytes, doc_type: DocType, *, ocr: bool = True) -> Document:
    readers: dict[str, Callable[[], Document]] = {
        "pdf": lambda: _pdf(data, ocr),
        "html": lambda: _html(data),
        "docx": lambda: _docx(data),
        "xlsx": lambda: _sheet(data, "xlsx"),
        "xls": lambda: _sheet(data, "xls"),
        "doc": lambda: _legacy(data, "doc"),
        "wps": lambda: _legacy(data, "wps"),
        "image": lambda: _image(data, ocr),
        "text": lambda: _text(data),
    }
    if doc_type == "empty":
        raise ReaderError(Findings.EMPTY_FILE, "文件为空", "the file is empty")
    reader = readers.get(doc_type)
    if reader is None:
        raise ReaderError(Findings.UNKNOWN_TYPE, f"无法识别的文件类型（{doc_type}）",
                          f"unrecognised document type ({doc_type})")
    return reader()


def _pdf(data: bytes, ocr: bool) -> Document:
    from extract.readers.pdf import read_pdf

    return read_pdf(data, ocr=ocr)


def _html(data: bytes) -> Document:
    from extract.readers.html import read_html

    return read_html(data)


def _docx(data: bytes) -> Document:
    from extract.readers.office import read_docx

    return read_docx(data)


def _sheet(data: bytes, kind: str) -> Document:
    from extract.readers.office import read_sheet

    return read_sheet(data, kind)


def _legacy(data: bytes, kind: str) -> Document:
    from extract.readers.office import read_legacy

    return read_legacy(data, kind, convert=lambda converted: read_document(converted, sniff(converted)))


def _image(data: bytes, ocr: bool) -> Document:
    if not ocr:
        raise ReaderError(Findings.NEEDS_OCR, "图片文档需要 OCR", "an image document needs OCR")
    from extract.readers.ocr import read_image

    return read_image(data)


def _text(data: bytes) -> Document:
    from extract.readers.text import read_text

    return read_text(data)


def build_record(document: Document, hints: Hints) -> ReportRecord:
    mapped = Mapper().feed(document.rows)
    body = "\n".join(mapped.lead_lines) + "\n" + "\n".join(mapped.sections.values())
    meta = resolve_metadata(mapped.lead_lines, body, meta_title=document.meta_title,
                            listing_title=hints.listing_title, hint_agency=hints.agency,
                            hint_year=hints.year, url=hints.url, ocr=bool(document.ocr_pages),
                            tail_lines=mapped.tail_lines, source_line=document.source_line)
    fmt = decide_format(mapped.subtable_formats, meta.year, bool(mapped.cells), body, mapped.statistics_list)
    findings = list(document.findings) + _findings(mapped, meta.lookalike, document)
    record = ReportRecord(
        agency=meta.agency, year=meta.year, format=fmt, title=meta.title,  # type: ignore[arg-type]
        cells=mapped.cells, raw=mapped.raw, sections=mapped.sections, findings=findings,
        agency_level=agency_level(meta.agency), agency_kind=agency_kind(meta.agency),
        cell_sources=_paged(mapped.sources, document),
    )
    # Which of 表二/表三/表四 were found, and labels that resolved to nothing: for diagnosis.
    record.extraction = {"tables": sorted(mapped.tables_seen), "unresolved": mapped.unresolved[:20]}  # type: ignore[attr-defined]
    if mapped.reads:  # OCR'd figures: the identities say which to read again
        from extract.ocr_repair import repair

        repair(record, mapped.reads)
        _sources_after_repair(record)
    return record


def _paged(sources: dict[str, CellSource], document: Document) -> dict[str, CellSource]:
    """A document without pages (DOCX) gives its sources no page number."""
    if document.pages is not None:
        return sources
    return {key: source.model_copy(update={"page": None}) for key, source in sources.items()}


def _sources_after_repair(record: ReportRecord) -> None:
    """A figure the identities had read again: its source says so, with the new reading."""
    ocr_cells = (getattr(record, "extraction", None) or {}).get("ocr_cells", {})
    for key, info in ocr_cells.items():
        source = record.cell_sources.get(key)
        if source is None or not info.get("corrected"):
            continue
        record.cell_sources[key] = source.model_copy(update={
            "corrected": True, "text": record.raw.get(key, source.text), "confidence": info.get("confidence")})


def _findings(mapped: MappedTables, lookalike: str | None, document: Document) -> list[Finding]:
    found: list[Finding] = []
    absurd = sorted(key for key, problem in mapped.problems.items() if problem == "absurd")
    if absurd:
        shown = "、".join(f"{key}（{mapped.raw.get(key, '')}）" for key in absurd[:5])
        found.append(finding(Findings.ABSURD_VALUE, f"数值超出任何报告的范围，未作为数值：{shown}",
                             f"figures beyond any report's, not taken as values: {', '.join(absurd[:5])}",
                             cells=absurd))
    if lookalike and (len(mapped.cells) < 20 or not mapped.sections):
        found.append(finding(Findings.NOT_A_REPORT, f"不是政府信息公开工作年度报告（{lookalike}）",
                             f"not an annual disclosure report ({lookalike})"))
    elif lookalike:
        found.append(finding(Findings.NOT_A_REPORT, f"标题显示不是年度报告（{lookalike}）",
                             f"the title says this is not an annual report ({lookalike})"))
    elif not mapped.cells:
        has_report_words = any("年度报告" in line for line in mapped.lead_lines) or bool(mapped.sections)
        if has_report_words:
            found.append(finding(Findings.NO_TABLES, "报告中没有找到统计表", "no report tables found"))
        elif not any(f.rule == Findings.NEEDS_OCR.id for f in document.findings):
            found.append(finding(Findings.NOT_A_REPORT, "文档看起来不是年度报告", "the document does not look like an annual report"))
    return found


def _provenance(data: bytes, hints: Hints, document: Document, doc_type: str, started: float) -> Provenance:
    return Provenance(
        sha256=hints.sha256 or hashlib.sha256(data).hexdigest(), url=hints.url, source_id=hints.source_id,
        listing_title=hints.listing_title, listing_date=hints.listing_date,
        content_type=hints.content_type or doc_type, reader=document.reader, pages=document.pages,
        ocr_pages=document.ocr_pages, extractor_version=EXTRACTOR_VERSION,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )
