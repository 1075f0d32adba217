"""The hand-reviewed reference records: well-formed, canonical, and faithful to the source.

They are the truth the extraction engineer compares against, so these tests check them
against the source documents in shared/reference/ as well as against the catalogue.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest

from report.catalogue import SECTION_KEYS, T3_OTHER_SPLIT_ROWS, cell_specs
from report.record import ReportRecord
from report.values import parse_cell

REFERENCE = Path(__file__).parent / "reference"
NAMES = ("hongze-2024", "chanhe-industry-2024")
T3_START, T3_END = "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议"


def load(name: str) -> ReportRecord:
    return ReportRecord.from_json((REFERENCE / f"{name}.record.json").read_bytes())


@pytest.mark.parametrize("name", NAMES)
def test_reference_record_is_canonical(name: str) -> None:
    record = load(name)
    specs = cell_specs("2021")
    assert (record.year, record.format) == (2024, "2021")
    assert set(record.cells) <= set(specs)
    assert set(record.raw) == set(record.cells)
    for key, raw in record.raw.items():
        assert parse_cell(raw, specs[key].kind).value == record.cells[key], key
    assert tuple(record.sections) == SECTION_KEYS
    assert record.title and record.agency and record.title.startswith(record.agency)


@pytest.mark.parametrize("name", NAMES)
def test_reference_record_says_who_reviewed_what(name: str) -> None:
    review = json.loads((REFERENCE / f"{name}.record.json").read_text(encoding="utf-8"))["review"]
    assert review["reviewed_by"] and review["checked"]


def test_hongze_prints_the_single_other_row_and_the_figures_of_the_page() -> None:
    record = load("hongze-2024")
    assert len(record.cells) == 10 + 23 * 7 + 15
    assert "t3.other.total" in record.cells
    assert not any(f"t3.{row}.total" in record.cells for row in T3_OTHER_SPLIT_ROWS)
    t4 = [[record.cells[f"t4.{group}.{column}"] for column in ("upheld", "corrected", "other", "pending", "total")]
          for group in ("review", "suit_direct", "suit_after_review")]
    assert t4 == [[1, 1, 0, 0, 2], [1, 0, 0, 0, 1], [2, 0, 1, 0, 3]]
    assert record.cells["t2.fees.amount"] == 7545
    assert (record.cells["t3.new.total"], record.cells["t3.unavailable.not_held.natural_person"]) == (95, 31)


def test_chanhe_prints_the_split_other_rows_all_zero() -> None:
    record = load("chanhe-industry-2024")
    assert len(record.cells) == 10 + 25 * 7 + 15
    assert "t3.other.total" not in record.cells
    assert all(f"t3.{row}.total" in record.cells for row in T3_OTHER_SPLIT_ROWS)
    assert set(record.cells.values()) == {0}
    assert (record.agency_level, record.agency_kind) == ("county", "department")


def _t3_figures(text: str) -> Counter[str]:
    """The whole-number tokens the text layer prints inside 表三 (page footers removed)."""
    text = re.sub(r"- \d+ -", "", text)
    block = text[text.index(T3_START):text.index(T3_END)]
    return Counter(token for token in block.split() if token.isdigit())


def _t3_printed(record: ReportRecord) -> Counter[str]:
    return Counter(raw for key, raw in record.raw.items() if key.startswith("t3."))


def test_hongze_table_three_has_every_figure_of_the_pdf(reference_dir: Path) -> None:
    with pdfplumber.open(reference_dir / "hongze-2024.pdf") as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert _t3_figures(text) == _t3_printed(load("hongze-2024"))


def test_chanhe_table_three_has_every_figure_of_the_text(reference_dir: Path) -> None:
    text = (reference_dir / "chanhe-industry-2024.txt").read_text(encoding="utf-8")
    assert _t3_figures(text) == _t3_printed(load("chanhe-industry-2024"))
