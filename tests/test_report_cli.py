"""`nianbao validate`: the table, the JSON, and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from nianbao.cli.validate import register
from report.record import ReportRecord

REFERENCE = Path(__file__).parent / "reference"
HONGZE = REFERENCE / "hongze-2024.record.json"
CHANHE = REFERENCE / "chanhe-industry-2024.record.json"


def app() -> typer.Typer:
    """The validate command in an app with several commands, as `nianbao` has."""
    application = typer.Typer()

    @application.callback()
    def main() -> None:
        """nianbao"""

    register(application)
    return application


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app(), ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def broken_t4(tmp_path: Path) -> Path:
    record = ReportRecord.from_json(HONGZE.read_bytes())
    record.cells.update({"t4.review.upheld": 5, "t4.review.corrected": 6, "t4.review.total": 0})
    path = tmp_path / "broken.record.json"
    path.write_text(record.to_json(), encoding="utf-8")
    return path


def test_a_balanced_report_exits_0_and_shows_its_warnings() -> None:
    code, out, _ = run(str(HONGZE))
    assert code == 0
    assert "PROSE" in out and "warning" in out and "t3.new.total" in out
    assert "0 error(s), 1 warning(s)" in out


def test_no_findings_says_so() -> None:
    code, out, _ = run(str(CHANHE))
    assert code == 0
    assert "no findings" in out


def test_an_error_exits_1_and_names_the_cell(broken_t4: Path) -> None:
    code, out, _ = run(str(broken_t4))
    assert code == 1
    assert "T4-SUM" in out and "t4.review.total" in out and "error" in out


def test_json_output_is_the_findings_array(broken_t4: Path) -> None:
    code, out, _ = run(str(broken_t4), "--json")
    assert code == 1
    findings = json.loads(out)
    t4 = [f for f in findings if f["rule"] == "T4-SUM"]
    assert t4[0]["cells"][0] == "t4.review.total"
    assert t4[0]["severity"] == "error"
    assert t4[0]["message"] == "表四 行政复议 总计 印为 0，但各项之和为 11"
    assert {f["rule"] for f in findings} == {"T4-SUM", "PROSE"}


def test_previous_record_enables_the_year_to_year_rules(tmp_path: Path) -> None:
    previous = ReportRecord.from_json(HONGZE.read_bytes())
    previous.year = 2023
    previous.cells["t2.normative_docs.in_force"] = 7
    path = tmp_path / "hongze-2023.record.json"
    path.write_text(previous.to_json(), encoding="utf-8")
    code, out, _ = run(str(HONGZE), "--previous", str(path), "--json")
    assert code == 0
    assert [f["rule"] for f in json.loads(out)] == ["STOCK", "PROSE"]


@pytest.mark.parametrize(("content", "expected"), [
    (None, "cannot read"),
    ("not json", "is not a report record"),
    ('{"cells": [1, 2]}', "is not a report record: cells"),
    ("[]", "is not a report record"),
])
def test_a_missing_or_unparseable_file_exits_2(tmp_path: Path, content: str | None, expected: str) -> None:
    path = tmp_path / "record.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(str(path))
    assert code == 2
    assert expected in err
    assert "Traceback" not in out + err


def test_an_unreadable_previous_exits_2(tmp_path: Path) -> None:
    code, _, err = run(str(HONGZE), "--previous", str(tmp_path / "missing.json"))
    assert code == 2
    assert "missing.json" in err


def test_the_installed_command_runs_as_a_process(broken_t4: Path) -> None:
    program = "from nianbao.cli import app; app()"
    args = [str(broken_t4), "--json"]
    probe = subprocess.run([sys.executable, "-c", program, "--help"], capture_output=True, text=True, timeout=60)
    if "validate" in probe.stdout:  # a group of commands: the command is named
        args = ["validate", *args]
    done = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)[0]["rule"] == "T4-SUM"
