"""The alert rules as pure functions over plain facts, and the one-open-alert-per-cause logic."""

from __future__ import annotations

from datetime import date
from itertools import combinations

import pytest

from nianbao.alerts.model import AgencyExpectation, ReportFacts, SiteFacts
from nianbao.alerts.reconcile import reconcile
from nianbao.alerts.rules import (
    broken_sites,
    duplicate_reports,
    early_publications,
    evaluate,
    image_only_reports,
    late_publications,
    malformed_reports,
    missing_reports,
    text_similarity,
)

DEPT = AgencyExpectation("本溪市明山区卫生健康局", "department", "mingshan-health")
GOV = AgencyExpectation("微山县人民政府", "government", "weishan", level="county")
TOWNSHIP = AgencyExpectation("微山县两城镇人民政府", "government", "weishan-liangcheng", level="township")
TEXT = ("2024年，本局坚持以习近平新时代中国特色社会主义思想为指导，全面推进政务公开工作。"
        "全年主动公开政府信息120条，受理政府信息公开申请3件。一是公开内容的全面性还需提升。")


def report(agency: str = DEPT.agency, year: int = 2024, sha: str = "a" * 64, kind: str = "department",
           **extra: object) -> ReportFacts:
    return ReportFacts(agency=agency, year=year, sha256=sha, kind=kind, **extra)  # type: ignore[arg-type]


def test_missing_only_after_the_deadline_and_only_without_a_report() -> None:
    before = missing_reports([DEPT, GOV], [], [2024], date(2025, 2, 15))
    assert [a.key for a in before] == [f"missing:{DEPT.agency}:2024"]  # governments have until 31 Mar
    after = missing_reports([DEPT, GOV], [report()], [2024], date(2025, 4, 15))
    assert [a.key for a in after] == [f"missing:{GOV.agency}:2024"]
    assert after[0].details == {"deadline": "2025-03-31"}      # how overdue is computed when shown, never stored
    twins = [AgencyExpectation("某县卫生健康局", "department", agency_id=n) for n in (7, 8)]
    assert [a.key for a in missing_reports(twins, [report("某县卫生健康局", agency_id=7)], [2024], date(2025, 4, 15))] \
        == ["missing:8:2024"]                                   # two agencies of one name: keyed by id
    seen_document = missing_reports([GOV], [], [2024], date(2025, 4, 15), documents=[(GOV.agency, 2024)])
    assert seen_document == []


def test_a_township_government_is_due_by_31_january_like_every_body_below_a_county() -> None:
    february = missing_reports([GOV, TOWNSHIP], [], [2024], date(2025, 2, 1))
    assert [a.key for a in february] == [f"missing:{TOWNSHIP.agency}:2024"]
    assert february[0].details["deadline"] == "2025-01-31"
    late = ReportFacts(agency=TOWNSHIP.agency, year=2024, sha256="e" * 64, kind="government", level="township",
                       published=date(2025, 3, 1))
    assert [a.details["delay_days"] for a in late_publications([late])] == [29]


def test_missing_respects_the_first_expected_year() -> None:
    young = AgencyExpectation("新设机构", "department", since=2024)
    assert [a.year for a in missing_reports([young], [], [2023, 2024], date(2025, 6, 1))] == [2024]


def test_late_publication_records_its_delay_once_per_agency_year() -> None:
    late = report(year=2023, published=date(2024, 6, 12))
    republished = report(year=2023, sha="b" * 64, published=date(2024, 7, 1))
    alerts = late_publications([republished, late])
    assert len(alerts) == 1
    assert alerts[0].details["delay_days"] == (date(2024, 6, 12) - date(2024, 1, 31)).days
    assert late_publications([report(year=2023, published=date(2024, 1, 31))]) == []


def test_early_publication_is_before_the_year_ended() -> None:
    early = report(agency=GOV.agency, kind="government", level="county", published=date(2024, 12, 20))
    on_time = report(sha="c" * 64, published=date(2025, 1, 1))
    assert [a.sha256 for a in early_publications([early, on_time])] == [early.sha256]


def test_malformed_and_image_only() -> None:
    bad = report(hard_findings=("T4-SUM", "T3-BAL", "T4-SUM"))
    scanned = report(sha="d" * 64, image_only=True)
    [malformed] = malformed_reports([bad, scanned])
    assert malformed.details["rules"] == ["T3-BAL", "T4-SUM"] and malformed.severity == "error"
    assert [a.sha256 for a in image_only_reports([bad, scanned])] == [scanned.sha256]


def test_broken_sites() -> None:
    healthy = SiteFacts("ok", reports_found=5, previous_reports_found=5, requests=40, errors=2)
    emptied = SiteFacts("emptied", reports_found=0, previous_reports_found=4, requests=10)
    challenged = SiteFacts("waf", reports_found=3, challenge_pages=2, requests=10)
    erroring = SiteFacts("errors", reports_found=3, requests=10, errors=4)
    few = SiteFacts("few", reports_found=0, requests=2, errors=2)
    moved = SiteFacts("moved", reports_found=0, requests=3, errors=1, flags=("list_page_error", "zero_reports"))
    alerts = {a.source_id: a for a in broken_sites([healthy, emptied, challenged, erroring, few, moved])}
    assert set(alerts) == {"emptied", "waf", "errors", "moved"}
    assert alerts["moved"].details["reasons"] == ["zero reports where an earlier crawl found some",
                                                  "the list page could not be fetched"]
    assert "zero reports" in alerts["emptied"].message_en
    assert "challenge" in alerts["waf"].message_en


def test_duplicates_need_the_same_text_and_the_same_figures() -> None:
    figures = {"t3.new.total": 3, "t3.disclosed.total": 2, "t2.rules.made": 5}
    this = report(text=TEXT, figures=figures)
    copied_last_year = report(year=2023, sha="e" * 64, text=TEXT.replace("2024", "2023"), figures=figures)
    other_figures = {"t3.new.total": 9, "t3.disclosed.total": 4, "t2.rules.made": 1}
    template_only = report(agency="另一机构", sha="f" * 64, text=TEXT, figures=other_figures)
    alerts = duplicate_reports([this, copied_last_year, template_only])
    assert [(a.sha256, a.details["relation"]) for a in alerts] == [(this.sha256, "previous_year")]
    copied_other = report(agency="另一机构", sha="f" * 64, text=TEXT, figures=figures)
    assert [a.details["relation"] for a in duplicate_reports([this, copied_other])] == ["other_agency"]


def test_candidate_pairs_find_every_pair_that_agrees_on_90_percent_of_its_figures() -> None:
    import random

    from nianbao.alerts.rules import candidate_pairs, figure_agreement

    rng = random.Random(5)
    base = {f"t3.k{i}.total": rng.randint(0, 4) for i in range(60)}
    reports = []
    for n in range(40):  # near-copies of one report, each with a few cells changed
        figures = dict(base)
        for key in rng.sample(sorted(figures), rng.randint(0, 12)):
            figures[key] = rng.randint(0, 4)
        reports.append(report(agency=f"机构{n}", sha=f"{n:064d}", figures=figures))
    reports.append(report(agency="空表", sha="9" * 64, figures={"t3.new.total": 0}))
    reports.append(report(agency="空表二", sha="8" * 64, figures={}))
    candidates = set(candidate_pairs(reports))
    for i, j in combinations(range(len(reports)), 2):
        agreement = figure_agreement(reports[i].figures, reports[j].figures)
        if agreement is None or agreement >= 0.9:
            assert (i, j) in candidates, (i, j, agreement)
    assert len(candidates) < len(reports) * (len(reports) - 1) // 2   # not simply every pair


def test_text_similarity_is_a_share() -> None:
    assert text_similarity(TEXT, TEXT) == 1.0
    assert text_similarity(TEXT, "完全不同的一段文字，讲的是别的事情。") < 0.3
    assert text_similarity("", TEXT) == 0.0


def test_evaluate_ignores_reports_published_after_today_and_deduplicates() -> None:
    future = report(agency=GOV.agency, kind="government", level="county", published=date(2025, 5, 1))
    alerts = evaluate(today=date(2025, 4, 15), expected=[GOV], reports=[future], sites=[], years=[2024])
    assert [a.kind for a in alerts] == ["missing"]
    later = evaluate(today=date(2025, 5, 2), expected=[GOV], reports=[future], sites=[], years=[2024])
    assert [a.kind for a in later] == ["late"]


def test_reconcile_opens_keeps_and_resolves_within_scope() -> None:
    found = missing_reports([DEPT, GOV], [], [2024], date(2025, 4, 15))
    first = reconcile([], found)
    assert [a.key for a in first.opened] == sorted(a.key for a in found) and first.changed
    again = reconcile([a.key for a in found], found)
    assert again.opened == [] and again.resolved == [] and not again.changed
    one_left = [a for a in found if a.agency == GOV.agency]
    outside = "site_broken:elsewhere"
    later = reconcile([a.key for a in found] + [outside], one_left, in_scope=lambda key: key.startswith("missing:"))
    assert later.resolved == [f"missing:{DEPT.agency}:2024"]
    assert later.still_open == [one_left[0].key]


@pytest.mark.parametrize("site, cause", [
    (SiteFacts("s", reports_found=2, list_failures={"needs_browser": 1}, failures={"needs_browser": 1}),
     "needs a browser (1×)"),
    (SiteFacts("s", reports_found=20, failures={"pager_unfollowed": 1}, list_failures={"pager_unfollowed": 1},
               flags=("pager_unfollowed",)), "a visible pager could not be followed (1×)"),
    (SiteFacts("s", reports_found=0, list_failures={"http_404": 1}, flags=("list_page_error",)),
     "the list page could not be fetched (http_404)"),
    (SiteFacts("s", reports_found=0, flags=("no_reports_found",)), "no report ever listed on this expected source"),
    (SiteFacts("s", reports_found=3, previous_reports_found=12),
     "3 reports listed where the previous crawl listed 12"),
    (SiteFacts("s", reports_found=0, previous_reports_found=0, earlier_reports_found=6),
     "zero reports where an earlier crawl found some"),
    (SiteFacts("s", reports_found=0, previous_reports_found=6), "zero reports where the previous crawl found 6"),
    (SiteFacts("s", reports_found=4, failed=True), "the crawl failed"),
])
def test_every_cause_of_a_broken_site_is_named(site: SiteFacts, cause: str) -> None:
    [alert] = broken_sites([site])
    assert alert.details["reasons"] == [cause]
    assert cause in alert.message_en


@pytest.mark.parametrize("site", [
    SiteFacts("s", reports_found=7, previous_reports_found=12),        # a fall, not a sharp one
    SiteFacts("s", reports_found=1, previous_reports_found=3),         # too few to tell
    SiteFacts("s", reports_found=12, previous_reports_found=12, failures={"http_404": 1}),  # one dead link
])
def test_a_healthy_site_is_not_broken(site: SiteFacts) -> None:
    assert broken_sites([site]) == []


def test_a_failure_kind_the_rules_do_not_know_on_a_list_page_still_breaks_the_site() -> None:
    [alert] = broken_sites([SiteFacts("s", reports_found=0, list_failures={"tls_error": 2})])
    assert alert.details["reasons"] == ["the list page could not be fetched (tls_error)"]


def test_a_broken_source_says_which_reports_it_may_hide_and_raises_no_missing() -> None:
    broken = SiteFacts(GOV.source_id or "", reports_found=0, list_failures={"needs_browser": 1},
                       failures={"needs_browser": 1})
    healthy = SiteFacts(DEPT.source_id or "", reports_found=4, previous_reports_found=4)
    alerts = evaluate(today=date(2025, 4, 15), expected=[DEPT, GOV], reports=[], sites=[broken, healthy],
                      years=[2023, 2024])
    assert sorted(a.key for a in alerts if a.kind == "missing") == [f"missing:{DEPT.agency}:2023",
                                                                    f"missing:{DEPT.agency}:2024"]
    [site] = [a for a in alerts if a.kind == "site_broken"]
    assert site.source_id == GOV.source_id
    assert [(h["agency"], h["year"]) for h in site.details["may_hide"]] == [(GOV.agency, 2023), (GOV.agency, 2024)]
    assert "needs a browser" in site.message_en and f"{GOV.agency} 2024" in site.message_en
    assert "逾期未发布" not in site.message and "不能据此认定机关未发布" in site.message


def test_a_source_read_again_brings_its_missing_reports_back() -> None:
    read = SiteFacts(GOV.source_id or "", reports_found=4, previous_reports_found=4)
    alerts = evaluate(today=date(2025, 4, 15), expected=[GOV], reports=[], sites=[read], years=[2024])
    assert [a.key for a in alerts] == [f"missing:{GOV.agency}:2024"]
