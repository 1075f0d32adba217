"""The validator on the sandbox corpus: each document's reviewed truth names the rules
it expects (expected_rules), and the validator finds exactly those."""

from __future__ import annotations

import pytest

from report.validate import validate
from sandbox.corpus import load_corpus

RECORDS = [entry.truth for entry in load_corpus() if entry.truth.record is not None]


def test_the_corpus_has_records_to_check() -> None:
    assert len(RECORDS) >= 10


@pytest.mark.parametrize("truth", RECORDS, ids=[truth.name for truth in RECORDS])
def test_validator_finds_the_expected_rules(truth) -> None:
    found = sorted({finding.rule for finding in validate(truth.record)})
    assert found == sorted(set(truth.expected_rules))
