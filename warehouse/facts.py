"""What the stages read back from the warehouse: the facts the alert rules need, the document
versions already processed, the previous year's record for the cross-year rules.

Filtered by joins, so no list of ids grows with the warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from report.record import CellValue, ReportRecord
from warehouse.models import (
    Agency,
    Cell,
    CrawlRun,
    Document,
    ExtractionAttempt,
    Finding,
    Report,
    ReportSection,
)


@dataclass(frozen=True)
class ReportRow:
    """One report of an agency with its document; findings, prose and figures only for current ones."""

    agency_id: int
    year: int
    sha256: str
    url: str
    listing_date: dt.date | None
    hard_findings: tuple[str, ...] = ()
    image_only: bool = False
    text: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CrawlHistory:
    """The warehouse's crawl runs of one source, oldest first: (finish reason, stats) each."""

    source_id: str
    runs: list[tuple[str | None, dict[str, Any]]]


# ---------------------------------------------------------------- for the alert rules
def agencies_of(session: Session, sources: Sequence[str] | None = None) -> list[Agency]:
    """The agencies of these sources (all when None)."""
    return list(session.scalars(select(Agency).where(Agency.source_id.in_(sources)) if sources else select(Agency)))


def report_rows(session: Session, agency_ids: Iterable[int]) -> list[ReportRow]:
    """Every report of these agencies (for publication dates); findings, prose and figures of the
    current ones (for the quality rules)."""
    ids = list(agency_ids)
    if not ids:
        return []
    in_scope = Report.agency_id.in_(ids)
    current = (in_scope, Report.is_current.is_(True))
    rows = session.execute(select(Report, Document).join(Document, Document.id == Report.document_id).where(in_scope))
    errors: dict[int, list[str]] = defaultdict(list)
    for report_id, rule in session.execute(select(Finding.report_id, Finding.rule).join(Report, Report.id == Finding.report_id)
                                           .where(*current, Finding.severity == "error")):
        errors[report_id].append(rule)
    texts: dict[int, list[str]] = defaultdict(list)
    for report_id, text in session.execute(select(ReportSection.report_id, ReportSection.text)
                                           .join(Report, Report.id == ReportSection.report_id)
                                           .where(*current).order_by(ReportSection.report_id, ReportSection.section)):
        texts[report_id].append(text)
    figures: dict[int, dict[str, Any]] = defaultdict(dict)
    for report_id, key, value in session.execute(select(Cell.report_id, Cell.key, Cell.value)
                                                 .join(Report, Report.id == Cell.report_id)
                                                 .where(*current)):
        figures[report_id][key] = value
    image_only = {document_id for document_id, pages, ocr_pages in session.execute(
        select(ExtractionAttempt.document_id, ExtractionAttempt.pages, ExtractionAttempt.ocr_pages)
        .where(ExtractionAttempt.ocr_used.is_(True))) if pages and ocr_pages >= pages}
    return [ReportRow(agency_id=report.agency_id, year=report.year, sha256=document.sha256, url=document.url,
                      listing_date=document.listing_date, hard_findings=tuple(errors.get(report.id, ())),
                      image_only=bool(report.is_current) and document.id in image_only,
                      text="\n".join(texts.get(report.id, [])), figures=figures.get(report.id, {}))
            for report, document in rows]


def unread_document_years(session: Session, agency_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(agency id, year) with a document that may be the report but could not be read (so it is
    not missing, though there is no report): never processed, or extraction failed."""
    attempts: dict[int, str] = {}
    for document_id, outcome in session.execute(select(ExtractionAttempt.document_id, ExtractionAttempt.outcome)
                                                .order_by(ExtractionAttempt.id)):
        attempts[document_id] = outcome
    rows = session.execute(select(Document.id, Document.agency_id, Document.year)
                           .where(Document.agency_id.in_(list(agency_ids)), Document.year.is_not(None)))
    return sorted({(agency_id, int(year)) for document_id, agency_id, year in rows
                   if agency_id is not None and year is not None and attempts.get(document_id, "failed") == "failed"})


def crawl_histories(session: Session, sources: Sequence[str] | None = None) -> list[CrawlHistory]:
    """Every source's crawl runs (of these sources; all when None), oldest first."""
    query = select(CrawlRun).where(CrawlRun.source_id.is_not(None)).order_by(CrawlRun.source_id, CrawlRun.id)
    if sources:
        query = query.where(CrawlRun.source_id.in_(sources))
    runs: dict[str, list[tuple[str | None, dict[str, Any]]]] = defaultdict(list)
    for run in session.scalars(query):
        runs[str(run.source_id)].append((run.finish_reason, run.stats or {}))
    return [CrawlHistory(source_id, history) for source_id, history in runs.items()]


# ---------------------------------------------------------------- for the process stage
def processed_versions(session: Session, extractor_version: str) -> set[tuple[str, str]]:
    """(url, sha256) of every document version this extractor version has read."""
    rows = session.execute(
        select(Document.url, Document.sha256).join(ExtractionAttempt, ExtractionAttempt.document_id == Document.id)
        .where(ExtractionAttempt.extractor_version == extractor_version).distinct())
    return {(url, sha) for url, sha in rows}


def attempted(session: Session, document_id: int, extractor_version: str) -> bool:
    """Whether this extractor version has read this document already."""
    return session.scalar(select(ExtractionAttempt.id).where(ExtractionAttempt.document_id == document_id,
                                                             ExtractionAttempt.extractor_version == extractor_version)
                          .limit(1)) is not None


def agency_id_of(session: Session, slug: str) -> int | None:
    return session.scalar(select(Agency.id).where(Agency.slug == slug))


def agency_of(session: Session, slug: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.slug == slug))
def agency_ids(session: Session, slugs: Iterable[str]) -> dict[str, int]:
    """The ids of the agencies of these slugs (those registered)."""
    return dict(session.execute(select(Agency.slug, Agency.id).where(Agency.slug.in_(list(slugs)))).all())


def previous_record(session: Session, agency_slug: str, year: int) -> ReportRecord | None:
    """The agency's current report of `year` as a record (cells and raw only)."""
    report = session.scalar(select(Report).join(Agency, Agency.id == Report.agency_id)
                            .where(Agency.slug == agency_slug, Report.year == year, Report.is_current.is_(True)))
    if report is None:
        return None
    cells, raw = _stored_cells(session, report.id)
    return ReportRecord(agency=report.agency.name, year=report.year, format=report.format,  # type: ignore[arg-type]
                        title=report.title, cells=cells, raw=raw)


def stored_versions(session: Session, agency_slug: str, year: int) -> list[tuple[Report, ReportRecord]]:
    """Every version of the agency's report of `year`, each with the record the warehouse holds
    of it (cells, raw, sections, findings, title, format; its document as provenance)."""
    reports = session.scalars(select(Report).join(Agency, Agency.id == Report.agency_id)
                              .where(Agency.slug == agency_slug, Report.year == year).order_by(Report.id))
    return [(report, _stored_record(session, report)) for report in reports]


def _stored_record(session: Session, report: Report) -> ReportRecord:
    from report.record import Finding as FoundFinding
    from report.record import Provenance

    cells, raw = _stored_cells(session, report.id)
    sections = {s.section: s.text for s in session.scalars(select(ReportSection)
                                                           .where(ReportSection.report_id == report.id))}
    findings = [FoundFinding(rule=f.rule, severity=f.severity, cells=list(f.cells or []), message=f.message,  # type: ignore[arg-type]
                             message_en=f.message_en or "")
                for f in session.scalars(select(Finding).where(Finding.report_id == report.id).order_by(Finding.id))]
    provenance = Provenance(sha256=report.document.sha256, url=report.document.url,
                            extractor_version=report.extractor_version, reader=report.reader)
    return ReportRecord(agency=report.agency.name, year=report.year, format=report.format,  # type: ignore[arg-type]
                        title=report.title, cells=cells, raw=raw, sections=sections, findings=findings,
                        agency_level=report.agency.level, agency_kind=report.agency.kind, provenance=provenance)


def _stored_cells(session: Session, report_id: int) -> tuple[dict[str, CellValue], dict[str, str]]:
    """A stored report's cells and the strings they were printed as."""
    cells: dict[str, CellValue] = {}
    raw: dict[str, str] = {}
    for cell in session.scalars(select(Cell).where(Cell.report_id == report_id)):
        cells[cell.key] = _number(cell.value)
        if cell.raw is not None:
            raw[cell.key] = cell.raw
    return cells, raw


def _number(value: Decimal | None) -> CellValue:
    """Exact: an integral value as an int, a fraction as its Decimal."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value
