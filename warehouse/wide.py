"""`report_facts`: the wide table, materialised at load time.

One row per current report: the agency with its administrative tier and region names,
the report's title, publication date, deadline and whether it came on time, whether
OCR read it, its finding counts, the cells converted from 元 to 万元, and one column
per canonical cell key. The loader refreshes the rows of every agency-year it
writes (`refresh`); `rebuild` fills the table from scratch (the migration that
creates it). The view `report_wide` is a projection of this table.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)

from report.agencies import deadline
from warehouse import regions, search
from warehouse.dictionary import column_name, entries
from warehouse.models import (
    Agency,
    Base,
    Cell,
    Document,
    ExactNumber,
    ExtractionAttempt,
    Finding,
    Report,
)

# Columns besides the report_wide ones, in order, with their meaning (the data dictionary shows them).
FACT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("tier", "行政层级", "province | prefecture | county | township, from the region code"),
    ("province_name", "省级名称", "name of the province"),
    ("prefecture_name", "地级名称", "name of the prefecture"),
    ("region_name", "区划名称", "name of the agency's own region"),
    ("title", "报告标题", "the report's title"),
    ("published", "发布日期", "publication date on the listing page"),
    ("deadline", "法定期限", "the legal deadline (条例 art. 50)"),
    ("timeliness", "是否按时", "on_time | late | unknown (no publication date)"),
    ("ocr_used", "是否OCR", "true when any page was read by OCR"),
    ("errors", "错误数", "findings of severity error"),
    ("warnings", "警告数", "findings of severity warning"),
    ("converted", "元转万元", "cell keys whose printed amount was in 元 and converted to 万元"),
)

_WHOLE_KINDS = ("count", "signed")
_cells: Table = Cell.__table__  # type: ignore[assignment]


def _cell_columns() -> list[Column[Any]]:
    """Counts as BIGINT, decimals and amounts as exact numbers (report.values' limits fit both)."""
    return [Column(column_name(entry.key), BigInteger if entry.kind in _WHOLE_KINDS else ExactNumber())
            for entry in entries()]


report_facts = Table(
    "report_facts", Base.metadata,
    Column("report_id", Integer, primary_key=True, autoincrement=False),
    Column("agency_id", Integer, nullable=False),
    Column("agency_slug", String(200), nullable=False),
    Column("agency", String(300), nullable=False),
    Column("region_code", String(6)),
    Column("province_code", String(6)),
    Column("prefecture_code", String(6)),
    Column("level", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("year", Integer, nullable=False),
    Column("format", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("document_url", Text, nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("tier", String(16)),
    Column("province_name", String(100)),
    Column("prefecture_name", String(100)),
    Column("region_name", String(100)),
    Column("title", Text),
    Column("published", Date),
    Column("deadline", Date),
    Column("timeliness", String(16), nullable=False),
    Column("ocr_used", Boolean, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("converted", Text),
    *_cell_columns(),
)
# The coverage page groups by year and province; an agency page reads its years.
Index("ix_report_facts_year_province_code", report_facts.c.year, report_facts.c.province_code)
Index("ix_report_facts_year_prefecture_code", report_facts.c.year, report_facts.c.prefecture_code)
Index("ix_report_facts_agency_id_year", report_facts.c.agency_id, report_facts.c.year)
# Covering indexes: reports per year and timeliness of a region; the amounts converted from 元.
Index("ix_report_facts_region_code_year_timeliness", report_facts.c.region_code, report_facts.c.year,
      report_facts.c.timeliness)
Index("ix_report_facts_converted", report_facts.c.converted)
# Coverage of a year, answered from the index alone (no wide row is read).
Index("ix_report_facts_coverage", report_facts.c.year, report_facts.c.region_code, report_facts.c.kind,
      report_facts.c.timeliness, report_facts.c.status, report_facts.c.agency_id)
# The coverage chart's reports per year and timeliness, counted in index order (0009).
Index("ix_report_facts_year_timeliness", report_facts.c.year, report_facts.c.timeliness)
# The SQL page's saved queries (nianbao.web.saved) read by year from these indexes alone (0009).
Index("ix_report_facts_applications", report_facts.c.year, report_facts.c.province_code,
      report_facts.c.province_name, report_facts.c.t3_new_total)
Index("ix_report_facts_review_outcomes", report_facts.c.year, report_facts.c.t4_review_corrected,
      report_facts.c.t4_review_total, report_facts.c.t4_review_pending)

_KEY_COLUMNS = {entry.key: column_name(entry.key) for entry in entries()}
_WHOLE_KEYS = frozenset(entry.key for entry in entries() if entry.kind in _WHOLE_KINDS)
_AMOUNT_KEYS = frozenset(entry.key for entry in entries() if entry.kind == "amount")


def timeliness(published: dt.date | None, deadline: dt.date) -> str:
    if published is None:
        return "unknown"
    return "on_time" if published <= deadline else "late"


def was_converted(key: str, raw: str | None) -> bool:
    """An amount printed in 元 (report.values converts it to 万元)."""
    if key not in _AMOUNT_KEYS or not raw:
        return False
    folded = "".join(raw.split())
    return folded.endswith("元") and not folded.endswith("万元")


def _report_rows(conn: Connection, report_ids: Sequence[int]) -> list[dict[str, Any]]:
    reports: Table = Report.__table__  # type: ignore[assignment]
    agencies: Table = Agency.__table__  # type: ignore[assignment]
    documents: Table = Document.__table__  # type: ignore[assignment]
    rows = conn.execute(
        select(reports.c.id, reports.c.agency_id, agencies.c.slug, agencies.c.name, agencies.c.region_code,
               agencies.c.level, agencies.c.kind, reports.c.year, reports.c.format, reports.c.status,
               documents.c.url, documents.c.sha256, reports.c.title, documents.c.listing_date)
        .join(agencies, agencies.c.id == reports.c.agency_id)
        .join(documents, documents.c.id == reports.c.document_id)
        .where(reports.c.id.in_(report_ids))).all()
    facts = []
    for (report_id, agency_id, slug, name, region_code, level, kind, year, fmt, status, url, sha256,
         title, published) in rows:
        due = deadline(year, kind, level)
        facts.append({
            "report_id": report_id, "agency_id": agency_id, "agency_slug": slug, "agency": name,
            "region_code": region_code,
            "province_code": regions.province_of(region_code) if region_code else None,
            "prefecture_code": regions.prefecture_of(region_code) if region_code else None,
            "level": level, "kind": kind, "year": year, "format": fmt, "status": status,
            "document_url": url, "document_sha256": sha256,
            "tier": regions.agency_tier(region_code, level),
            "province_name": regions.name(regions.province_of(region_code)) if region_code else None,
            "prefecture_name": regions.name(regions.prefecture_of(region_code)) if region_code else None,
            "region_name": regions.name(region_code),
            "title": title, "published": published, "deadline": due,
            "timeliness": timeliness(published, due), "ocr_used": False, "errors": 0, "warnings": 0,
            "converted": None, **dict.fromkeys(_KEY_COLUMNS.values()),
        })
    return facts


def _add_cells(conn: Connection, facts: dict[int, dict[str, Any]]) -> None:
    converted: dict[int, list[str]] = defaultdict(list)
    rows = conn.execute(select(_cells.c.report_id, _cells.c.key, _cells.c.value, _cells.c.raw)
                        .where(_cells.c.report_id.in_(list(facts))))
    for report_id, key, value, raw in rows:
        column = _KEY_COLUMNS.get(key)
        if column is None:
            continue  # a free label of a 2014-format report: long form only
        facts[report_id][column] = fact_value(key, value)
        if was_converted(key, raw):
            converted[report_id].append(key)
    for report_id, keys in converted.items():
        facts[report_id]["converted"] = " ".join(sorted(keys))


def fact_value(key: str, value: Decimal | None) -> int | Decimal | None:
    """A count column holds an int (a fractional count, which DOM flags, is kept out of it)."""
    if value is None or key not in _WHOLE_KEYS:
        return value
    return int(value) if value == value.to_integral_value() else None


def _add_findings_and_ocr(conn: Connection, facts: dict[int, dict[str, Any]]) -> None:
    findings: Table = Finding.__table__  # type: ignore[assignment]
    attempts: Table = ExtractionAttempt.__table__  # type: ignore[assignment]
    ids = list(facts)
    counts = conn.execute(select(findings.c.report_id, findings.c.severity, func.count())
                          .where(findings.c.report_id.in_(ids))
                          .group_by(findings.c.report_id, findings.c.severity))
    for report_id, severity, count in counts:
        if severity in ("error", "warning"):
            facts[report_id][f"{severity}s"] = count
    ocr = conn.execute(select(attempts.c.report_id).where(attempts.c.report_id.in_(ids), attempts.c.ocr_used))
    for (report_id,) in ocr:
        facts[report_id]["ocr_used"] = True


def fact_rows(conn: Connection, report_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The report_facts rows of these reports (current or not: the caller chooses)."""
    facts = {row["report_id"]: row for row in _report_rows(conn, report_ids)}
    if facts:
        _add_cells(conn, facts)
        _add_findings_and_ocr(conn, facts)
    return list(facts.values())


def _write(conn: Connection, report_ids: Sequence[int]) -> None:
    rows = fact_rows(conn, report_ids)
    if rows:
        conn.execute(insert(report_facts), rows)
    search.index_reports(conn, report_ids)


def refresh(conn: Connection, agency_years: Iterable[tuple[int, int]]) -> None:
    """Rewrite the rows of these agency-years from their current report (inside the load's transaction)."""
    wanted = set(agency_years)
    if not wanted:
        return
    reports: Table = Report.__table__  # type: ignore[assignment]
    agencies = {agency for agency, _ in wanted}
    years = {year for _, year in wanted}
    rows = conn.execute(select(reports.c.id, reports.c.agency_id, reports.c.year, reports.c.is_current)
                        .where(reports.c.agency_id.in_(agencies), reports.c.year.in_(years))).all()
    versions = [row for row in rows if (row.agency_id, row.year) in wanted]
    stale = [row.id for row in versions]
    current = [row.id for row in versions if row.is_current]
    for batch in _chunks(stale):
        conn.execute(delete(report_facts).where(report_facts.c.report_id.in_(batch)))
        search.unindex_reports(conn, batch)
    for batch in _chunks(current):
        _write(conn, batch)


def refresh_agency(conn: Connection, agency_id: int) -> None:
    """After an agency's name, region or kind changed: rewrite its rows."""
    reports: Table = Report.__table__  # type: ignore[assignment]
    years = conn.scalars(select(reports.c.year).where(reports.c.agency_id == agency_id)).all()
    refresh(conn, {(agency_id, year) for year in years})


def rebuild(conn: Connection, batch_size: int = 500) -> int:
    """Fill report_facts and the search index from every current report; returns the count."""
    reports: Table = Report.__table__  # type: ignore[assignment]
    conn.execute(delete(report_facts))
    search.clear(conn)
    ids = list(conn.scalars(select(reports.c.id).where(reports.c.is_current).order_by(reports.c.id)))
    for batch in _chunks(ids, batch_size):
        _write(conn, batch)
    return len(ids)


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def wide_view_sql() -> str:
    """report_wide: the researcher's wide form (its columns fixed since 0002), read from report_facts."""
    from warehouse.dictionary import WIDE_META_COLUMNS

    names = [name for name, _, _ in WIDE_META_COLUMNS] + list(_KEY_COLUMNS.values())
    return f"CREATE VIEW report_wide AS SELECT {', '.join(names)} FROM report_facts"
