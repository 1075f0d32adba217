"""The web application over a small warehouse, on SQLite and PostgreSQL: every page and its JSON twin,
the materialised wide table, region names and tiers, full-text search, and the read-only SQL page."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.fixtures.warehouse import make_record, register_agency
from warehouse.load import load_report

SHA = {name: name * 64 for name in "abcde"}


def _load(engine, record, agency_id: int, sha: str, published: str | None) -> int:
    record.provenance.sha256 = sha
    record.provenance.url = f"http://127.0.0.1/{sha[:8]}.pdf"
    record.provenance.listing_date = published
    return load_report(engine, record, agency_id=agency_id).report_id


@pytest.fixture
def filled(warehouse_engine, warehouse_url: str) -> dict:
    """Two agencies in 江苏 淮安 (a county government, a prefecture's department), two years each."""
    county = register_agency(warehouse_engine)
    bureau = register_agency(warehouse_engine, slug="huaian-health", name="淮安市卫生健康委员会",
                             region_code="320800", level="department", kind="department")
    silent = register_agency(warehouse_engine, slug="silent", name="淮安市沉默局", region_code="320800",
                             level="department", kind="department")
    ids = {
        "county_2023": _load(warehouse_engine, make_record(1, year=2023), county, SHA["a"], "2024-03-01"),
        "county_2024": _load(warehouse_engine, make_record(2, year=2024, errors=1), county, SHA["b"], "2025-04-20"),
        "bureau_2024": _load(warehouse_engine, make_record(3, agency="淮安市卫生健康委员会", year=2024,
                                                           warnings=1), bureau, SHA["c"], "2025-01-10"),
    }
    changed = make_record(3, agency="淮安市卫生健康委员会", year=2024, warnings=1)
    changed.cells["t3.new.total"] = 99999
    ids["bureau_2024_v2"] = _load(warehouse_engine, changed, bureau, SHA["d"], "2025-01-12")
    return {"url": warehouse_url, "county": county, "bureau": bureau, "silent": silent, **ids}


@pytest.fixture
def client(filled: dict, tmp_path) -> TestClient:
    import datetime as dt

    from nianbao.web.app import create_app

    app = create_app(filled["url"], str(tmp_path / "raw"), today=dt.date(2025, 6, 1))
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


def test_report_facts_are_kept_at_load_time_with_names_tier_and_timeliness(filled: dict, warehouse_engine) -> None:
    with warehouse_engine.connect() as conn:
        rows = {row.report_id: row for row in conn.execute(text(
            "SELECT report_id, agency_id, tier, kind, province_name, prefecture_name, region_name, timeliness, "
            "published, errors, warnings, t3_new_total FROM report_facts"))}
        wide = dict(conn.execute(text("SELECT report_id, t3_new_total FROM report_wide")).all())
        long_form = conn.scalar(text("SELECT value FROM cells WHERE report_id = :r AND key = 't3.new.total'"),
                                {"r": filled["county_2024"]})
        regions = dict(conn.execute(text("SELECT code, name FROM regions")).all())
    assert set(rows) == {filled["county_2023"], filled["county_2024"], filled["bureau_2024_v2"]}  # current only
    county, bureau = rows[filled["county_2024"]], rows[filled["bureau_2024_v2"]]
    assert (county.tier, county.kind) == ("county", "government")
    assert (bureau.tier, bureau.kind) == ("prefecture", "department")  # tier and kind apart
    assert (county.province_name, county.prefecture_name, county.region_name) == ("江苏省", "淮安市", "洪泽区")
    assert county.timeliness == "late" and rows[filled["county_2023"]].timeliness == "on_time"
    assert county.errors == 1 and bureau.warnings == 1
    assert Decimal(bureau.t3_new_total) == 99999 and wide[filled["bureau_2024_v2"]] == 99999
    assert Decimal(str(wide[filled["county_2024"]])) == Decimal(str(long_form))  # SQLite gives exact figures as text
    assert regions == {"320000": "江苏省", "320800": "淮安市", "320813": "洪泽区"}


def test_coverage_counts_the_deadline_states_per_region(client: TestClient) -> None:
    top = client.get("/api/coverage", params={"year": 2024}).json()
    assert [child["code"] for child in top["children"]] == ["320000"]
    assert top["children"][0]["name"] == "江苏省"
    totals = top["totals"]
    assert (totals["expected"], totals["on_time"], totals["late"], totals["missing"]) == (3, 1, 1, 1)
    assert totals["quarantined"] == 1
    prefecture = client.get("/api/coverage", params={"year": 2024, "region": "320800"}).json()
    assert {child["code"]: child["expected"] for child in prefecture["children"]} == {"320800": 2, "320813": 1}
    departments = client.get("/api/coverage", params={"year": 2024, "kind": "department"}).json()["totals"]
    assert departments["expected"] == 2 and departments["missing"] == 1
    assert client.get("/api/coverage", params={"region": "32"}).status_code == 400

    html = client.get("/", params={"year": 2024, "region": "320800"}).text
    assert "淮安市卫生健康委员会" in html and 'id="coverage-chart"' in html and "江苏省" in html


def test_agency_page_has_every_year_trends_and_cross_year_checks(client: TestClient, filled: dict) -> None:
    found = client.get(f"/api/agencies/{filled['county']}").json()
    assert [r["year"] for r in found["reports"]] == [2024, 2023]
    assert found["reports"][0]["timeliness"] == "late" and found["reports"][0]["errors"] == 1
    assert [row["year"] for row in found["trend"]] == [2023, 2024]
    carry = next(c for c in found["checks"] if c["check"] == "carry_over")
    assert carry["year"] == 2024 and carry["ok"] == (carry["previous"] == carry["printed"])
    assert found["region_path"][0] == ["320000", "江苏省"]
    html = client.get(f"/agencies/{filled['county']}").text
    assert 'id="trend-chart"' in html and 'id="checks-table"' in html
    assert client.get("/agencies/999999").status_code == 404


def test_report_page_prints_the_form_with_flagged_cells_and_versions(client: TestClient, filled: dict) -> None:
    html = client.get(f"/reports/{filled['county_2024']}").text
    assert 'id="form-t2"' in html and 'id="form-t3"' in html and 'id="form-t4"' in html
    assert 'class="cell flagged" data-key="t4.review.total"' in html
    assert "表四总计不等于各项之和" in html
    fragment = client.get(f"/reports/{filled['county_2024']}/cells/t4.review.total").text
    assert "表四总计不等于各项之和" in fragment and 'id="cell-value"' in fragment
    versions = client.get(f"/api/reports/{filled['bureau_2024_v2']}").json()["versions"]
    assert [v["id"] for v in versions] == [filled["bureau_2024"], filled["bureau_2024_v2"]]
    assert {"key": "t3.new.total", "after": 99999} .items() <= next(
        c for c in versions[1]["changes"] if c["key"] == "t3.new.total").items()


def test_compare_marks_the_differences(client: TestClient, filled: dict) -> None:
    result = client.get("/api/compare", params={"left": filled["bureau_2024"],
                                                "right": filled["bureau_2024_v2"]}).json()
    assert [row["key"] for row in result["rows"] if row["differs"]] == ["t3.new.total"]
    html = client.get("/compare", params={"left": filled["county_2023"], "right": filled["county_2024"]}).text
    assert 'class="differs"' in html


def test_full_text_search_finds_chinese_words_in_the_prose(client: TestClient, filled: dict) -> None:
    hits = client.get("/api/search", params={"q": "解读形式"}).json()
    assert {hit["report_id"] for hit in hits} == {filled["county_2023"], filled["county_2024"],
                                                  filled["bureau_2024_v2"]}
    assert all("解读形式" in hit["snippet"] for hit in hits)
    assert client.get("/api/search", params={"q": "形式解读"}).json() == []   # bigrams in order, not a bag
    in_2023 = client.get("/api/search", params={"q": "解读形式", "year": 2023}).json()
    assert [hit["report_id"] for hit in in_2023] == [filled["county_2023"]]
    by_name = client.get("/api/search", params={"agency": "卫生健康"}).json()
    assert [hit["report_id"] for hit in by_name] == [filled["bureau_2024_v2"]]
    assert "解读形式" in client.get("/search", params={"q": "解读形式"}).text


def test_sql_page_runs_saved_queries_and_downloads_them(client: TestClient) -> None:
    import pandas as pd

    from nianbao.web.saved import SAVED_QUERIES

    for query in SAVED_QUERIES:
        response = client.get("/api/sql", params={"sql": query.sql})
        assert response.status_code == 200, (query.id, response.text)
    never = client.get("/api/sql", params={"sql": SAVED_QUERIES[2].sql}).json()
    assert [row[0] for row in never["rows"]] == ["silent"]
    sql = "SELECT agency, year, t3_new_total FROM report_facts ORDER BY report_id"
    csv = client.get("/sql/download.csv", params={"sql": sql})
    assert csv.status_code == 200 and len(pd.read_csv(io.BytesIO(csv.content))) == 3
    xlsx = pd.read_excel(io.BytesIO(client.get("/sql/download.xlsx", params={"sql": sql}).content))
    parquet = pd.read_parquet(io.BytesIO(client.get("/sql/download.parquet", params={"sql": sql}).content))
    assert list(xlsx.columns) == list(parquet.columns) == ["agency", "year", "t3_new_total"]
    assert sorted(parquet["t3_new_total"]) == sorted(xlsx["t3_new_total"])
    cut = client.get("/api/sql", params={"sql": "SELECT * FROM cells", "limit": 5}).json()
    assert len(cut["rows"]) == 5 and cut["truncated"] is True
    assert 'id="sql-result"' in client.get("/sql", params={"query": "late_publishers"}).text


@pytest.mark.parametrize("statement", [
    "DELETE FROM reports",
    "UPDATE agencies SET name = 'x'",
    "CREATE TABLE x (a INTEGER)",
    "SELECT 1; DELETE FROM reports",
])
def test_sql_page_refuses_anything_but_reading(client: TestClient, statement: str) -> None:
    response = client.get("/api/sql", params={"sql": statement})
    assert response.status_code == 400
    assert client.get("/api/sql", params={"sql": "SELECT COUNT(*) FROM reports"}).json()["rows"] == [[4]]


def test_sql_page_stops_a_query_at_its_time_limit(client: TestClient, monkeypatch) -> None:
    from nianbao.web import app as web_app

    monkeypatch.setattr(web_app, "SQL_TIME_LIMIT_S", 0.5)
    endless = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
               "SELECT COUNT(*) FROM n")
    response = client.get("/api/sql", params={"sql": endless})
    assert response.status_code == 400 and "longer than" in response.json()["detail"]


def test_attach_is_refused_and_creates_no_file(filled: dict, tmp_path, client: TestClient) -> None:
    from warehouse.query import WarehouseError, run_query

    elsewhere = tmp_path / "elsewhere.db"
    assert client.get("/api/sql", params={"sql": f"ATTACH DATABASE '{elsewhere}' AS x"}).status_code == 400
    with pytest.raises(WarehouseError):  # `nianbao query` too
        run_query(f"ATTACH DATABASE '{elsewhere}' AS other", filled["url"])
    assert not elsewhere.exists()


def test_a_statement_cannot_turn_read_only_off(client: TestClient) -> None:
    for switch in ("PRAGMA query_only = OFF", "SET default_transaction_read_only = off",
                   "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"):
        assert client.get("/api/sql", params={"sql": switch}).status_code == 400
        assert client.get("/api/sql", params={"sql": "DELETE FROM report_years"}).status_code == 400
    assert client.get("/api/sql", params={"sql": "SELECT COUNT(*) FROM report_years"}).json()["rows"][0][0] > 0


def test_the_servers_connection_cannot_write(client: TestClient) -> None:
    from sqlalchemy.exc import DBAPIError

    with client.app.state.engine.connect() as conn, pytest.raises(DBAPIError):  # type: ignore[attr-defined]
        conn.execute(text("INSERT INTO report_years (year, format) VALUES (2099, '2021')"))


def test_dictionary_ops_and_language(client: TestClient) -> None:
    rows = {row["key"]: row for row in client.get("/api/dictionary").json()}
    assert rows["t3.withheld.state_secret.natural_person"]["path"].startswith("表三")
    assert rows["t2.fees.amount"]["unit"] == "万元"
    assert client.get("/api/ops/alerts").json()["open"] == []
    assert client.get("/api/ops/sources/nope").status_code == 404
    assert "覆盖情况" in client.get("/").text
    english = client.get("/", params={"lang": "en"})
    assert "Coverage" in english.text and english.cookies.get("lang") == "en"
    docs = client.get("/docs").text
    assert "/static/vendor/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert "/api/coverage" in client.get("/openapi.json").json()["paths"]
    assert client.get("/static/vendor/echarts.min.js").status_code == 200


def test_open_alerts_are_counted_in_full_and_listed_a_page_at_a_time(filled: dict, warehouse_engine, client,
                                                                     monkeypatch) -> None:
    """Counts by kind and by source cover every open alert; the list stops at ALERTS_SHOWN; a source's
    page has its agencies' alerts and the agency-less ones that name it."""
    import datetime as dt

    from sqlalchemy import insert, update

    from nianbao.web import data
    from warehouse.models import Agency, Alert, Source

    opened = dt.datetime(2025, 5, 2, tzinfo=dt.UTC)
    with warehouse_engine.begin() as conn:
        conn.execute(insert(Source), [{"id": "huaian", "name": "淮安市政府信息公开平台"}])
        conn.execute(update(Agency).where(Agency.id.in_([filled["county"], filled["bureau"]]))
                     .values(source_id="huaian"))
        conn.execute(insert(Alert), [
            {"kind": "late", "cause_key": f"late:{agency}:2024", "agency_id": agency, "year": 2024,
             "severity": "warning", "message": "逾期", "details": None, "opened_at": opened}
            for agency in (filled["county"], filled["bureau"], filled["silent"])] + [
            {"kind": "site_broken", "cause_key": "site_broken:huaian", "agency_id": None, "year": None,
             "severity": "error", "message": "无法访问",
             "details": {"source_id": "huaian"}, "opened_at": opened}])
    monkeypatch.setattr(data, "ALERTS_SHOWN", 2)
    found = client.get("/api/ops/alerts").json()
    assert found["total"] == 4 and len(found["open"]) == 2
    assert found["by_kind"] == {"late": 3, "site_broken": 1}
    assert found["by_source"] == {"huaian": 3, "—": 1}
    assert "alerts-cut" in client.get("/ops").text
    source = client.get("/api/ops/sources/huaian").json()
    assert sorted(a["cause_key"] for a in source["alerts"]) == sorted(
        [f"late:{filled['bureau']}:2024", f"late:{filled['county']}:2024", "site_broken:huaian"])
    assert source["healthy"] is False


def test_a_cell_with_page_and_bbox_is_boxed_on_its_page(filled: dict, warehouse_engine, tmp_path) -> None:
    """A cell whose source is a box in PDF points is drawn on its page's image; an OCR'd cell's box
    in pixels is scaled from the reader's resolution; a cell without a box shows page 1 unmarked."""
    import datetime as dt

    from reportlab.pdfgen import canvas

    from crawler.store import RawStore
    from extract.readers.ocr import DPI
    from nianbao.web.app import create_app
    from report.record import CellSource

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(600, 800))
    pdf.drawString(100, 600, "229")
    pdf.showPage()
    pdf.drawString(100, 600, "page two")
    pdf.save()
    store = tmp_path / "raw"
    sha = RawStore(str(store)).put(buffer.getvalue())
    record = make_record(7, year=2022)
    record.cell_sources = {
        "t3.new.total": CellSource(page=2, bbox=(60, 200, 120, 220), unit="pt", text=record.raw["t3.new.total"]),
        "t4.review.total": CellSource(page=1, bbox=(60 * DPI / 72, 400 * DPI / 72, 180 * DPI / 72, 420 * DPI / 72),
                                      unit="px", text=record.raw["t4.review.total"], confidence=0.75, corrected=True),
    }
    report_id = _load(warehouse_engine, record, filled["county"], sha, "2023-02-01")
    app = create_app(filled["url"], str(store), today=dt.date(2025, 6, 1))
    try:
        with TestClient(app) as client:
            fragment = client.get(f"/reports/{report_id}/cells/t3.new.total").text
            assert f"/documents/{sha}/pages/2.png" in fragment
            assert 'style="left: 10.0%; top: 25.0%; width: 10.0%; height: 2.5%"' in fragment
            image = client.get(f"/documents/{sha}/pages/2.png")
            assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
            scanned = client.get(f"/reports/{report_id}/cells/t4.review.total").text
            assert 'style="left: 10.0%; top: 50.0%; width: 20.0%; height: 2.5%"' in scanned
            assert 'id="cell-confidence">0.75<' in scanned and 'id="cell-corrected"' in scanned
            plain = client.get(f"/reports/{report_id}/cells/t3.disclosed.total").text
            assert f"/documents/{sha}/pages/1.png" in plain and 'id="cell-box"' not in plain
            assert client.get(f"/documents/{sha}/original").headers["content-type"] == "application/pdf"
            api = client.get(f"/api/reports/{report_id}").json()["cells"]["t3.new.total"]
            assert (api["page"], api["bbox"], api["unit"]) == (2, [60.0, 200.0, 120.0, 220.0], "pt")
    finally:
        app.state.engine.dispose()


def test_a_grid_cell_is_marked_in_its_table(filled: dict, warehouse_engine, tmp_path) -> None:
    """An HTML original: the cell's table is shown as the reader read it, the cell's own box marked."""
    import datetime as dt

    from crawler.store import RawStore
    from extract import extract_bytes
    from nianbao.web.app import create_app
    from sandbox.corpus import load_corpus

    [entry] = [e for e in load_corpus() if e.name == "chanhe-industry-2023-html"]
    data = entry.read_bytes()
    store = tmp_path / "raw"
    sha = RawStore(str(store)).put(data)
    record = extract_bytes(data)
    record.year = 2021  # a year the filled warehouse has no report of for this agency
    report_id = _load(warehouse_engine, record, filled["county"], sha, "2022-01-20")
    source = record.cell_sources["t3.new.total"]
    app = create_app(filled["url"], str(store), today=dt.date(2025, 6, 1))
    try:
        with TestClient(app) as client:
            fragment = client.get(f"/reports/{report_id}/cells/t3.new.total").text
            assert 'id="source-grid"' in fragment and 'id="page-image"' not in fragment
            marked = fragment.split('id="source-cell">', 1)[1].split("</td>", 1)[0]
            assert marked == source.text == record.raw["t3.new.total"]
            assert fragment.count('class="source-cell"') == 1
    finally:
        app.state.engine.dispose()


def test_renaming_an_agency_rewrites_its_wide_rows(filled: dict, warehouse_engine) -> None:
    from warehouse.db import session_scope
    from warehouse.load import upsert_agency

    with session_scope(warehouse_engine) as session:
        upsert_agency(session, slug="hongze", name="淮安市洪泽区人民政府办公室", region_code="320813",
                      level="county", kind="government")
    with warehouse_engine.connect() as conn:
        names = set(conn.scalars(text("SELECT agency FROM report_facts WHERE agency_id = :a"),
                                 {"a": filled["county"]}))
    assert names == {"淮安市洪泽区人民政府办公室"}


def test_a_multipart_reports_cell_is_marked_in_the_page_it_was_printed_on(filled: dict, warehouse_engine,
                                                                           tmp_path) -> None:
    """A report paginated over several HTML pages: each page is its own file in the raw store (the
    document's sha256 is a digest of theirs); a cell's page names the part whose table shows it."""
    import datetime as dt

    from sqlalchemy import text

    from crawler.store import RawStore
    from extract.api import extract_parts
    from nianbao.web.app import create_app
    from report.document import Part, parts_digest, parts_to_json
    from sandbox.corpus import CORPUS_DIR

    pages = [path.read_bytes() for path in sorted((CORPUS_DIR / "jlp-erlang-2022-paged-html").glob("part-*.html"))]
    store = RawStore(str(tmp_path / "raw"))
    parts = [Part(f"http://127.0.0.1/article_{n}.html", store.put(body)) for n, body in enumerate(pages, 1)]
    record = extract_parts(pages)
    record.year = 2021
    digest = parts_digest(parts)
    report_id = _load(warehouse_engine, record, filled["county"], digest, "2022-01-20")
    with warehouse_engine.begin() as conn:
        conn.execute(text("UPDATE documents SET parts = :parts WHERE sha256 = :sha"),
                     {"parts": parts_to_json(parts), "sha": digest})
    key, source = next((k, s) for k, s in sorted(record.cell_sources.items())
                       if s.unit == "grid" and (s.page or 1) > 1)
    app = create_app(filled["url"], str(tmp_path / "raw"), today=dt.date(2025, 6, 1))
    try:
        with TestClient(app) as client:
            page = client.get(f"/reports/{report_id}").text
            assert all(f"/documents/{part.sha256}/original" in page for part in parts)
            fragment = client.get(f"/reports/{report_id}/cells/{key}").text
            assert 'id="source-grid"' in fragment
            marked = fragment.split('id="source-cell">', 1)[1].split("</td>", 1)[0]
            assert marked == source.text == record.raw[key]
            assert client.get(f"/documents/{parts[source.page - 1].sha256}/original").content == pages[source.page - 1]
    finally:
        app.state.engine.dispose()
