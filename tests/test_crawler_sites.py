"""Site adapters (crawler/sites/): a registry entry's `adapter:` is loaded, checked, and used.

The example is sandbox-mingshan-health, whose pager is `onclick="goPage(N)"`: its family's
adapter cannot read it, the site's own adapter can (tests/fixtures/sites/, saved from the
sandbox portal; the end-to-end crawl of every sandbox site goes through it too).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from scrapy.http import HtmlResponse

from crawler.families import adapter_for
from crawler.families.generic import GenericAdapter
from crawler.registry import Source, load_registry
from crawler.sites import mingshan_health

ROOT = Path(__file__).resolve().parents[1]
SAVED = Path(__file__).parent / "fixtures" / "sites" / "mingshan_health" / "list_1.html"
LIST_URL = "http://127.0.0.1:8000/mingshan-health/publicity/zfxxgknb/msqzfbmxxgkgzndbg"


def sandbox_entry(source_id: str) -> dict:
    entries = yaml.safe_load((ROOT / "sources" / "sandbox.yaml").read_text(encoding="utf-8"))
    return next(entry for entry in entries if entry["id"] == source_id)


def saved_page() -> HtmlResponse:
    return HtmlResponse(LIST_URL, body=SAVED.read_bytes(), headers={"Content-Type": "text/html; charset=utf-8"})


def test_the_sandbox_entry_names_the_site_adapter_and_gets_it() -> None:
    source = Source.model_validate(sandbox_entry("sandbox-mingshan-health"))
    adapter = adapter_for(source)
    assert type(adapter) is mingshan_health.Adapter and isinstance(adapter, GenericAdapter)
    assert adapter_for(Source.model_validate(sandbox_entry("sandbox-changchun-health"))).__class__ is GenericAdapter


def test_the_site_adapter_reads_the_go_page_pager_its_family_cannot() -> None:
    source = Source.model_validate(sandbox_entry("sandbox-mingshan-health"))
    family_page = GenericAdapter(source).parse_list(saved_page())
    site_page = adapter_for(source).parse_list(saved_page())
    assert family_page.next_pages == []                            # the quirk: no URL in the pager links
    assert [r.url for r in site_page.next_pages] == [f"{LIST_URL}?page=2", f"{LIST_URL}?page=3"]
    assert site_page.listings == family_page.listings                # the rest is the family's
    assert sum(listing.url.startswith(LIST_URL + "/") for listing in site_page.listings) == 5


def write_entry(directory: Path, **changes: object) -> Path:
    entry = dict(sandbox_entry("sandbox-mingshan-health"), **changes)
    (directory / "sites.yaml").write_text(yaml.safe_dump([entry], allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")
    return directory


def adapter_errors(directory: Path) -> list[str]:
    registry = load_registry(directory)
    assert registry.sources == []
    return [str(error) for error in registry.errors]


def test_a_wrong_adapter_path_is_a_registry_error_at_its_line(tmp_path: Path) -> None:
    errors = adapter_errors(write_entry(tmp_path, adapter="crawler.sites.no_such_site:Adapter"))
    line = next(n for n, text in enumerate((tmp_path / "sites.yaml").read_text().splitlines(), 1)
                if text.startswith("  adapter:"))
    assert len(errors) == 1 and errors[0].startswith(f"{tmp_path / 'sites.yaml'}:{line}: [sandbox-mingshan-health]")
    assert "cannot import crawler.sites.no_such_site" in errors[0]


def test_an_adapter_of_another_family_is_refused(tmp_path: Path) -> None:
    errors = adapter_errors(write_entry(tmp_path, family="trs"))
    assert len(errors) == 1 and "no class Adapter extending TrsAdapter (the trs family's adapter)" in errors[0]


def test_a_class_that_is_no_adapter_is_refused(tmp_path: Path) -> None:
    errors = adapter_errors(write_entry(tmp_path, adapter="crawler.sites.mingshan_health:ListPage"))
    assert len(errors) == 1 and "no class ListPage extending GenericAdapter" in errors[0]


def test_an_adapter_outside_crawler_sites_is_refused_without_importing_it(tmp_path: Path) -> None:
    errors = adapter_errors(write_entry(tmp_path, adapter="os:system"))
    assert len(errors) == 1 and "write it as crawler.sites.<module>:<Class>" in errors[0]
