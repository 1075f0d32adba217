"""The CMS families are listed once, in the crawler's adapter table (crawler/families/__init__.py).

The registry schema and the DAG's crawl pools read that table; the sandbox's renderers and the
per-family fixtures must be written for each family by hand, and this test fails, naming the
list, as soon as one of them is not the same set as the adapter table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from scrapy.http import TextResponse

from crawler.families import ADAPTERS, ListPage
from crawler.families.generic import GenericAdapter
from crawler.registry import Source
from nianbao.stages.registry import pools
from sandbox.generate.html_pages import RENDERERS
from sandbox.portal.families import FAMILY_CLASSES
from tests.test_sandbox_html_pages import CONTAINERS

FIXTURES = Path(__file__).parent / "fixtures" / "crawler"


class FakeAdapter(GenericAdapter):
    family = "fake"

    def parse_list(self, response: TextResponse) -> ListPage:
        return ListPage()


def source(family: str) -> Source:
    return Source(id="family-check", agency="测试机关", region_code="110000", level="department",
                  kind="department", family=family, list_urls=["https://www.example.gov.cn/"], first_year=2020)


def accepted_by_the_registry(names: set[str]) -> set[str]:
    accepted = set()
    for name in names:
        try:
            source(name)
        except ValidationError:
            continue
        accepted.add(name)
    return accepted


def family_lists() -> dict[str, set[str]]:
    """Every place that names the CMS families, as a set of names."""
    hand_written = {
        "sandbox portal (sandbox/portal/families/__init__.py)": set(FAMILY_CLASSES),
        "sandbox report pages (sandbox/generate/html_pages.py)": set(RENDERERS),
        "report-page containers (tests/test_sandbox_html_pages.py)": set(CONTAINERS),
        "fixture folders (tests/fixtures/crawler/<family>/)": {
            path.name for path in FIXTURES.iterdir() if path.is_dir() and path.name != "expected"},
        "fixture cases (tests/fixtures/crawler/cases.yaml)": {
            case["family"] for case in yaml.safe_load((FIXTURES / "cases.yaml").read_text(encoding="utf-8"))},
    }
    derived = {
        "crawl pools (nianbao/stages/registry.py)": {name.removeprefix("nianbao_crawl_") for name in pools()},
        "registry schema (crawler/registry.py)": accepted_by_the_registry(set(ADAPTERS).union(*hand_written.values())
                                                                          | {"no-such-family"}),
    }
    return {"crawler adapters (crawler/families/__init__.py)": set(ADAPTERS), **derived, **hand_written}


def lists_out_of_step(lists: dict[str, set[str]]) -> dict[str, set[str]]:
    """The lists that differ from the adapter table, with the names they lack or add."""
    table = set(ADAPTERS)
    return {where: names ^ table for where, names in lists.items() if names != table}


def test_every_list_of_families_is_the_adapter_table() -> None:
    assert lists_out_of_step(family_lists()) == {}


def test_each_adapter_is_filed_under_its_own_family() -> None:
    assert {name: adapter.family for name, adapter in ADAPTERS.items()} == {name: name for name in ADAPTERS}


def test_a_new_family_reaches_the_registry_and_the_pools_and_is_reported_missing_elsewhere(monkeypatch) -> None:
    monkeypatch.setitem(ADAPTERS, "fake", FakeAdapter)
    lists = family_lists()
    assert "fake" in lists["registry schema (crawler/registry.py)"]
    assert "fake" in lists["crawl pools (nianbao/stages/registry.py)"]
    assert lists_out_of_step(lists) == {
        "sandbox portal (sandbox/portal/families/__init__.py)": {"fake"},
        "sandbox report pages (sandbox/generate/html_pages.py)": {"fake"},
        "report-page containers (tests/test_sandbox_html_pages.py)": {"fake"},
        "fixture folders (tests/fixtures/crawler/<family>/)": {"fake"},
        "fixture cases (tests/fixtures/crawler/cases.yaml)": {"fake"},
    }


def test_a_family_dropped_from_one_hand_written_list_is_reported(monkeypatch) -> None:
    monkeypatch.delitem(FAMILY_CLASSES, "plain")
    assert lists_out_of_step(family_lists()) == {"sandbox portal (sandbox/portal/families/__init__.py)": {"plain"}}


def test_an_unknown_family_is_a_registry_error_naming_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="unknown family 'wordpress'; one of: trs, jcms"):
        source("wordpress")
