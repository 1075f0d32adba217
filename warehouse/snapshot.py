"""The warehouse by natural keys: what two harvests of the same sites must agree on.

Row ids, moments and the backend differ between two warehouses (a cluster and one machine,
two hosts, a run with killed connections and one without); what the rows mean must not. Each
table is read by the keys a person would use (agency slug, year, document sha256, cell key), and
the values are made comparable across backends: SQLite gives exact figures as text and booleans
as 0/1, PostgreSQL Decimals and booleans; dates come as text from one and as dates from the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import text

from warehouse.db import make_engine

NATURAL_KEYS = {
    "regions": "SELECT code, name, level, parent_code FROM regions",
    "sources": "SELECT id, name, cms, base_url, region_code FROM sources",
    "agencies": "SELECT slug, name, region_code, level, kind, tier, expected, first_year, source_id FROM agencies",
    "crawl_runs": "SELECT source_id, finish_reason FROM crawl_runs",
    "documents": "SELECT d.url, d.sha256, a.slug, d.year, d.listing_date, d.source_id, d.size FROM documents d "
                 "LEFT JOIN agencies a ON a.id = d.agency_id",
    "extraction_attempts": "SELECT d.sha256, e.outcome, e.error, e.reader, e.extractor_version "
                           "FROM extraction_attempts e JOIN documents d ON d.id = e.document_id",
    "reports": "SELECT a.slug, r.year, d.sha256, r.status, r.is_current, r.format, r.content_hash FROM reports r "
               "JOIN agencies a ON a.id = r.agency_id JOIN documents d ON d.id = r.document_id",
    "cells": "SELECT a.slug, r.year, d.sha256, c.key, c.value, c.raw, c.null_reason FROM cells c "
             "JOIN reports r ON r.id = c.report_id JOIN agencies a ON a.id = r.agency_id "
             "JOIN documents d ON d.id = r.document_id",
    "findings": "SELECT a.slug, r.year, d.sha256, f.rule, f.severity, f.message FROM findings f "
                "JOIN reports r ON r.id = f.report_id JOIN agencies a ON a.id = r.agency_id "
                "JOIN documents d ON d.id = r.document_id",
    "report_sections": "SELECT d.sha256, s.section, s.text FROM report_sections s "
                       "JOIN reports r ON r.id = s.report_id JOIN documents d ON d.id = r.document_id",
    "report_facts": "SELECT count(*) FROM report_facts",
    # not the cause key: it names the agency by its row id (two agencies may share a name)
    "alerts": "SELECT al.kind, a.slug, al.year, al.severity, al.message, al.resolved_at IS NULL "
              "FROM alerts al LEFT JOIN agencies a ON a.id = al.agency_id",
    "open_alerts": "SELECT al.kind, a.slug, al.year, al.severity, al.message FROM alerts al "
                   "LEFT JOIN agencies a ON a.id = al.agency_id WHERE al.resolved_at IS NULL",
}


def snapshot(url: str, tables: Iterable[str] = tuple(NATURAL_KEYS)) -> dict[str, list[str]]:
    """The rows of each named table by natural keys, as sorted comparable strings."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {name: sorted(repr(tuple(map(comparable, row))) for row in conn.execute(text(NATURAL_KEYS[name])))
                    for name in tables}
    finally:
        engine.dispose()


def comparable(value: object) -> object:
    """Numbers and booleans as floats (a numeric string too), dates as ISO text."""
    if isinstance(value, str):
        try:
            return float(Decimal(value))
        except ArithmeticError:
            return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return float(value) if isinstance(value, int | float | Decimal) else value


def differences(left: dict[str, list[str]], right: dict[str, list[str]], limit: int = 10) -> dict[str, dict]:
    """Per table that differs, the first rows only one side has."""
    return {name: {"left_only": sorted(set(left[name]) - set(right[name]))[:limit],
                   "right_only": sorted(set(right[name]) - set(left[name]))[:limit]}
            for name in left if left[name] != right.get(name)}
