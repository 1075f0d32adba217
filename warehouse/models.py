"""The warehouse schema as typed SQLAlchemy 2 models.

Operational tables: regions, sources, agencies, crawl_runs, documents,
extraction_attempts, alerts, alert_deliveries, staged_records. Analytical tables: reports, cells (long form),
cell_sources (where each cell was printed), findings, report_sections. Dimensions and labels: report_years, cell_dictionary,
rule_labels. The tables are created only by the migrations in warehouse/migrations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from report.agencies import KINDS as AGENCY_KINDS
from report.agencies import LEVELS as AGENCY_LEVELS
from report.agencies import deadline

REGION_LEVELS = ("province", "prefecture", "county")
REPORT_STATUSES = ("accepted", "quarantined")
SEVERITIES = ("error", "warning", "info")
NULL_REASONS = ("empty", "text")
SOURCE_UNITS = ("pt", "px", "grid")
STAGES = ("planned", "extracted", "validated", "loaded")

JsonType = JSON().with_variant(JSONB(), "postgresql")


class Timestamp(TypeDecorator[dt.datetime]):
    """A moment with its zone: `timestamptz` on PostgreSQL. SQLite keeps no zone (it would store
    08:00+08:00 as a bare 08:00), so every moment goes in as UTC and comes out marked UTC.
    A moment without a zone is taken to be UTC (what `utcnow` and the crawl index write)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


class ExactNumber(TypeDecorator[Decimal]):
    """A figure kept exactly: NUMERIC on PostgreSQL; on SQLite the decimal's text, because
    SQLite's NUMERIC keeps a fraction (or an integer past 2^63) only to 15 digits, through a
    double. Read back as a Decimal either way."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(Text() if dialect.name == "sqlite" else Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, float):   # set by hand: its shortest decimal, not its binary expansion
            value = Decimal(repr(value))
        if value is None or dialect.name != "sqlite":
            return value
        return str(value) if isinstance(value, int) else format(Decimal(value), "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(str(value))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })
    type_annotation_map = {dict[str, Any]: JsonType, list[str]: JsonType, dt.datetime: Timestamp()}


# ---------------------------------------------------------------- dimensions
class Region(Base):
    """A 行政区划 by its 6-digit code; parent is the prefecture or the province."""

    __tablename__ = "regions"
    __table_args__ = (CheckConstraint(_one_of("level", REGION_LEVELS), name="level"),)

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))


class ReportYear(Base):
    """The report-year dimension: which format governs it."""

    __tablename__ = "report_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    format: Mapped[str] = mapped_column(String(16))


class CellDictionary(Base):
    """Every canonical cell key with its Chinese labels, unit and wide-form column name."""

    __tablename__ = "cell_dictionary"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    column_name: Mapped[str] = mapped_column(String(63), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    table_id: Mapped[str] = mapped_column(String(8))
    section: Mapped[str] = mapped_column(Text)
    row_key: Mapped[str] = mapped_column(String(40))
    column_key: Mapped[str] = mapped_column(String(40))
    row_label: Mapped[str] = mapped_column(Text)
    column_label: Mapped[str] = mapped_column(Text)
    label_zh: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    formats: Mapped[str] = mapped_column(String(32))


class RuleLabel(Base):
    __tablename__ = "rule_labels"

    rule: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_zh: Mapped[str] = mapped_column(Text)
    label_en: Mapped[str] = mapped_column(Text)


# ---------------------------------------------------------------- operational
class Source(Base):
    """A portal in the source registry."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    cms: Mapped[str | None] = mapped_column(String(60))
    base_url: Mapped[str | None] = mapped_column(Text)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    config: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Agency(Base):
    """An administrative body that must publish a report every year."""

    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint(_one_of("level", AGENCY_LEVELS), name="level"),
        CheckConstraint(_one_of("kind", AGENCY_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str | None] = mapped_column(String(16))  # province … township, from region_code (warehouse.regions)
    expected: Mapped[bool] = mapped_column(Boolean, default=True)
    first_year: Mapped[int | None] = mapped_column(Integer)
    last_year: Mapped[int | None] = mapped_column(Integer)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"), index=True)  # its source page (0009)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def deadline(self, year: int) -> dt.date:
        """条例 art. 50: county-or-above governments publish by 31 March, every other body by 31 January."""
        return deadline(year, self.kind, self.level)


class CrawlRun(Base):
    """One source's part of a crawl run; `run_id` is the crawl index's run (none for a run
    recorded by hand), once per source."""

    __tablename__ = "crawl_runs"
    __table_args__ = (UniqueConstraint("run_id", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    stats: Mapped[dict[str, Any] | None]
    finish_reason: Mapped[str | None] = mapped_column(String(60))


class Document(Base):
    """One version of one file: a row per (url, sha256); a changed file is a new row."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("url", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"), index=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    url: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    agency_name: Mapped[str | None] = mapped_column(String(300))
    listing_title: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    listing_date: Mapped[dt.date | None] = mapped_column(Date)
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column(BigInteger)
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_checked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # a multipart document's pages in reading order, JSON [{"url", "sha256"}] (report.document.Part)
    parts: Mapped[str | None] = mapped_column(Text)


class ExtractionAttempt(Base):
    __tablename__ = "extraction_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    attempted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reader: Mapped[str | None] = mapped_column(String(40))
    pages: Mapped[int | None] = mapped_column(Integer)
    ocr_used: Mapped[bool] = mapped_column(Boolean, default=False)
    ocr_pages: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[float | None]
    extractor_version: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    """An operational alert; at most one open alert per cause key."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("uq_alerts_open_cause_key", "cause_key", unique=True,
              sqlite_where=text("resolved_at IS NULL"), postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    cause_key: Mapped[str] = mapped_column(String(300))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None]
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]
    notified_at: Mapped[dt.datetime | None]


class AlertDelivery(Base):
    """What one notifier was told about one alert: delivered, or the last failed attempt.
    A notifier that fails does not make the others send again."""

    __tablename__ = "alert_deliveries"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    notifier: Mapped[str] = mapped_column(String(120), primary_key=True)
    delivered_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
class StagedRecord(Base):
    """A document version planned for extraction by one harvest run, and its record between the
    DAG's extract, validate and load tasks, which any host may run (so never a local file)."""

    __tablename__ = "staged_records"
    __table_args__ = (
        Index(None, "run_id", "batch"),
        Index(None, "run_id", "position"),
        CheckConstraint(_one_of("stage", STAGES), name="stage"),
    )

    run_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)     # DocumentVersion.key
    batch: Mapped[int] = mapped_column(Integer)                        # the extract task's map index
    position: Mapped[int] = mapped_column(Integer)                     # order of validation: source, year, url
    document: Mapped[dict[str, Any]]
    record: Mapped[dict[str, Any] | None]                              # none until extracted; none again once loaded
    stage: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------- analytical
class Report(Base):
    """One agency-year as one document version printed it.

    At most one report per agency-year is current; older versions stay as history
    with `is_current` false and `superseded_by_id` pointing at their successor.
    """

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("agency_id", "year", "document_id"),
        CheckConstraint(_one_of("status", REPORT_STATUSES), name="status"),
        Index("uq_reports_current_agency_year", "agency_id", "year", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        Index("ix_reports_year_agency_id", "year", "agency_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    format: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    extractor_version: Mapped[str | None] = mapped_column(String(40))
    reader: Mapped[str | None] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship()
    agency: Mapped[Agency] = relationship()


class Cell(Base):
    """A report's cells in long form; value is None when the printed cell holds no number.

    report_id is deliberately not a declared foreign key: PostgreSQL checks one row
    at a time, which makes COPY of 20 M cells three times slower. The loader writes
    cells only in the transaction that writes (or rewrites) their report.
    """

    __tablename__ = "cells"
    __table_args__ = (CheckConstraint(f"null_reason IS NULL OR {_one_of('null_reason', NULL_REASONS)}",
                                      name="null_reason"),)

    report_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(Text, primary_key=True)  # 2014-format reports print free labels
    value: Mapped[Decimal | None] = mapped_column(ExactNumber())
    raw: Mapped[str | None] = mapped_column(Text)
    null_reason: Mapped[str | None] = mapped_column(String(16))


class CellSource(Base):
    """Where a cell's value was printed: page, box (x0, y0, x1, y1 from the top left, in `unit`:
    PDF points, image pixels or grid row/column), the text read there and, for OCR, the
    recogniser's confidence. Keyed like `cells`; like it, report_id is not a declared foreign key
    (bulk COPY) and the loader writes the rows only with their report's cells."""

    __tablename__ = "cell_sources"
    __table_args__ = (CheckConstraint(f"unit IS NULL OR {_one_of('unit', SOURCE_UNITS)}", name="unit"),)

    report_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    page: Mapped[int | None] = mapped_column(Integer)
    x0: Mapped[float | None] = mapped_column(Float)
    y0: Mapped[float | None] = mapped_column(Float)
    x1: Mapped[float | None] = mapped_column(Float)
    y1: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(8))
    grid_table: Mapped[int | None] = mapped_column(Integer)  # grid units: the table's number on the page
    text: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)


class Finding(Base):
    __tablename__ = "findings"
    __table_args__ = (CheckConstraint(_one_of("severity", SEVERITIES), name="severity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    cells: Mapped[list[str]] = mapped_column(default=list)
    message: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str | None] = mapped_column(Text)


class ReportSection(Base):
    """The prose of a report's six sections."""

    __tablename__ = "report_sections"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    section: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


__all__ = [
    "Agency", "Alert", "AlertDelivery", "Base", "Cell", "CellDictionary", "CellSource", "CrawlRun", "Document",
    "ExtractionAttempt",
    "Finding", "Region", "Report", "ReportSection", "ReportYear", "RuleLabel", "Source", "StagedRecord",
]
