"""End to end, per shape of issue 11: the crawler (its own process) against the sandbox shape
portal — every report reached and stored with the right agency and year, nothing else taken.

One crawl of a portal with two sites per shape (two spellings of each shape's markup), then
one test per shape over what that crawl kept.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sandbox.portal.shapes import SHAPES
from sandbox.portal.shapes.reach import Reach, crawl_shapes


@pytest.fixture(scope="module")
def reach(tmp_path_factory: pytest.TempPathFactory) -> Reach:
    return crawl_shapes(tmp_path_factory.mktemp("reach"), seed=11, copies=2, timeout=600)


def shape_of(url: str) -> str:
    slug = urlsplit(url).path.split("/")[1]          # shape-<name>-<copy>
    return slug.removeprefix("shape-").rsplit("-", 1)[0]


@pytest.mark.slow
def test_the_crawl_of_the_shape_portal_finishes_clean(reach: Reach) -> None:
    assert reach.summary["finish_reason"] == "finished"
    assert reach.summary["errors"] == {} and reach.summary["flags"] == {}
    assert reach.unreadable == []


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
def test_every_report_of_the_shape_is_crawled_with_its_agency_and_year(reach: Reach, shape: str) -> None:
    found, there = reach.per_shape[shape]
    assert there >= 6                                           # two sites, three reports or more each
    assert [url for s, url in reach.missing if s == shape] == []
    assert found == there
    assert [w for w in reach.wrong if shape_of(w[0]) == shape] == []
    assert [t for t in reach.taken if shape_of(t[0]) == shape] == []   # no look-alike, no column page
