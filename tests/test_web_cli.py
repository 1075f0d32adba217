"""The command line for people: `nianbao serve`, tables that fit the terminal, plain TSV when piped,
`--limit` saying when it cut, JSON output, friendly errors with exit 2, `--version`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from nianbao.cli import app
from tests.fixtures.warehouse import make_record, register_agency
from warehouse.load import load_report

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def filled(warehouse_engine: Engine, warehouse_url: str) -> str:
    agency = register_agency(warehouse_engine)
    for seed, year in ((1, 2023), (2, 2024)):
        record = make_record(seed, year=year)
        record.provenance.sha256 = f"{seed:064x}"
        load_report(warehouse_engine, record, agency_id=agency)
    return warehouse_url


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("nianbao ")


def test_piped_output_is_tsv_and_limit_says_it_cut(filled: str) -> None:
    result = invoke("query", "SELECT agency, year FROM report_wide ORDER BY year", "--limit", "1", "--url", filled)
    lines = result.stdout.splitlines()
    assert lines[:2] == ["agency\tyear", "淮安市洪泽区人民政府\t2023"]
    assert "cut at --limit 1" in result.stderr


def test_a_wide_table_on_a_terminal_turns_into_records(filled: str, monkeypatch) -> None:
    from rich.console import Console

    monkeypatch.setattr(Console, "is_terminal", property(lambda self: True))
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke("query", "SELECT * FROM report_wide", "--url", filled)
    assert "── row 1 ──" in result.stdout
    assert any(line.startswith("t3_new_total") and line.split()[-1].isdigit() for line in result.stdout.splitlines())
    narrow = invoke("query", "SELECT agency, year FROM report_wide", "--url", filled)
    assert "── row" not in narrow.stdout and "淮安市洪泽区人民政府" in narrow.stdout


def test_status_as_json_names_the_regions(filled: str) -> None:
    rows = json.loads(invoke("status", "--json", "--url", filled).stdout)
    assert {row["region_name"] for row in rows} == {"洪泽区"}


@pytest.mark.parametrize("url", ["nonsense://x", "not a url at all"])
def test_a_bad_url_is_a_message_and_exit_2(url: str) -> None:
    result = invoke("query", "SELECT 1", "--url", url)
    assert result.exit_code == 2 and "--url" in result.stderr and "Traceback" not in result.output


def test_export_into_an_existing_file_or_an_unwritable_folder_is_exit_2(filled: str, tmp_path) -> None:
    existing = tmp_path / "taken.csv"
    existing.write_text("keep me")
    result = invoke("export", "--year", "2024", "--format", "csv", "--out", str(existing), "--url", filled)
    assert result.exit_code == 2 and "existing file" in result.stderr and existing.read_text() == "keep me"
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    result = invoke("export", "--year", "2024", "--format", "csv", "--out", str(blocked / "sub"), "--url", filled)
    assert result.exit_code == 2 and "cannot write" in result.stderr


def test_serve_refuses_a_missing_warehouse(tmp_path) -> None:
    result = invoke("serve", "--url", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 2 and "cannot serve" in result.stderr
