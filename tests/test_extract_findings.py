"""The extraction findings: one registry (extract/findings.py), used by every reader and the pipeline,
and docs/findings.md generated from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from extract.findings import Findings, ids_with_outcome
from extract.findings_docs import DOCS, markdown_table, with_table
from extract.model import ReaderError, finding
from report.record import ReportRecord

ROOT = Path(__file__).resolve().parents[1]
# Where a finding id is given; the first argument must come from the registry.
TAKES_A_FINDING = {"ReaderError", "finding", "_failed"}


def test_docs_findings_md_is_the_registrys_table() -> None:
    current = DOCS.read_text(encoding="utf-8")
    assert with_table(current) == current, "docs/findings.md is out of date: run python -m extract.findings_docs"
    for member in Findings:
        assert f"| `{member.id}` | {member.severity} |" in current


def test_the_table_is_rewritten_between_the_markers_only() -> None:
    stale = DOCS.read_text(encoding="utf-8").replace(markdown_table(), "| `old-id` | error | failed | gone |")
    assert "old-id" in stale and with_table(stale) == DOCS.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        with_table("# no markers here\n")


def test_a_misspelt_id_fails() -> None:
    assert Findings.of("broken-pdf") is Findings.BROKEN_PDF
    with pytest.raises(KeyError, match="broken-pfd"):
        Findings.of("broken-pfd")


def test_ids_are_unique_kebab_case_and_a_failure_is_an_error() -> None:
    ids = [member.id for member in Findings]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:-[a-z]+)*", i) for i in ids), ids
    assert all(m.severity == "error" for m in Findings if m.outcome in ("failed", "not_report"))


def test_a_finding_takes_its_severity_from_the_registry() -> None:
    made = finding(Findings.NO_TABLES, "报告中没有找到统计表", "no report tables found")
    assert (made.rule, made.severity) == ("no-tables", "warning")
    error = ReaderError(Findings.CHALLENGE_PAGE, "验证页面", "a challenge page")
    assert (error.finding().rule, error.finding().severity) == ("challenge-page", "warning")


def _bare_ids() -> list[str]:
    wrong = []
    for package in ("extract", "nianbao", "crawler", "warehouse", "report", "sandbox"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in TAKES_A_FINDING
                        and node.args and isinstance(node.args[0], ast.Constant | ast.JoinedStr)):
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return wrong


def test_no_code_names_a_finding_by_a_bare_string() -> None:
    assert not _bare_ids(), "use extract.findings.Findings:\n" + "\n".join(_bare_ids())


@pytest.mark.parametrize("member", list(Findings), ids=lambda m: m.id)
def test_the_pipeline_files_a_document_by_its_findings_outcome(member: Findings) -> None:
    from nianbao.stages.process import outcome_of

    record = ReportRecord(agency="某县人民政府", year=2024, format="2021", cells={"t2.rules.made": 0},
                          findings=[finding(member, "中文", "english")])
    on_the_record = "quarantined" if member.severity == "error" else "accepted"
    expected = {"failed": "failed", "not_report": "not_report", None: on_the_record}[member.outcome]
    assert outcome_of(record) == expected
    assert (member.id in ids_with_outcome("failed")) is (member.outcome == "failed")
