"""The whole sandbox corpus round-trips: every truth parses, names its file, agrees with the
plan, and every report record passes the validator exactly as its truth says."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from report.validate import validate
from sandbox.agencies import AGENCIES, PUBLICATIONS, agency
from sandbox.corpus import CORPUS_DIR, CorpusEntry, Truth, load_corpus

ISSUE_FORMS = ("word-pdf", "reportlab-pdf", "cid-pdf", "scanned-pdf", "html", "docx", "xlsx", "flipbook",
               "paged-html", "hostile", "lookalike")
MULTIPAGE_FORMS = ("flipbook", "paged-html")   # a directory of HTML pages: one report
# Rules that only compare with another year: a deliberately malformed document is checked without them.
CROSS_YEAR = ("CARRY-OVER", "STOCK")


def reports() -> list[CorpusEntry]:
    return [e for e in load_corpus() if e.truth.kind == "report"]


def previous_record(entry: CorpusEntry):
    """The same agency's clean record for the year before, if the corpus has one."""
    site = entry.truth.site
    for other in reports():
        if (other.truth.site == site and other.truth.year == entry.truth.year - 1
                and not other.truth.expected_rules):
            return other.truth.record
    return None


def test_every_truth_file_parses_and_names_an_existing_file() -> None:
    paths = sorted(CORPUS_DIR.glob("*.truth.json"))
    assert paths
    for path in paths:
        truth = Truth.model_validate(json.loads(path.read_text(encoding="utf-8")))
        assert path.name == f"{truth.name}.truth.json"
        document = CORPUS_DIR / truth.file
        assert document.exists(), truth.file
        assert document.is_dir() == (truth.form in MULTIPAGE_FORMS)


def test_every_truth_is_reviewed() -> None:
    unreviewed = [e.name for e in load_corpus() if not e.truth.reviewed]
    assert unreviewed == [], "truths not yet checked against their documents"


def test_names_and_files_are_unique() -> None:
    corpus = load_corpus()
    for counted in (Counter(e.name for e in corpus), Counter(e.truth.file for e in corpus)):
        assert [name for name, n in counted.items() if n > 1] == []


def test_the_corpus_covers_every_form_of_the_issue() -> None:
    corpus = load_corpus()
    forms = Counter(e.truth.form for e in corpus)
    assert len(corpus) >= 60
    missing = [form for form in ISSUE_FORMS if not forms[form]]
    assert missing == [], f"forms without documents: {missing}"


def test_every_planned_publication_has_its_truth() -> None:
    by_name = {e.name: e.truth for e in load_corpus()}
    missing = [p.name for p in PUBLICATIONS if p.name not in by_name]
    assert missing == []
    for publication in PUBLICATIONS:
        truth = by_name[publication.name]
        assert (truth.year, truth.form, truth.published) == (publication.year, publication.form, publication.published)
        assert truth.agency == agency(publication.slug).name
        assert truth.site == publication.slug
        assert truth.variant == publication.variant


def test_every_document_names_a_known_site() -> None:
    slugs = {a.slug for a in AGENCIES}
    for entry in load_corpus():
        assert entry.truth.site in slugs, entry.name


def test_non_reports_have_no_record_and_an_expected_finding() -> None:
    for entry in load_corpus():
        if entry.truth.kind == "report":
            assert entry.truth.record is not None and entry.truth.record.cells, entry.name
        else:
            assert entry.truth.record is None and entry.truth.expected_finding, entry.name


@pytest.mark.parametrize("entry", reports(), ids=lambda e: e.name)
def test_every_report_validates_as_its_truth_says(entry: CorpusEntry) -> None:
    record = entry.truth.record
    expected = set(entry.truth.expected_rules)
    findings = validate(record, previous=previous_record(entry))
    found = {f.rule for f in findings}
    assert expected <= found, f"expected rules not raised: {expected - found}"
    unexpected_errors = {f.rule for f in findings if f.severity == "error"} - expected
    assert unexpected_errors == set(), [f.message_en for f in findings if f.rule in unexpected_errors]


def test_clean_consecutive_years_chain_without_carry_over_warnings() -> None:
    chained = 0
    for entry in reports():
        if entry.truth.expected_rules:
            continue
        previous = previous_record(entry)
        if previous is None:
            continue
        chained += 1
        carry = [f for f in validate(entry.truth.record, previous=previous) if f.rule == "CARRY-OVER"]
        assert carry == [], f"{entry.name}: {[f.message_en for f in carry]}"
    assert chained >= 20


def test_the_articles_paginated_in_place_come_in_several_pager_spellings_and_read_whole() -> None:
    from extract import extract_file
    from sandbox.generate.form_paged_html import SPELLINGS

    paged = [e for e in load_corpus() if e.truth.form == "paged-html"]
    spellings = {(e.truth.model_extra or {}).get("pager") for e in paged}
    assert len(spellings) >= 3 and spellings <= set(SPELLINGS), spellings
    for entry in paged:
        assert entry.truth.record is not None
        assert len([p for p in entry.path.iterdir() if p.suffix == ".html"]) > 1
        record = extract_file(entry.path)
        assert record.cells == entry.truth.record.cells, entry.name
