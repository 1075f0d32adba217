"""A report nested hundreds of <div>s deep (a sloppy CMS template) is read fully, or
named broken-html with the reason — never a quiet "no tables" that loses it."""

from __future__ import annotations

import re

import pytest

from extract import extract_bytes
from report.record import ReportRecord
from sandbox.corpus import CORPUS_DIR

REPORT_PAGE = CORPUS_DIR / "chanhe-industry-2023-html.html"
# libxml2's hard nesting limit with huge_tree; the report page adds its own levels
DEPTHS_READ = (100, 255, 257, 1000)
DEPTHS_REFUSED = (5000, 100000)


def nested(depth: int) -> bytes:
    """The corpus report with its body wrapped in `depth` plain <div>s."""
    page = REPORT_PAGE.read_bytes()
    start = re.search(rb"<body[^>]*>", page)
    end = page.rindex(b"</body>")
    assert start is not None
    return page[:start.end()] + b"<div>" * depth + page[start.end():end] + b"</div>" * depth + page[end:]


@pytest.fixture(scope="module")
def flat() -> ReportRecord:
    record = extract_bytes(REPORT_PAGE.read_bytes())
    assert len(record.cells) > 50
    return record


@pytest.mark.parametrize("depth", DEPTHS_READ)
def test_deep_markup_is_read_fully(flat: ReportRecord, depth: int) -> None:
    record = extract_bytes(nested(depth))
    assert record.cells == flat.cells
    assert record.sections == flat.sections
    assert [f.rule for f in record.findings] == [f.rule for f in flat.findings]


@pytest.mark.parametrize("depth", DEPTHS_REFUSED)
def test_markup_too_deep_to_read_is_broken_html_with_the_reason(depth: int) -> None:
    record = extract_bytes(nested(depth))
    rules = [f.rule for f in record.findings]
    assert rules == ["broken-html"], rules
    assert record.findings[0].is_error
    assert "depth" in record.findings[0].message_en.lower()


@pytest.mark.parametrize("depth", (*DEPTHS_READ, *DEPTHS_REFUSED))
def test_deep_markup_never_ends_as_no_tables_or_not_a_report(depth: int) -> None:
    from nianbao.stages.process import outcome_of

    record = extract_bytes(nested(depth))
    rules = {f.rule for f in record.findings}
    assert not rules & {"no-tables", "not-a-report"}
    assert outcome_of(record) in ("accepted", "quarantined", "failed")
    assert outcome_of(record) != "failed" or "broken-html" in rules
