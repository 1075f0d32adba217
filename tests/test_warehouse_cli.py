"""`nianbao db`, `nianbao query` (read-only), `nianbao status` and `nianbao export` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from nianbao.cli import app
from tests.fixtures.warehouse import make_record, register_agency
from warehouse.db import head_revision
from warehouse.load import load_report
from warehouse.query import WarehouseError, run_query, single_statement

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_db_upgrade_downgrade_current(warehouse_url: str) -> None:
    result = invoke("db", "upgrade", "--url", warehouse_url)
    head = head_revision()
    assert result.exit_code == 0 and f"revision {head}" in result.output
    assert f"current: {head}" in invoke("db", "current", "--url", warehouse_url).output
    result = invoke("db", "downgrade", "base", "--url", warehouse_url)
    assert result.exit_code == 0 and "base (empty)" in result.output
    assert "current: none" in invoke("db", "current", "--url", warehouse_url).output


@pytest.fixture
def filled(warehouse_engine: Engine, warehouse_url: str) -> str:
    register_agency(warehouse_engine)
    register_agency(warehouse_engine, slug="hz-health", name="洪泽区卫生健康委员会", level="department", kind="department")
    register_agency(warehouse_engine, slug="guangdong", name="广东省人民政府", region_code="440000", level="province")
    load_report(warehouse_engine, make_record(1), agency_id="hongze", document_sha256="a" * 64)
    load_report(warehouse_engine, make_record(2, errors=1), agency_id="guangdong", document_sha256="b" * 64)
    return warehouse_url


def test_query_prints_table_csv_and_json(filled: str) -> None:
    sql = "SELECT agency_slug, year, t3_new_total FROM report_wide ORDER BY agency_slug"
    expected = run_query(sql, filled).rows
    table = invoke("query", sql, "--url", filled)
    assert table.exit_code == 0 and "guangdong" in table.output and "2 rows" in table.output
    as_csv = invoke("query", sql, "--format", "csv", "--url", filled).output.splitlines()
    assert as_csv[0] == "agency_slug,year,t3_new_total"
    assert as_csv[1:] == [f"{slug},{year},{int(total)}" for slug, year, total in expected]
    as_json = json.loads(invoke("query", sql, "--format", "json", "--limit", "1", "--url", filled).stdout)
    assert as_json == [{"agency_slug": "guangdong", "year": 2024, "t3_new_total": int(expected[0][2])}]


@pytest.mark.parametrize("sql", [
    "DELETE FROM regions",
    "UPDATE reports SET status = 'accepted'",
    "CREATE TABLE evil (x integer)",
    "SELECT 1; DELETE FROM regions",
])
def test_query_is_read_only(filled: str, sql: str) -> None:
    before = run_query("SELECT count(*) FROM regions", filled).rows
    result = invoke("query", sql, "--url", filled)
    assert result.exit_code == 2 and "error:" in result.output
    assert run_query("SELECT count(*) FROM regions", filled).rows == before
    assert run_query("SELECT status FROM reports ORDER BY id", filled).rows == [("accepted",), ("quarantined",)]


def test_statement_splitter_ignores_semicolons_in_strings_and_comments() -> None:
    assert single_statement("SELECT ';' AS x -- a; comment\n;") == "SELECT ';' AS x -- a; comment"
    with pytest.raises(WarehouseError):
        single_statement("SELECT 1; SELECT 2")
    with pytest.raises(WarehouseError):
        single_statement("  ;  ")


def test_status_prints_coverage_per_region_and_year(filled: str) -> None:
    result = invoke("status", "--url", filled)
    assert result.exit_code == 0
    lines = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()}  # piped: TSV
    # region, name, year, expected, found, accepted, quarantined, missing
    assert lines["320813"][2:] == ["2024", "2", "1", "1", "0", "1"]
    assert lines["440000"][2:] == ["2024", "1", "1", "0", "1", "0"]
    assert lines["total"][3:] == ["3", "2", "1", "1", "1"]
    by_province = invoke("status", "--by", "province", "--year", "2024", "--url", filled).output
    assert "320000" in by_province and "320813" not in by_province
    assert "no reports" in invoke("status", "--year", "1999", "--url", filled).output


def test_export_command_writes_three_files(filled: str, tmp_path: Path) -> None:
    result = invoke("export", "--year", "2024", "--region", "320000", "--format", "csv", "--out", str(tmp_path),
                    "--url", filled)
    assert result.exit_code == 0
    written = [Path(line) for line in result.output.splitlines()]
    assert [p.name for p in written] == [f"nianbao_2024_320000_{n}.csv" for n in ("wide", "long", "dictionary")]
    assert all(p.exists() for p in written)


def test_commands_explain_a_missing_warehouse(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    result = invoke("status", "--url", url)
    assert result.exit_code == 2 and "nianbao db upgrade" in result.output
    assert not (tmp_path / "none.db").exists()


def test_status_on_an_unmigrated_database_says_so(warehouse_url: str, warehouse_engine: Engine) -> None:
    with warehouse_engine.begin() as conn:
        conn.execute(text("DROP VIEW coverage"))
    result = invoke("status", "--url", warehouse_url)
    assert result.exit_code == 2 and "nianbao db upgrade" in result.output


def test_status_missing_lists_the_expected_agencies_without_a_report(filled: str) -> None:
    from warehouse.status import missing_reports

    missing = missing_reports(filled)
    assert [(m.slug, m.year, m.deadline.isoformat(), m.overdue) for m in missing] \
        == [("hz-health", 2024, "2025-01-31", True)]
    assert missing_reports(filled, region="440000") == []
    result = invoke("status", "--missing", "--url", filled)
    assert result.exit_code == 0 and "hz-health" in result.output and "2025-01-31" in result.output
    assert "no expected report is missing" in invoke("status", "--missing", "--region", "440000",
                                                     "--url", filled).output


def test_query_opens_a_sqlite_path_with_awkward_characters(tmp_path: Path) -> None:
    from warehouse.db import upgrade

    path = tmp_path / "a dir#1" / "warehouse.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    assert path.exists()
    assert run_query("SELECT count(*) FROM rule_labels", url).rows[0][0] > 0
    with pytest.raises(WarehouseError, match="readonly|only reading"):
        run_query("DELETE FROM rule_labels", url)
