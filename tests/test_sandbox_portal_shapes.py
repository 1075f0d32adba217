"""The sandbox shape sites: reproducible per seed, spelled differently across seeds, truthful,
and strict where real servers are (an ASP.NET pager without its view state is refused)."""

from __future__ import annotations

from urllib.parse import urlencode

from sandbox.portal.shapes import SHAPES, ShapePortalServer
from sandbox.portal.shapes.families import PostBackPager


def column_page(seed: int, shape: str) -> str:
    portal = ShapePortalServer(seed=seed, shapes=(shape,))
    site = next(iter(portal.portal.sites.values()))
    return site.answer("GET", site.list_url, b"").body.decode()


def test_one_seed_gives_one_portal_and_other_seeds_other_spellings() -> None:
    for shape in SHAPES:
        assert column_page(3, shape) == column_page(3, shape)
        assert len({column_page(seed, shape) for seed in range(6)}) > 1, shape


def test_truth_lists_every_report_with_its_agency_and_year_and_the_look_alikes() -> None:
    with ShapePortalServer(seed=5, copies=2) as portal:
        truth = portal.truth()
        base = portal.url
    reports = [i for s in portal.portal.sites.values() for i in s.items if i.document.kind == "report"]
    assert len(truth.reports) == len(reports) and set(truth.shapes.values()) == set(SHAPES)
    for site in portal.shape_sites.values():
        assert sorted(year for url, (agency, year) in truth.reports.items()
                      if agency == site.agency and f"/{site.slug}/" in url) == site.years
    assert not truth.lookalikes & truth.reports.keys()
    assert all(base + s.list_url in truth.lookalikes for s in portal.portal.sites.values())
    assert len({entry["agency"] for entry in portal.registry_entries()}) == len(portal.shape_sites)


def test_the_aspnet_pager_needs_the_view_state() -> None:
    portal = ShapePortalServer(seed=1, shapes=("aspnet",))
    site = next(iter(portal.portal.sites.values()))
    family = site.family
    assert isinstance(family, PostBackPager)
    path = site.list_url

    def post(**fields: str) -> int:
        return site.answer("POST", path, urlencode(fields).encode()).status

    assert post(__EVENTTARGET=family.pager_id, __EVENTARGUMENT="2") == 500
    assert post(__VIEWSTATE=family.view_state(0), __EVENTTARGET=family.pager_id, __EVENTARGUMENT="2") == 200
