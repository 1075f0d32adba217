"""Sources with `render: true`, end to end: lists only a running script builds (eval'd code, an
answer decoded in JS, rows bound to click handlers), crawled in the system's headless Chromium
into the raw store with the right agency and year; the same lists read statically reach nothing;
and without a browser such a source is a recorded failure (`needs_browser`) that the site-health
rules call a broken site, never a silent miss.

Under CI=true a missing Chromium fails the browser tests instead of skipping them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import DEFAULT_BROWSER
from crawler.index import DocumentIndex
from crawler.render import missing_browser
from crawler.summary import SourceSummary
from nianbao.alerts.model import SiteFacts
from nianbao.alerts.rules import broken_sites
from sandbox.portal.shapes import RENDERED_SHAPES, shape_sites
from sandbox.portal.shapes.reach import Reach, crawl_shapes
from tests.fixtures.required import unavailable

SEED, COPIES = 11, 3     # three sites: one of each rendered style at this seed (checked below)


@pytest.fixture(scope="module")
def chromium() -> str:
    problem = missing_browser(DEFAULT_BROWSER)
    if problem:
        unavailable(problem)
    return DEFAULT_BROWSER


@pytest.fixture(scope="module")
def rendered_reach(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Reach:
    return crawl_shapes(tmp_path_factory.mktemp("rendered"), seed=SEED, shapes=RENDERED_SHAPES, copies=COPIES,
                        timeout=300, browser=chromium)


def test_the_portal_has_every_rendered_style() -> None:
    styles = {site.family.style for site in shape_sites(SEED, RENDERED_SHAPES, COPIES)}  # type: ignore[attr-defined]
    assert styles == {"eval", "decoded", "bound"}


@pytest.mark.slow
def test_rendered_lists_are_crawled_with_their_agency_and_year(rendered_reach: Reach) -> None:
    reach = rendered_reach
    assert reach.summary["finish_reason"] == "finished"
    assert reach.summary["errors"] == {} and reach.summary["flags"] == {}
    assert reach.there >= 3 * COPIES and reach.missing == []
    assert reach.found == reach.there
    assert reach.wrong == [] and reach.taken == [] and reach.unreadable == []


@pytest.mark.slow
def test_the_same_lists_read_without_a_browser_reach_nothing(tmp_path: Path) -> None:
    """The shape is one static discovery cannot read: what render: true adds is the whole list."""
    reach = crawl_shapes(tmp_path, seed=SEED, shapes=RENDERED_SHAPES, copies=COPIES, timeout=300, render=False)
    assert reach.there >= 3 * COPIES and reach.found == 0
    assert all("no_reports_found" in flags for flags in reach.summary["flags"].values())
    assert len(reach.summary["flags"]) == COPIES


@pytest.mark.slow
def test_without_a_browser_a_rendered_source_is_a_recorded_broken_site(tmp_path: Path) -> None:
    absent = str(tmp_path / "no-chromium-here")
    reach = crawl_shapes(tmp_path, seed=SEED, shapes=RENDERED_SHAPES, copies=COPIES, timeout=300, browser=absent)
    summary = reach.summary
    assert summary["finish_reason"] == "finished" and reach.found == 0
    assert summary["errors"] == {"needs_browser": COPIES}
    assert set(summary["flags"]) == set(summary["sources"]) and len(summary["flags"]) == COPIES
    assert all(flags == ["list_page_error", "needs_browser"] for flags in summary["flags"].values())
    index = DocumentIndex(f"sqlite:///{tmp_path / 'data' / 'warehouse.db'}")
    try:
        failures = index.failures()
    finally:
        index.close()
    assert len(failures) == COPIES
    assert {failure.kind for failure in failures} == {"needs_browser"}
    assert all("needs a browser" in failure.detail and absent in failure.detail for failure in failures)
    facts = [SiteFacts(source_id=sid, reports_found=stats.reports_listed, flags=tuple(stats.flags),
                       errors=sum(stats.errors.values()), requests=sum(stats.errors.values()))
             for sid, stats in ((sid, SourceSummary.model_validate(s)) for sid, s in summary["sources"].items())]
    assert sorted(alert.source_id or "" for alert in broken_sites(facts)) == sorted(summary["sources"])


@pytest.mark.slow
def test_a_browser_that_does_not_start_is_a_recorded_needs_browser_failure(tmp_path: Path) -> None:
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    reach = crawl_shapes(tmp_path, seed=SEED, shapes=RENDERED_SHAPES, copies=1, timeout=300, browser=str(broken))
    summary = reach.summary
    assert reach.found == 0 and summary["errors"] == {"needs_browser": 1}
    assert [flags for flags in summary["flags"].values()] == [["list_page_error", "needs_browser"]]
