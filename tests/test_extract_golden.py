"""Golden tests: every document of the sandbox corpus and the real reference reports
extract to their reviewed truth — every cell exactly (same keys, same values),
agency, year and format; look-alikes and hostile files to their expected finding.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from extract import Hints, extract_file, extract_isolated
from report.record import ReportRecord
from sandbox.corpus import CORPUS_DIR, CorpusEntry, load_corpus
from tests.fixtures.required import unavailable

REFERENCE_TRUTH = Path(__file__).parent / "reference"
SLOW_FORMS = {"scanned-pdf", "cid-pdf"}


def cell_diffs(got: ReportRecord, truth: ReportRecord) -> list[str]:
    """Every cell that differs, as readable lines (missing, extra, wrong value)."""
    lines = []
    for key in sorted(set(truth.cells) | set(got.cells)):
        if key not in got.cells:
            lines.append(f"missing {key} (truth {truth.cells[key]!r})")
        elif key not in truth.cells:
            lines.append(f"extra   {key} = {got.cells[key]!r} (printed {got.raw.get(key)!r})")
        elif got.cells[key] != truth.cells[key]:
            lines.append(f"wrong   {key} = {got.cells[key]!r} (printed {got.raw.get(key)!r}), truth {truth.cells[key]!r}")
    return lines


def assert_matches(got: ReportRecord, truth: ReportRecord, name: str) -> None:
    problems = cell_diffs(got, truth)
    for field in ("agency", "year", "format"):
        if getattr(got, field) != getattr(truth, field):
            problems.append(f"{field}: got {getattr(got, field)!r}, truth {getattr(truth, field)!r}")
    right = sum(1 for k in truth.cells if k in got.cells and got.cells[k] == truth.cells[k])
    assert not problems, f"{name}: {right}/{len(truth.cells)} cells right\n  " + "\n  ".join(problems[:40])


# ---------------------------------------------------------------- the real reports
@pytest.mark.parametrize("document", ["hongze-2024.pdf", "chanhe-industry-2024.txt"])
def test_reference_report_extracts_every_printed_cell(reference_dir: Path, document: str) -> None:
    truth_path = REFERENCE_TRUTH / f"{document.rsplit('.', 1)[0]}.record.json"
    truth = ReportRecord.model_validate(json.loads(truth_path.read_text(encoding="utf-8")))
    got = extract_file(reference_dir / document)
    assert_matches(got, truth, document)
    assert got.title == truth.title
    for section, text in truth.sections.items():
        assert "".join(got.sections.get(section, "").split()) == "".join(text.split()), section
    assert not got.errors()


# ---------------------------------------------------------------- the sandbox corpus
def _documents() -> list[Path]:
    if not CORPUS_DIR.is_dir():
        return []
    return sorted(p for p in CORPUS_DIR.iterdir()
                  if not p.name.startswith(".") and not p.name.endswith(".truth.json"))


@pytest.mark.parametrize("document", _documents(), ids=lambda p: p.name)
def test_every_corpus_document_has_a_truth(document: Path) -> None:
    truths = {entry.truth.file for entry in load_corpus()}
    assert document.name in truths, f"{document.name} has no reviewed truth file beside it"


# Known regressions, each with the cell it gets wrong; strict: the day it reads right, the mark must go.
KNOWN_WRONG: dict[str, str] = {}


def _entries() -> list[object]:
    params: list[object] = []
    for entry in load_corpus():
        marks = [pytest.mark.slow] if entry.truth.form in SLOW_FORMS else []
        if entry.name in KNOWN_WRONG:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[entry.name]))
        params.append(pytest.param(entry, id=entry.name, marks=marks))
    return params


def test_corpus_is_not_empty() -> None:
    assert len(load_corpus()) >= 10


@pytest.mark.parametrize("entry", _entries())
def test_corpus_document_extracts_to_its_truth(entry: CorpusEntry) -> None:
    truth = entry.truth
    hints = Hints(listing_title=truth.title, listing_date=truth.published)
    if truth.form == "hostile":  # as in production: in a worker with a time and memory limit
        got = extract_isolated(entry.path, hints, timeout_s=120, memory_mb=1024)
    else:
        got = extract_file(entry.path, hints)
    rules = [f.rule for f in got.findings]
    if truth.form == "doc" and shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        assert "needs-libreoffice" in rules
        missing = (f"{entry.name}: LibreOffice is not installed, so this .doc was only checked for its "
                   "needs-libreoffice finding, not against its truth (apt-get install libreoffice-writer)")
        unavailable(missing)
    if truth.record is None:
        expected = truth.expected_finding
        assert expected, f"{entry.name}: a {truth.kind} document without expected_finding"
        if expected == "needs-ocr" and got.provenance.ocr_pages:
            # With OCR available the image is read, and holds no tables.
            assert "no-tables" in rules or "not-a-report" in rules, rules
        else:
            assert expected in rules, f"{entry.name}: expected {expected}, got {rules}"
        assert not got.cells or truth.kind == "not-report"
        return
    assert_matches(got, truth.record, entry.name)
    if truth.form in SLOW_FORMS:
        assert got.provenance.ocr_pages, "a page without a usable text layer must be OCR'd"
