"""What the web pages and the JSON API show, read from the warehouse on a read-only connection.

Every function takes a Connection and returns plain data (dicts, lists): the page renders
it, the API returns it as JSON. The wide figures come from report_facts, kept at load time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from report.agencies import deadline, today_in_china
from report.document import parts_from_json
from warehouse import regions, search
from warehouse.dictionary import column_name, entries
from warehouse.wide import timeliness

STATES = ("on_time", "late", "unknown", "not_due", "missing", "site_broken", "quarantined")
# The figures an agency page charts over the years.
MAIN_FIGURES = ("t3.new.total", "t3.disclosed.total", "t3.result_total.total", "t4.review.total",
                "t4.review.corrected", "t4.suit_direct.total", "t4.suit_after_review.total")
TIERS = regions.TIERS


def _rows(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(text(sql), params or {})]


def plain(value: Any) -> Any:
    """JSON-friendly: Decimal → int or float, dates → ISO strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


# ---------------------------------------------------------------- coverage
def years(conn: Connection) -> list[int]:
    """The report years with a current report, newest first (read from an index)."""
    found = conn.scalars(text("SELECT DISTINCT year FROM report_facts")).all()
    return sorted({int(y) for y in found}, reverse=True)


def _child_expression(region: str | None, column: str = "region_code") -> tuple[str, str]:
    """(SQL of the child region code one tier below `region`, LIKE prefix of `region`)."""
    if not region:
        return f"substr({column}, 1, 2) || '0000'", "%"
    tier = regions.region_tier(region)
    if tier == "province":
        return f"substr({column}, 1, 4) || '00'", region[:2] + "%"
    if tier == "prefecture":
        return column, region[:4] + "%"
    return column, region + "%"


def _filters(prefix: str, level: str | None, kind: str | None, tier: str | None,
             table: str) -> tuple[str, dict[str, Any]]:
    clauses = [f"{table}.region_code LIKE :prefix"]
    params: dict[str, Any] = {"prefix": prefix}
    for name, value in (("level", level), ("kind", kind), ("tier", tier)):
        if value:
            clauses.append(f"{table}.{name} = :{name}")
            params[name] = value
    return " AND ".join(clauses), params


def broken_sources(conn: Connection) -> set[str]:
    """Sources with an open site_broken alert (the cause key names the source)."""
    keys = conn.scalars(text("SELECT cause_key FROM alerts WHERE kind = 'site_broken' AND resolved_at IS NULL"))
    return {key.split(":", 1)[1] for key in keys if ":" in key}


def coverage(conn: Connection, *, year: int, region: str | None = None, level: str | None = None,
             kind: str | None = None, tier: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Per child region of `region` (provinces at the top): agencies expected and the deadline state."""
    today = today or today_in_china()
    child, prefix = _child_expression(region, "a.region_code")
    where, params = _filters(prefix, level, kind, tier, "a")
    params["year"] = year
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("expected", *STATES), 0))
    agencies = _rows(conn, f"""SELECT {child} AS code, a.kind, a.level, a.source_id, COUNT(*) AS n FROM agencies a
        WHERE a.expected AND {where} AND (a.first_year IS NULL OR a.first_year <= :year)
          AND (a.last_year IS NULL OR a.last_year >= :year)
        GROUP BY {child}, a.kind, a.level, a.source_id""", params)
    fact_child, _ = _child_expression(region, "f.region_code")
    fact_where, _ = _filters(prefix, level, kind, tier, "f")
    found = _rows(conn, f"""SELECT {fact_child} AS code, f.kind, a.level, a.source_id, f.timeliness, f.status,
            COUNT(*) AS n FROM report_facts f JOIN agencies a ON a.id = f.agency_id
        WHERE f.year = :year AND {fact_where}
        GROUP BY {fact_child}, f.kind, a.level, a.source_id, f.timeliness, f.status""", params)
    broken = broken_sources(conn)
    published: dict[tuple[str, str, str, str | None], int] = defaultdict(int)
    for row in found:
        counts[row["code"]][row["timeliness"]] += row["n"]
        if row["status"] == "quarantined":
            counts[row["code"]]["quarantined"] += row["n"]
        published[(row["code"], row["kind"], row["level"], row["source_id"])] += row["n"]
    for row in agencies:
        cell = counts[row["code"]]
        cell["expected"] += row["n"]
        absent = max(0, row["n"] - published.get((row["code"], row["kind"], row["level"], row["source_id"]), 0))
        if row["source_id"] in broken:
            cell["site_broken"] += absent
        elif today <= deadline(year, row["kind"], row["level"]):
            cell["not_due"] += absent
        else:
            cell["missing"] += absent
    totals = {name: sum(values[name] for values in counts.values()) for name in ("expected", *STATES)}
    children = [{"code": code, "name": regions.name(code), "tier": regions.region_tier(code), **values}
                for code, values in sorted(counts.items())]
    return {"year": year, "region": region, "region_path": regions.path(region) if region else [],
            "filters": {"level": level, "kind": kind, "tier": tier}, "children": children, "totals": totals}


def _code_range(region: str | None) -> tuple[str, dict[str, Any]]:
    """A region and everything below as a range of codes (an index serves it, unlike LIKE on SQLite)."""
    if not region:
        return "1 = 1", {}
    _, prefix = _child_expression(region)
    stem = prefix.rstrip("%")
    return ("region_code >= :low AND region_code < :high",
            {"low": stem, "high": stem[:-1] + chr(ord(stem[-1]) + 1)})


def coverage_by_year(conn: Connection, *, region: str | None = None) -> list[dict[str, Any]]:
    """Reports per year and timeliness (the chart under the table)."""
    where, params = _code_range(region)
    rows = _rows(conn, f"""SELECT year, timeliness, COUNT(*) AS n FROM report_facts
        WHERE {where} GROUP BY year, timeliness ORDER BY year""", params)
    by_year: dict[int, dict[str, int]] = defaultdict(lambda: {"on_time": 0, "late": 0, "unknown": 0})
    for row in rows:
        by_year[int(row["year"])][row["timeliness"]] += row["n"]
    return [{"year": year, **values} for year, values in sorted(by_year.items())]


def region_agencies(conn: Connection, *, region: str, year: int) -> list[dict[str, Any]]:
    """The agencies of a region (and below) with their report of `year`, if any."""
    _, prefix = _child_expression(region)
    return _rows(conn, """SELECT a.id, a.slug, a.name, a.region_code, a.level, a.kind, a.tier, a.source_id,
            f.report_id, f.status, f.timeliness, f.published, f.errors, f.warnings
        FROM agencies a LEFT JOIN report_facts f ON f.agency_id = a.id AND f.year = :year
        WHERE a.region_code LIKE :prefix ORDER BY a.region_code, a.name LIMIT 500""",
                 {"prefix": prefix, "year": year})


# ---------------------------------------------------------------- agency
def agency(conn: Connection, agency_id: int) -> dict[str, Any] | None:
    rows = _rows(conn, "SELECT id, slug, name, region_code, level, kind, tier, expected, first_year, "
                       "last_year, source_id FROM agencies WHERE id = :id", {"id": agency_id})
    if not rows:
        return None
    found = rows[0]
    found["region_path"] = regions.path(found["region_code"]) if found["region_code"] else []
    found["reports"] = _rows(conn, """SELECT r.id, r.year, r.format, r.status, r.is_current, r.title,
            d.listing_date AS published, d.url, d.first_seen_at, d.content_type,
            (SELECT COUNT(*) FROM findings f WHERE f.report_id = r.id AND f.severity = 'error') AS errors,
            (SELECT COUNT(*) FROM findings f WHERE f.report_id = r.id AND f.severity = 'warning') AS warnings
        FROM reports r JOIN documents d ON d.id = r.document_id
        WHERE r.agency_id = :id ORDER BY r.year DESC, r.is_current DESC, r.id DESC""", {"id": agency_id})
    for report in found["reports"]:
        due = deadline(int(report["year"]), found["kind"], found["level"])
        report["deadline"] = due
        published = report["published"]
        if isinstance(published, str):
            published = dt.date.fromisoformat(published)
        report["timeliness"] = timeliness(published, due)
    found["findings"] = _rows(conn, """SELECT f.report_id, r.year, f.rule, f.severity, f.message, f.message_en
        FROM findings f JOIN reports r ON r.id = f.report_id
        WHERE r.agency_id = :id AND r.is_current ORDER BY r.year DESC, f.id""", {"id": agency_id})
    found["trend"] = trend(conn, agency_id)
    found["trend_series"] = {key: [row[key] for row in found["trend"]] for key in MAIN_FIGURES}
    found["checks"] = cross_year_checks(found["trend"])
    return found


_TREND_KEYS = ("t3.new.total", "t3.disclosed.total", "t3.result_total.total", "t3.carried_over.total",
               "t3.carried_forward.total", "t4.review.total", "t4.review.upheld", "t4.review.corrected",
               "t4.suit_direct.total", "t4.suit_direct.corrected", "t4.suit_after_review.total",
               "t2.rules.in_force", "t2.rules.issued", "t2.rules.repealed",
               "t2.normative_docs.in_force", "t2.normative_docs.issued", "t2.normative_docs.repealed")


def trend(conn: Connection, agency_id: int) -> list[dict[str, Any]]:
    columns = ", ".join(column_name(key) for key in _TREND_KEYS)
    rows = _rows(conn, f"SELECT report_id, year, {columns} FROM report_facts WHERE agency_id = :id ORDER BY year",
                 {"id": agency_id})
    return [{"report_id": row["report_id"], "year": row["year"],
             **{key: plain(row[column_name(key)]) for key in _TREND_KEYS}} for row in rows]


def cross_year_checks(trend_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Carry-over (上年结转 = last year's 结转下年度) and stock (现行有效 = last year's + 制发 − 废止), per year."""
    checks = []
    for before, now in zip(trend_rows, trend_rows[1:], strict=False):
        if now["year"] != before["year"] + 1:
            continue
        carried = {"check": "carry_over", "year": now["year"], "previous": before["t3.carried_forward.total"],
                   "printed": now["t3.carried_over.total"]}
        carried["ok"] = None if None in (carried["previous"], carried["printed"]) \
            else carried["previous"] == carried["printed"]
        checks.append(carried)
        for row in ("rules", "normative_docs"):
            parts = (before[f"t2.{row}.in_force"], now[f"t2.{row}.issued"], now[f"t2.{row}.repealed"])
            expected = None if None in parts else parts[0] + parts[1] - parts[2]
            printed = now[f"t2.{row}.in_force"]
            checks.append({"check": f"stock_{row}", "year": now["year"], "previous": parts[0],
                           "issued": parts[1], "repealed": parts[2], "expected": expected, "printed": printed,
                           "ok": None if expected is None or printed is None else expected == printed})
    return checks


# ---------------------------------------------------------------- report
def report_head(conn: Connection, report_id: int) -> dict[str, Any] | None:
    """A report's agency, year, status and document, without its cells."""
    rows = _rows(conn, """SELECT r.id, r.agency_id, a.name AS agency, a.kind, a.region_code, r.year, r.format,
            r.status, r.is_current, r.title, r.reader, r.extractor_version, r.document_id, d.url, d.sha256,
            d.content_type, d.listing_date AS published, d.storage_key, d.parts
        FROM reports r JOIN agencies a ON a.id = r.agency_id JOIN documents d ON d.id = r.document_id
        WHERE r.id = :id""", {"id": report_id})
    if not rows:
        return None
    # a multipart document (a report over several HTML pages): its sha256 is a digest; each page
    # is in the raw store under its own, and a cell's page is the part it was read from
    rows[0]["parts"] = [{"url": part.url, "sha256": part.sha256} for part in parts_from_json(rows[0]["parts"])]
    return rows[0]


def report(conn: Connection, report_id: int) -> dict[str, Any] | None:
    found = report_head(conn, report_id)
    if found is None:
        return None
    found["cells"] = cells(conn, report_id)
    found["findings"] = _rows(conn, "SELECT id, rule, severity, cells, message, message_en FROM findings "
                                    "WHERE report_id = :id ORDER BY id", {"id": report_id})
    for finding in found["findings"]:
        if isinstance(finding["cells"], str):
            import json

            finding["cells"] = json.loads(finding["cells"])
    found["sections"] = _rows(conn, "SELECT section, text FROM report_sections WHERE report_id = :id",
                              {"id": report_id})
    found["versions"] = versions(conn, found["agency_id"], int(found["year"]))
    ocr = conn.scalar(text("SELECT MAX(CASE WHEN ocr_used THEN 1 ELSE 0 END) FROM extraction_attempts "
                           "WHERE report_id = :id"), {"id": report_id})
    found["ocr_used"] = bool(ocr)
    return found


def cells(conn: Connection, report_id: int) -> dict[str, dict[str, Any]]:
    """Every cell with its value and, when the reader knew it, where it was printed (cell_sources)."""
    result = {}
    for row in _rows(conn, """SELECT c.key, c.value, c.raw, c.null_reason, s.page, s.x0, s.y0, s.x1, s.y1, s.unit,
            s.grid_table, s.text AS source_text, s.confidence, s.corrected
        FROM cells c LEFT JOIN cell_sources s ON s.report_id = c.report_id AND s.key = c.key
        WHERE c.report_id = :id""", {"id": report_id}):
        edges = [row["x0"], row["y0"], row["x1"], row["y1"]]
        result[row["key"]] = {
            "value": plain(_figure(row["value"])), "raw": row["raw"], "null_reason": row["null_reason"],
            "page": row["page"], "bbox": None if None in edges else [float(e) for e in edges], "unit": row["unit"],
            "table": row["grid_table"], "source_text": row["source_text"], "confidence": row["confidence"],
            "corrected": bool(row["corrected"]) if row["corrected"] is not None else None}
    return result


def _figure(value: Any) -> Any:
    """A cell value as raw SQL gives it: SQLite keeps exact figures as their text (warehouse.models.ExactNumber)."""
    return Decimal(value) if isinstance(value, str) else value


def versions(conn: Connection, agency_id: int, year: int) -> list[dict[str, Any]]:
    """Every version of an agency-year's report, oldest first, with the cells changed from the one before."""
    found = _rows(conn, """SELECT r.id, r.status, r.is_current, r.loaded_at, d.first_seen_at, d.url, d.sha256
        FROM reports r JOIN documents d ON d.id = r.document_id
        WHERE r.agency_id = :a AND r.year = :y ORDER BY d.first_seen_at, r.id""", {"a": agency_id, "y": year})
    previous: dict[str, Any] | None = None
    for version in found:
        values = {key: cell["value"] for key, cell in cells(conn, version["id"]).items()}
        version["changes"] = [] if previous is None else [
            {"key": key, "before": previous.get(key), "after": values.get(key)}
            for key in sorted(previous.keys() | values.keys()) if previous.get(key) != values.get(key)]
        previous = values
    return found


def compare(conn: Connection, left: int, right: int) -> dict[str, Any]:
    """Two reports cell by cell (any two agencies or years), the differing keys marked."""
    a, b = cells(conn, left), cells(conn, right)
    keys = [entry.key for entry in entries() if entry.key in a or entry.key in b]
    rows = [{"key": key, "left": a.get(key, {}).get("value"), "right": b.get(key, {}).get("value")} for key in keys]
    for row in rows:
        row["differs"] = row["left"] != row["right"]
    return {"left": left, "right": right, "rows": rows, "differences": sum(row["differs"] for row in rows)}


def find_agencies(conn: Connection, name: str, limit: int = 20) -> list[dict[str, Any]]:
    """Agencies whose name contains `name`, each with its newest report."""
    return _rows(conn, f"""SELECT a.id, a.name, a.region_code,
            (SELECT MAX(f.report_id) FROM report_facts f WHERE f.agency_id = a.id) AS report_id
        FROM agencies a WHERE a.name LIKE :name ORDER BY a.name LIMIT {int(limit)}""", {"name": f"%{name}%"})


def report_choices(conn: Connection, agency_id: int) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT report_id, year FROM report_facts WHERE agency_id = :a ORDER BY year DESC",
                 {"a": agency_id})


# ---------------------------------------------------------------- search
def search_reports(conn: Connection, *, q: str = "", year: int | None = None, region: str | None = None,
                   agency: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """Reports by agency name, region and year; with `q`, the sections whose prose has every word."""
    clauses: list[str] = ["1 = 1"]
    params: dict[str, Any] = {}
    if year:
        clauses.append("year = :year")
        params["year"] = year
    if region:
        where, bounds = _code_range(region)
        clauses.append(where)
        params.update(bounds)
    if agency:
        clauses.append("agency LIKE :agency")
        params["agency"] = f"%{agency}%"
    where = " AND ".join(clauses)
    columns = "report_id, agency_id, agency, region_code, region_name, year, status, title"
    if not q.strip():
        return _rows(conn, f"SELECT {columns} FROM report_facts WHERE {where} ORDER BY year DESC, agency "
                           f"LIMIT {int(limit)}", params)
    narrow = f"SELECT report_id FROM report_facts WHERE {where}" if len(clauses) > 1 else None
    hits = search.matching_sections(conn, q, limit=limit, report_ids_sql=narrow, params=params)
    if not hits:
        return []
    facts = {row["report_id"]: row for row in _rows(
        conn, f"SELECT {columns} FROM report_facts WHERE report_id IN ({', '.join(str(h.report_id) for h in hits)})")}
    return [{**facts[hit.report_id], "section": hit.section, "snippet": hit.snippet}
            for hit in hits if hit.report_id in facts]


# ---------------------------------------------------------------- dictionary
def dictionary(conn: Connection) -> list[dict[str, Any]]:
    rows = _rows(conn, "SELECT key, column_name, position, table_id, section, row_label, column_label, unit, "
                       "kind, formats FROM cell_dictionary ORDER BY position")
    for row in rows:
        row["path"] = " › ".join(part for part in (row["section"], row["row_label"], row["column_label"]) if part)
        row["converted"] = None
        if row["kind"] == "amount":
            row["converted"] = conn.scalar(text("SELECT COUNT(*) FROM report_facts WHERE converted IS NOT NULL "
                                                "AND converted LIKE :k"), {"k": f"%{row['key']}%"})
    return rows


# ---------------------------------------------------------------- operations
ALERTS_SHOWN = 200


def _open_alerts(conn: Connection, today: dt.date, where: str = "1 = 1", params: dict[str, Any] | None = None, *,
                 limit: int | None) -> list[dict[str, Any]]:
    """Open alerts (by kind, newest first), each with its source: the agency's, or the one its details name."""
    from nianbao.alerts.messages import shown_text

    cut = f" LIMIT {int(limit)}" if limit is not None else ""
    rows = _rows(conn, f"""SELECT al.id, al.kind, al.cause_key, al.severity, al.year, al.message, al.opened_at,
            al.details, a.name AS agency, a.id AS agency_id, a.source_id
        FROM alerts al LEFT JOIN agencies a ON a.id = al.agency_id
        WHERE al.resolved_at IS NULL AND {where} ORDER BY al.kind, al.opened_at DESC, al.id DESC{cut}""", params)
    for row in rows:
        details = _json(row.pop("details"))
        row["source_id"] = row["source_id"] or (details or {}).get("source_id")
        row["message"] = shown_text(row["kind"], row["message"], details, today)   # a delay counted to today
    return rows


def _json(value: Any) -> Any:
    """A JSON column as raw SQL gives it: SQLite returns its text."""
    if isinstance(value, str):
        import json

        return json.loads(value)
    return value


def alerts(conn: Connection, today: dt.date | None = None) -> dict[str, Any]:
    """Open alerts counted by kind and by source (all of them), and the first ALERTS_SHOWN listed."""
    today = today or today_in_china()
    by_kind = {kind: int(n) for kind, n in conn.execute(text(
        "SELECT kind, COUNT(*) FROM alerts WHERE resolved_at IS NULL GROUP BY kind"))}
    by_source: dict[str, int] = defaultdict(int)
    for source_id, n in conn.execute(text(
            "SELECT a.source_id, COUNT(*) FROM alerts al JOIN agencies a ON a.id = al.agency_id "
            "WHERE al.resolved_at IS NULL AND a.source_id IS NOT NULL GROUP BY a.source_id")):
        by_source[source_id] += int(n)
    for (details,) in conn.execute(text(
            "SELECT al.details FROM alerts al LEFT JOIN agencies a ON a.id = al.agency_id "
            "WHERE al.resolved_at IS NULL AND a.source_id IS NULL")):
        by_source[(_json(details) or {}).get("source_id") or "—"] += 1
    shown = _open_alerts(conn, today, limit=ALERTS_SHOWN)
    return {"open": shown, "total": sum(by_kind.values()), "by_kind": dict(sorted(by_kind.items())),
            "by_source": dict(sorted(by_source.items()))}


def last_runs(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    return [_run(row) for row in _rows(conn, "SELECT id, source_id, started_at, finished_at, finish_reason, "
                                             f"stats FROM crawl_runs ORDER BY id DESC LIMIT {int(limit)}")]


def _run(row: dict[str, Any]) -> dict[str, Any]:
    row["stats"] = _json(row.pop("stats")) or {}
    return row


def source(conn: Connection, source_id: str, today: dt.date | None = None) -> dict[str, Any] | None:
    rows = _rows(conn, "SELECT id, name, cms, base_url, region_code FROM sources WHERE id = :id", {"id": source_id})
    if not rows:
        return None
    found = rows[0]
    found["region_name"] = regions.name(found["region_code"])
    found["runs"] = [_run(row) for row in _rows(
        conn, "SELECT id, source_id, started_at, finished_at, finish_reason, stats FROM crawl_runs "
              "WHERE source_id = :id ORDER BY id DESC LIMIT 50", {"id": source_id})]
    found["documents"] = conn.scalar(text("SELECT COUNT(*) FROM documents WHERE source_id = :id"), {"id": source_id})
    found["last_checked"] = conn.scalar(text("SELECT MAX(last_checked_at) FROM documents WHERE source_id = :id"),
                                        {"id": source_id})
    today = today or today_in_china()
    found["alerts"] = _open_alerts(conn, today, "a.source_id = :id", {"id": source_id}, limit=None) + [
        a for a in _open_alerts(conn, today, "a.source_id IS NULL", limit=None) if a["source_id"] == source_id]
    found["healthy"] = not any(a["kind"] == "site_broken" for a in found["alerts"])
    found["agencies"] = _rows(conn, "SELECT id, name FROM agencies WHERE source_id = :id", {"id": source_id})
    return found
