"""The researchers' views, as portable SQL (the same text runs on SQLite and PostgreSQL).

Created and dropped only by migrations. `report_wide` has one column per
canonical cell key; its columns are fixed by the migration that creates it.
"""

from __future__ import annotations

from collections.abc import Iterable

from warehouse.dictionary import column_name

VIEW_NAMES = ("report_wide", "cells_labelled", "coverage", "findings_labelled")

_PROVINCE = "substr(a.region_code, 1, 2) || '0000'"
_PREFECTURE = "substr(a.region_code, 1, 4) || '00'"

_REPORT_COLUMNS = (
    "r.id AS report_id", "a.id AS agency_id", "a.slug AS agency_slug", "a.name AS agency", "a.region_code",
    f"{_PROVINCE} AS province_code", f"{_PREFECTURE} AS prefecture_code", "a.level", "a.kind",
    "r.year", "r.format", "r.status", "d.url AS document_url", "d.sha256 AS document_sha256",
)
_REPORT_JOINS = """FROM reports r
JOIN agencies a ON a.id = r.agency_id
JOIN documents d ON d.id = r.document_id"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def report_wide_sql(keys: Iterable[str]) -> str:
    pivots = [f"MAX(CASE WHEN c.key = {_quote(key)} THEN c.value END) AS {column_name(key)}" for key in keys]
    group_by = ("r.id, a.id, a.slug, a.name, a.region_code, a.level, a.kind, r.year, r.format, r.status, "
                "d.url, d.sha256")
    return (f"CREATE VIEW report_wide AS\nSELECT {', '.join(_REPORT_COLUMNS)},\n  " + ",\n  ".join(pivots)
            + f"\n{_REPORT_JOINS}\nLEFT JOIN cells c ON c.report_id = r.id\nWHERE r.is_current\n"
            + f"GROUP BY {group_by}")


CELLS_LABELLED = f"""CREATE VIEW cells_labelled AS
SELECT {', '.join(_REPORT_COLUMNS)},
  c.key, k.position, k.column_name, k.label_zh AS label, k.row_label, k.column_label, k.unit,
  c.value, c.raw, c.null_reason
{_REPORT_JOINS}
JOIN cells c ON c.report_id = r.id
LEFT JOIN cell_dictionary k ON k.key = c.key
WHERE r.is_current"""

FINDINGS_LABELLED = f"""CREATE VIEW findings_labelled AS
SELECT {', '.join(_REPORT_COLUMNS)},
  f.id AS finding_id, f.rule, l.label_zh AS rule_label, l.label_en AS rule_label_en,
  f.severity, f.cells, f.message, f.message_en
{_REPORT_JOINS}
JOIN findings f ON f.report_id = r.id
LEFT JOIN rule_labels l ON l.rule = f.rule
WHERE r.is_current"""

# Agencies × the years the warehouse has seen, each with its current report if any.
COVERAGE = f"""CREATE VIEW coverage AS
WITH seen_years AS (
  SELECT year FROM reports
  UNION
  SELECT year FROM documents WHERE year IS NOT NULL
),
agency_years AS (
  SELECT a.id AS agency_id, a.region_code, a.expected, y.year,
         {_PROVINCE} AS province_code, {_PREFECTURE} AS prefecture_code
  FROM agencies a CROSS JOIN seen_years y
  WHERE (a.first_year IS NULL OR y.year >= a.first_year)
    AND (a.last_year IS NULL OR y.year <= a.last_year)
)
SELECT ay.province_code, ay.prefecture_code, ay.region_code, g.name AS region_name, ay.year,
  SUM(CASE WHEN ay.expected THEN 1 ELSE 0 END) AS expected,
  SUM(CASE WHEN r.id IS NOT NULL THEN 1 ELSE 0 END) AS found,
  SUM(CASE WHEN r.status = 'accepted' THEN 1 ELSE 0 END) AS accepted,
  SUM(CASE WHEN r.status = 'quarantined' THEN 1 ELSE 0 END) AS quarantined,
  SUM(CASE WHEN ay.expected AND r.id IS NULL THEN 1 ELSE 0 END) AS missing
FROM agency_years ay
LEFT JOIN reports r ON r.agency_id = ay.agency_id AND r.year = ay.year AND r.is_current
LEFT JOIN regions g ON g.code = ay.region_code
GROUP BY ay.province_code, ay.prefecture_code, ay.region_code, g.name, ay.year"""


def create_statements(keys: Iterable[str]) -> list[str]:
    return [report_wide_sql(keys), CELLS_LABELLED, COVERAGE, FINDINGS_LABELLED]


def drop_statements() -> list[str]:
    return [f"DROP VIEW IF EXISTS {name}" for name in reversed(VIEW_NAMES)]
