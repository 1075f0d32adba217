"""`nianbao extract`: records on stdout (one JSON object per line with --json),
directories expanded, exit status by findings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from nianbao.cli import app

runner = CliRunner()


def test_json_lines_carry_the_canonical_record_and_the_validators_findings(reference_dir: Path) -> None:
    result = runner.invoke(app, ["extract", str(reference_dir / "hongze-2024.pdf"), "--json"])
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["agency"] == "淮安市洪泽区人民政府" and record["year"] == 2024 and record["format"] == "2021"
    assert record["cells"]["t4.suit_after_review.total"] == 3
    assert record["provenance"]["reader"] == "pdf-text"
    assert record["file"].endswith("hongze-2024.pdf")
    # The overview's 17 applications against 表三's 95: the validator's PROSE warning is appended.
    assert "PROSE" in [f["rule"] for f in record["findings"]]
    assert result.exit_code == 0


def test_a_directory_takes_every_file_and_errors_set_the_exit_status(tmp_path: Path, reference_dir: Path) -> None:
    shutil.copy(reference_dir / "chanhe-industry-2024.txt", tmp_path / "a.txt")
    (tmp_path / "b.html").write_bytes(b"")
    result = runner.invoke(app, ["extract", str(tmp_path), "--json", "--jobs", "2"])
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [Path(r["file"]).name for r in records] == ["a.txt", "b.html"]
    assert records[0]["cells"]["t3.new.total"] == 0
    assert [f["rule"] for f in records[1]["findings"]] == ["empty-file"]
    assert result.exit_code == 1


def test_human_summary_names_agency_year_and_findings(reference_dir: Path) -> None:
    result = runner.invoke(app, ["extract", str(reference_dir / "chanhe-industry-2024.txt"), "--no-validate"])
    assert result.exit_code == 0
    assert "瀍河回族区工业和信息化局" in result.stdout and "2024" in result.stdout and "200 cells" in result.stdout


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path / "nope.pdf")])
    assert result.exit_code == 2
