"""`nianbao serve`: the web application over the warehouse (FastAPI, server-rendered Jinja2 pages).

Read-only by design: the one engine is `warehouse.query.read_only_engine` (SQLite opened
`mode=ro` with a read-only authorizer, PostgreSQL with default_transaction_read_only).
Every page has a JSON twin under /api (OpenAPI at /openapi.json, docs at /docs); every
asset, the charting library included, comes from /static.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection, Engine
from sqlalchemy.pool import QueuePool

from nianbao.web import data, i18n, layout, saved
from nianbao.web.documents import Originals, box_on_page
from report.agencies import today_in_china
from warehouse import regions
from warehouse.dictionary import entries
from warehouse.query import WarehouseError, read_only_engine, run_on

HERE = Path(__file__).resolve().parent
SQL_ROW_LIMIT = 1000
SQL_DOWNLOAD_ROW_LIMIT = 100_000
SQL_TIME_LIMIT_S = 5.0
# The SQL page runs queries only; the connection refuses writes whatever the statement (defence in depth).
READ_STATEMENTS = frozenset({"select", "with", "values", "explain", "table"})
_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)
LEVELS = ("province", "prefecture", "county", "township", "department")
KINDS = ("government", "department")


def connection(request: Request) -> Iterator[Connection]:
    """A read-only connection for one request; whatever it did is rolled back."""
    with request.app.state.engine.connect() as conn:
        try:
            yield conn
        finally:
            conn.rollback()


Conn = Annotated[Connection, Depends(connection)]


def where_printed(found: dict[str, Any], page_number: int | None) -> tuple[str, int | None]:
    """The raw-store sha256 of the file a page was printed in, and the page within it: a
    multipart document's page N is its part N, a file of its own."""
    parts = found.get("parts") or []
    if not parts:
        return found["sha256"], page_number
    index = min(max((page_number or 1) - 1, 0), len(parts) - 1)
    return parts[index]["sha256"], 1


def create_app(url: str, raw_store: str, *, today: dt.date | None = None) -> FastAPI:
    """The application over the warehouse at `url`; originals are read from `raw_store`.

    `today` fixes the date the deadlines are judged against (the demo's, in tests).
    """
    engine = _engine(url)
    originals = Originals(raw_store)
    labels = {entry.key: entry for entry in entries()}
    app = FastAPI(title="nianbao", description="政府信息公开工作年度报告 — read-only API over the warehouse",
                  docs_url=None, redoc_url=None)
    app.state.engine = engine
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["num"] = _number
    templates.env.globals.update(regions=regions, labels=labels, LEVELS=LEVELS, KINDS=KINDS, TIERS=data.TIERS,
                                 STATES=data.STATES, json=lambda value: json.dumps(data.plain(value),
                                                                                     ensure_ascii=False))

    def page(request: Request, name: str, **context: Any) -> HTMLResponse:
        lang = i18n.choose(request.query_params.get("lang"), request.cookies.get("lang"))
        response = templates.TemplateResponse(request, name, {"t": i18n.translate(lang), "lang": lang, **context})
        if request.query_params.get("lang") in i18n.LANGUAGES:
            response.set_cookie("lang", lang, samesite="lax")
        return response

    def as_of() -> dt.date:
        return today or today_in_china()

    def latest_year(conn: Connection) -> int:
        seen = data.years(conn)
        return seen[0] if seen else as_of().year - 1

    # ------------------------------------------------------------ coverage
    @app.get("/", response_class=HTMLResponse, tags=["pages"])
    def coverage_page(request: Request, conn: Conn, year: int | None = None, region: str | None = None,
                      level: str | None = None, kind: str | None = None, tier: str | None = None) -> HTMLResponse:
        region = _region(region)
        seen = data.years(conn)
        year = year or (seen[0] if seen else as_of().year - 1)
        found = data.coverage(conn, year=year, region=region, level=level or None, kind=kind or None,
                              tier=tier or None, today=as_of())
        agencies = data.region_agencies(conn, region=region, year=year) if region else []
        return page(request, "coverage.html", coverage=found, years=seen, agencies=agencies,
                    by_year=data.coverage_by_year(conn, region=region))

    @app.get("/api/coverage", tags=["api"])
    def coverage_api(conn: Conn, year: int | None = None, region: str | None = None, level: str | None = None,
                     kind: str | None = None, tier: str | None = None) -> Any:
        """Agencies expected and their deadline state, per child region of `region` (provinces at the top)."""
        region = _region(region)
        return data.plain(data.coverage(conn, year=year or latest_year(conn), region=region, level=level,
                                        kind=kind, tier=tier, today=as_of()))

    @app.get("/api/coverage/years", tags=["api"])
    def coverage_years_api(conn: Conn, region: str | None = None) -> Any:
        """Reports per year: on time, late, date unknown."""
        return data.coverage_by_year(conn, region=_region(region))

    @app.get("/api/regions/{code}/agencies", tags=["api"])
    def region_agencies_api(conn: Conn, code: str, year: int | None = None) -> Any:
        """The agencies of a region and below, with their report of `year`."""
        return data.plain(data.region_agencies(conn, region=_region(code) or "", year=year or latest_year(conn)))

    # ------------------------------------------------------------ agency
    @app.get("/agencies/{agency_id}", response_class=HTMLResponse, tags=["pages"])
    def agency_page(request: Request, conn: Conn, agency_id: int) -> HTMLResponse:
        found = _found(data.agency(conn, agency_id))
        return page(request, "agency.html", agency=found, figures=data.MAIN_FIGURES)

    @app.get("/api/agencies/{agency_id}", tags=["api"])
    def agency_api(conn: Conn, agency_id: int) -> Any:
        """An agency: every year's report with its status and findings, trends, cross-year checks."""
        return data.plain(_found(data.agency(conn, agency_id)))

    # ------------------------------------------------------------ report
    @app.get("/reports/{report_id}", response_class=HTMLResponse, tags=["pages"])
    def report_page(request: Request, conn: Conn, report_id: int) -> HTMLResponse:
        found = _found(data.report(conn, report_id))
        flagged: dict[str, list[dict[str, Any]]] = {}
        for finding in found["findings"]:
            for key in finding["cells"] or []:
                flagged.setdefault(key, []).append(finding)
        tables = layout.form(found["format"])
        unplaced = sorted(set(found["cells"]) - layout.keys(tables))
        original, _ = where_printed(found, 1)
        return page(request, "report.html", report=found, tables=tables, flagged=flagged, unplaced=unplaced,
                    pages=originals.page_count(original), has_original=originals.get(original) is not None)

    @app.get("/reports/{report_id}/cells/{key}", response_class=HTMLResponse, tags=["pages"])
    def cell_fragment(request: Request, conn: Conn, report_id: int, key: str) -> HTMLResponse:
        """The cell's value and findings, and where it was printed: the page of the original with
        the cell's box marked, or (HTML, DOCX, sheets) the table with the cell marked."""
        found = _found(data.report(conn, report_id))
        cell = found["cells"].get(key) or {"value": None, "raw": None, "page": None, "bbox": None, "unit": None}
        page_number, box, grid = None, None, None
        original, printed_page = where_printed(found, cell.get("page"))
        if cell.get("unit") == "grid" and cell.get("bbox") and cell.get("table"):
            x0, y0, _, _ = cell["bbox"]
            grid = originals.grid(original, printed_page, cell["table"], int(y0), int(x0))
        else:
            image = originals.page(original, printed_page or 1)
            if image is not None:
                page_number = printed_page or 1
                box = box_on_page(cell.get("bbox"), cell.get("unit"), image)
        findings = [f for f in found["findings"] if key in (f["cells"] or [])]
        return page(request, "cell.html", report=found, key=key, cell=cell, findings=findings, box=box, grid=grid,
                    page_number=page_number, original=original, has_original=originals.get(original) is not None)

    @app.get("/api/reports/{report_id}", tags=["api"])
    def report_api(conn: Conn, report_id: int) -> Any:
        """A report: every cell (with page and bbox when stored), findings, prose, versions and their changes."""
        return data.plain(_found(data.report(conn, report_id)))

    @app.get("/documents/{sha256}/original", tags=["pages"])
    def original(sha256: str) -> Response:
        """The original document: PDFs inline, anything else as a download (never rendered as our page)."""
        body = originals.get(_sha(sha256))
        if body is None:
            raise HTTPException(404, "not in the raw store")
        if body[:1024].lstrip().startswith(b"%PDF"):
            return Response(body, media_type="application/pdf")
        return Response(body, media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{sha256[:16]}"',
                                 "Content-Security-Policy": "sandbox"})

    @app.get("/documents/{sha256}/pages/{number}.png", tags=["pages"])
    def page_image(sha256: str, number: int) -> Response:
        image = originals.page(_sha(sha256), number)
        if image is None:
            raise HTTPException(404, "no such page (or the original is neither a PDF nor an image)")
        return Response(image.png, media_type="image/png", headers={"Cache-Control": "max-age=86400"})

    # ------------------------------------------------------------ compare
    @app.get("/compare", response_class=HTMLResponse, tags=["pages"])
    def compare_page(request: Request, conn: Conn, left: int | None = None, right: int | None = None,
                     find: str = "") -> HTMLResponse:
        """Pick two reports (of one agency's years, or of two agencies) and see them cell by cell."""
        heads = {side: data.report_head(conn, rid) if rid else None for side, rid in (("left", left), ("right", right))}
        result = data.compare(conn, left, right) if left and right and heads["left"] and heads["right"] else None
        years = {side: data.report_choices(conn, head["agency_id"]) if head else []
                 for side, head in heads.items()}
        found = data.find_agencies(conn, find) if find.strip() else []
        return page(request, "compare.html", result=result, heads=heads, years=years, left=left, right=right,
                    find=find, found=found)

    @app.get("/api/compare", tags=["api"])
    def compare_api(conn: Conn, left: int, right: int) -> Any:
        """Two reports (two agencies or two years) cell by cell, differences marked."""
        _found(data.report_head(conn, left))
        _found(data.report_head(conn, right))
        return data.plain(data.compare(conn, left, right))

    # ------------------------------------------------------------ search
    @app.get("/search", response_class=HTMLResponse, tags=["pages"])
    def search_page(request: Request, conn: Conn, q: str = "", year: int | None = None, region: str | None = None,
                    agency: str = "") -> HTMLResponse:
        hits = data.search_reports(conn, q=q, year=year, region=_region(region), agency=agency)
        return page(request, "search.html", hits=hits, q=q, year=year, region=region or "", agency=agency,
                    years=data.years(conn))

    @app.get("/api/search", tags=["api"])
    def search_api(conn: Conn, q: str = "", year: int | None = None, region: str | None = None,
                   agency: str = "", limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
        """Reports by agency name, region and year; with `q`, full-text search of the prose (Chinese bigrams)."""
        return data.plain(data.search_reports(conn, q=q, year=year, region=_region(region), agency=agency,
                                              limit=limit))

    # ------------------------------------------------------------ SQL
    def run_sql(conn: Connection, sql: str, limit: int) -> Any:
        try:
            return read_query(conn, sql, limit)
        except WarehouseError as error:
            raise HTTPException(400, str(error)) from error

    @app.get("/sql", response_class=HTMLResponse, tags=["pages"])
    def sql_page(request: Request, conn: Conn, sql: str = "", query: str = "") -> HTMLResponse:
        chosen = saved.saved(query)
        sql = sql or (chosen.sql if chosen else "")
        result, error = None, None
        if sql.strip():
            try:
                result = read_query(conn, sql, SQL_ROW_LIMIT)
            except WarehouseError as problem:
                error = str(problem)
        return page(request, "sql.html", sql=sql, result=result, error=error, saved=saved.SAVED_QUERIES,
                    limit=SQL_ROW_LIMIT)

    @app.get("/api/sql", tags=["api"])
    def sql_api(conn: Conn, sql: str, limit: Annotated[int, Query(ge=1, le=SQL_ROW_LIMIT)] = SQL_ROW_LIMIT) -> Any:
        """One read-only statement (time limit 5 s, at most 1000 rows; `truncated` says when it cut)."""
        result = run_sql(conn, sql, limit)
        return {"columns": result.columns, "rows": data.plain(result.rows), "truncated": result.truncated}

    @app.get("/api/sql/saved", tags=["api"])
    def saved_api() -> Any:
        """The saved queries of the SQL page."""
        return [query.__dict__ for query in saved.SAVED_QUERIES]

    @app.get("/sql/download.{fmt}", tags=["api"])
    def sql_download(conn: Conn, fmt: str, sql: str) -> Response:
        """The result of one read-only statement as csv, xlsx or parquet (at most 100,000 rows)."""
        if fmt not in saved.DOWNLOAD_TYPES:
            raise HTTPException(404, f"format must be one of {', '.join(saved.DOWNLOAD_TYPES)}")
        result = run_sql(conn, sql, SQL_DOWNLOAD_ROW_LIMIT)
        try:
            body = saved.as_file(result, fmt)
        except WarehouseError as error:
            raise HTTPException(400, str(error)) from error
        return Response(body, media_type=saved.DOWNLOAD_TYPES[fmt],
                        headers={"Content-Disposition": f'attachment; filename="nianbao-query.{fmt}"'})

    # ------------------------------------------------------------ dictionary
    @app.get("/dictionary", response_class=HTMLResponse, tags=["pages"])
    def dictionary_page(request: Request, conn: Conn) -> HTMLResponse:
        from warehouse.dictionary import WIDE_META_COLUMNS
        from warehouse.wide import FACT_COLUMNS

        return page(request, "dictionary.html", rows=data.dictionary(conn), meta=WIDE_META_COLUMNS + FACT_COLUMNS)

    @app.get("/api/dictionary", tags=["api"])
    def dictionary_api(conn: Conn) -> Any:
        """Every cell key: its label with the full group path, unit, formats, and how many amounts were converted."""
        return data.dictionary(conn)

    # ------------------------------------------------------------ operations
    @app.get("/ops", response_class=HTMLResponse, tags=["pages"])
    def ops_page(request: Request, conn: Conn) -> HTMLResponse:
        return page(request, "ops.html", alerts=data.alerts(conn), runs=data.last_runs(conn))

    @app.get("/ops/sources/{source_id}", response_class=HTMLResponse, tags=["pages"])
    def source_page(request: Request, conn: Conn, source_id: str) -> HTMLResponse:
        return page(request, "source.html", source=_found(data.source(conn, source_id)))

    @app.get("/api/ops/alerts", tags=["api"])
    def alerts_api(conn: Conn) -> Any:
        """Open alerts, with counts by kind and by source."""
        return data.plain(data.alerts(conn))

    @app.get("/api/ops/runs", tags=["api"])
    def runs_api(conn: Conn, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> Any:
        """The last crawl runs."""
        return data.plain(data.last_runs(conn, limit))

    @app.get("/api/ops/sources/{source_id}", tags=["api"])
    def source_api(conn: Conn, source_id: str) -> Any:
        """A source's crawl history and health."""
        return data.plain(_found(data.source(conn, source_id)))

    # ------------------------------------------------------------ the rest
    @app.get("/lang/{lang}", tags=["pages"])
    def switch_language(lang: str, next: str = "/") -> RedirectResponse:
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie("lang", i18n.choose(lang, None), samesite="lax")
        return response

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="nianbao API",
                                   swagger_js_url="/static/vendor/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui.css", swagger_favicon_url="/static/favicon.svg")

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": error.detail}, status_code=error.status_code)
        response = page(request, "error.html", status=error.status_code, detail=error.detail)
        response.status_code = error.status_code
        return response

    return app


def read_query(conn: Connection, sql: str, limit: int) -> Any:
    """One read-only statement of the SQL page, with its time and row limit."""
    words = _LEADING_COMMENTS.sub("", sql).lstrip("(").split(None, 1)
    if not words or words[0].lower() not in READ_STATEMENTS:
        raise WarehouseError(f"only queries may run here ({', '.join(sorted(READ_STATEMENTS)).upper()})")
    return run_on(conn, sql, limit=limit, timeout=SQL_TIME_LIMIT_S)


def _engine(url: str) -> Engine:
    from warehouse.db import is_sqlite, resolve_url

    if is_sqlite(resolve_url(url)):
        return read_only_engine(url, poolclass=QueuePool, pool_size=4, max_overflow=4)
    return read_only_engine(url, pool_size=4, max_overflow=4)


def _found(value: Any) -> Any:
    if value is None:
        raise HTTPException(404, "not found")
    return value


def _region(code: str | None) -> str | None:
    if not code:
        return None
    if len(code) != 6 or not code.isdigit():
        raise HTTPException(400, f"region must be a 6-digit 行政区划代码, got {code!r}")
    return code


def _sha(value: str) -> str:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise HTTPException(404, "not a document")
    return value


def _number(value: Any) -> str:
    if value is None:
        return ""
    plain = data.plain(value)
    if isinstance(plain, float):
        return f"{plain:,.4f}".rstrip("0").rstrip(".")
    if isinstance(plain, int):
        return f"{plain:,}"
    return str(plain)
