"""The alert rules: pure functions from plain facts (and `today`) to alerts.

Each rule takes `today` explicitly, so a check can run "as of" any date (the demo
runs as of 2025-04-15; the deadlines DAG as of its logical date).
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations

from nianbao.alerts.model import AgencyExpectation, Alert, ReportFacts, SiteFacts
from report.agencies import deadline

DUPLICATE_THRESHOLD = 0.9
ERROR_RATE_THRESHOLD = 0.2
MIN_REQUESTS_FOR_ERROR_RATE = 5
SHARP_FALL_SHARE = 0.5        # listing at most half of what the previous crawl listed …
SHARP_FALL_MIN_REPORTS = 4    # … of at least this many (1 → 0 is "none any more", 3 → 1 is noise)


# ---------------------------------------------------------------- publication timing
def missing_reports(expected: Iterable[AgencyExpectation], reports: Iterable[ReportFacts],
                    years: Iterable[int], today: date,
                    documents: Iterable[tuple[str, int]] = ()) -> list[Alert]:
    """An expected agency-year past its deadline with no report (nor any document seen for it)."""
    published = {(r.agency_key, r.year) for r in reports} | set(documents)
    alerts = []
    for expectation in expected:
        for year in sorted(set(years)):
            if expectation.since is not None and year < expectation.since:
                continue
            due = deadline(year, expectation.kind, expectation.level)
            if today <= due or (expectation.agency_key, year) in published:
                continue
            alerts.append(Alert(   # how overdue is computed when shown (nianbao.alerts.messages.shown_message)
                kind="missing", key=f"missing:{expectation.agency_key}:{year}", severity="error",
                agency=expectation.agency, agency_id=expectation.agency_id, year=year,
                source_id=expectation.source_id,
                message=f"{expectation.agency}{year}年度报告逾期未发布（截止{due.isoformat()}）",
                message_en=f"{expectation.agency}: no {year} report, due {due.isoformat()}",
                details={"deadline": due.isoformat()},
            ))
    return alerts


def late_publications(reports: Iterable[ReportFacts]) -> list[Alert]:
    """A report published after its deadline, with the delay in days."""
    alerts = []
    for report in _first_per_agency_year(reports):
        if report.published is None:
            continue
        due = deadline(report.year, report.kind, report.level)
        delay = (report.published - due).days
        if delay <= 0:
            continue
        alerts.append(Alert(
            kind="late", key=f"late:{report.agency_key}:{report.year}", severity="warning",
            agency=report.agency, agency_id=report.agency_id, year=report.year, source_id=report.source_id, sha256=report.sha256,
            message=f"{report.agency}{report.year}年度报告发布于{report.published.isoformat()}，"
                    f"晚于截止日{due.isoformat()} {delay}天",
            message_en=f"{report.agency}: {report.year} report published {report.published.isoformat()}, "
                       f"{delay} days after the deadline {due.isoformat()}",
            details={"published": report.published.isoformat(), "deadline": due.isoformat(), "delay_days": delay},
        ))
    return alerts


def early_publications(reports: Iterable[ReportFacts]) -> list[Alert]:
    """A report published before its year ended: its figures cannot cover the whole year."""
    alerts = []
    for report in reports:
        if report.published is None or report.published >= date(report.year + 1, 1, 1):
            continue
        alerts.append(Alert(
            kind="early", key=f"early:{report.sha256}", severity="warning",
            agency=report.agency, year=report.year, source_id=report.source_id, sha256=report.sha256,
            message=f"{report.agency}{report.year}年度报告发布于{report.published.isoformat()}，早于年度结束",
            message_en=f"{report.agency}: {report.year} report published {report.published.isoformat()}, "
                       "before the year ended",
            details={"published": report.published.isoformat(), "url": report.url},
        ))
    return alerts


def _first_per_agency_year(reports: Iterable[ReportFacts]) -> list[ReportFacts]:
    """The earliest publication of each agency-year: a later re-publication is not lateness."""
    first: dict[tuple[str, int], ReportFacts] = {}
    for report in reports:
        key = (report.agency_key, report.year)
        known = first.get(key)
        if known is None or (report.published and (known.published is None or report.published < known.published)):
            first[key] = report
    return list(first.values())


# ---------------------------------------------------------------- document quality
def malformed_reports(reports: Iterable[ReportFacts]) -> list[Alert]:
    """A report that breaks a hard identity (an error finding of the validator)."""
    alerts = []
    for report in reports:
        if not report.hard_findings:
            continue
        rules = sorted(set(report.hard_findings))
        alerts.append(Alert(
            kind="malformed", key=f"malformed:{report.sha256}", severity="error",
            agency=report.agency, year=report.year, source_id=report.source_id, sha256=report.sha256,
            message=f"{report.agency}{report.year}年度报告数据不自洽：{'、'.join(rules)}",
            message_en=f"{report.agency}: {report.year} report breaks {', '.join(rules)}",
            details={"rules": rules, "url": report.url},
        ))
    return alerts


def image_only_reports(reports: Iterable[ReportFacts]) -> list[Alert]:
    """A report published as images only: it could be read by OCR alone."""
    return [Alert(
        kind="image_only", key=f"image_only:{report.sha256}", severity="info",
        agency=report.agency, year=report.year, source_id=report.source_id, sha256=report.sha256,
        message=f"{report.agency}{report.year}年度报告为纯图片，需OCR识别",
        message_en=f"{report.agency}: {report.year} report is images only (read by OCR)",
        details={"url": report.url},
    ) for report in reports if report.image_only]


# ---------------------------------------------------------------- sites
def broken_sites(sites: Iterable[SiteFacts], may_hide: Mapping[str, Sequence[Alert]] | None = None) -> list[Alert]:
    """A source whose latest crawl shows the site (or our adapter for it) is broken, with its causes
    and, from `may_hide` (source id → the `missing` alerts its agencies would have had), the
    reports it may hide: not read is not "not published"."""
    alerts = []
    for site in sites:
        reasons = site_problems(site)
        if not reasons:
            continue
        hidden = list((may_hide or {}).get(site.source_id, ()))
        alerts.append(Alert(
            kind="site_broken", key=f"site_broken:{site.source_id}", severity="error",
            source_id=site.source_id,
            message=f"来源 {site.source_id} 抓取异常：{'；'.join(r[0] for r in reasons)}" + _hidden_zh(hidden),
            message_en=f"source {site.source_id} looks broken: {'; '.join(r[1] for r in reasons)}" + _hidden_en(hidden),
            details={"reasons": [r[1] for r in reasons], "requests": site.requests, "errors": site.errors,
                     "failures": dict(site.failures), "reports_found": site.reports_found,
                     "previous_reports_found": site.previous_reports_found,
                     "may_hide": [{"agency": a.agency, "year": a.year, **a.details} for a in hidden]},
        ))
    return alerts


def _hidden_zh(hidden: Sequence[Alert]) -> str:
    if not hidden:
        return ""
    return "。未能读到、可能因此漏掉的报告：" + "、".join(f"{a.agency}{a.year}年度" for a in hidden) + \
        "（不能据此认定机关未发布）"


def _hidden_en(hidden: Sequence[Alert]) -> str:
    if not hidden:
        return ""
    return (". It may hide (not read, not known to be unpublished): "
            + ", ".join(f"{a.agency} {a.year}" for a in hidden))


def site_problems(site: SiteFacts) -> list[tuple[str, str]]:
    """(Chinese, English) reasons why a crawl looks broken; empty when it looks healthy."""
    reasons = []
    if site.failed:
        reasons.append(("抓取进程失败", "the crawl failed"))
    reasons += _listing_problems(site)
    reasons += _failure_problems(site)
    if site.requests >= MIN_REQUESTS_FOR_ERROR_RATE and site.errors / site.requests > ERROR_RATE_THRESHOLD:
        reasons.append((f"错误率{site.errors}/{site.requests}", f"{site.errors} of {site.requests} requests failed"))
    return reasons


def _listing_problems(site: SiteFacts) -> list[tuple[str, str]]:
    """What the number of listed reports says: none, none any more, or far fewer than last time."""
    previous, earlier = site.previous_reports_found or 0, site.earlier_reports_found or 0
    if site.reports_found == 0 and previous > 0:
        return [(f"本次未发现报告（上次{previous}份）", f"zero reports where the previous crawl found {previous}")]
    if site.reports_found == 0 and (earlier > 0 or "zero_reports" in site.flags):
        return [("本次未发现报告（此前发现过）", "zero reports where an earlier crawl found some")]
    if previous >= SHARP_FALL_MIN_REPORTS and site.reports_found <= previous * SHARP_FALL_SHARE:
        return [(f"列出的报告骤减：本次{site.reports_found}份，上次{previous}份",
                 f"{site.reports_found} reports listed where the previous crawl listed {previous}")]
    if "no_reports_found" in site.flags:
        return [("栏目中从未发现报告", "no report ever listed on this expected source")]
    return []


def _failure_problems(site: SiteFacts) -> list[tuple[str, str]]:
    """Failures that say the source cannot be read (crawler.failures.SOURCE_BROKEN), each with its
    cause, and list pages that could not be fetched, with their kinds."""
    from crawler.failures import SOURCE_BROKEN

    counts = dict(site.failures)
    if site.parse_failures:
        counts.setdefault("unparsable", site.parse_failures)
    if site.challenge_pages:
        counts.setdefault("challenge", site.challenge_pages)
    reasons = [(f"{SOURCE_BROKEN[kind][0]}（{counts[kind]}次）", f"{SOURCE_BROKEN[kind][1]} ({counts[kind]}×)")
               for kind in SOURCE_BROKEN if counts.get(kind)]
    if "list_page_error" in site.flags or any(kind not in SOURCE_BROKEN for kind in site.list_failures):
        kinds = ", ".join(sorted(kind for kind in site.list_failures if kind not in SOURCE_BROKEN))
        reasons.append(("栏目列表页无法访问" + (f"（{kinds}）" if kinds else ""),
                        "the list page could not be fetched" + (f" ({kinds})" if kinds else "")))
    return reasons


# ---------------------------------------------------------------- duplicates
@dataclass(frozen=True)
class Similarity:
    text: float
    figures: float | None

    @property
    def duplicate(self) -> bool:
        return self.text >= DUPLICATE_THRESHOLD and (self.figures is None or self.figures >= DUPLICATE_THRESHOLD)


def similarity(a: ReportFacts, b: ReportFacts) -> Similarity:
    """How much of two reports is the same: their prose, and their non-zero figures.

    Report prose follows a template, so prose alone would make every report a copy of
    every other; a copied report also repeats the figures.
    """
    return Similarity(text_similarity(a.text, b.text), figure_agreement(a.figures, b.figures))


def text_similarity(a: str, b: str) -> float:
    left, right = _squash(a), _squash(b)
    if not left or not right:
        return 0.0
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    if matcher.real_quick_ratio() < DUPLICATE_THRESHOLD or matcher.quick_ratio() < DUPLICATE_THRESHOLD:
        return matcher.quick_ratio()
    return matcher.ratio()


def figure_agreement(left: Mapping[str, float | int | None], right: Mapping[str, float | int | None]) -> float | None:
    """The share of cells, among those non-zero in either report, that print the same number."""
    keys = [k for k in set(left) | set(right) if left.get(k) or right.get(k)]
    if not keys:
        return None
    return sum(left.get(k) == right.get(k) for k in keys) / len(keys)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def duplicate_reports(reports: Sequence[ReportFacts]) -> list[Alert]:
    """A report ≥ 90% the same as its agency's previous-year report or as another agency's
    report of the same year."""
    by_agency_year = {(r.agency, r.year): r for r in reports}
    by_year: dict[int, list[ReportFacts]] = defaultdict(list)
    for report in by_agency_year.values():
        by_year[report.year].append(report)
    pairs: list[tuple[ReportFacts, ReportFacts, str]] = []
    for report in by_agency_year.values():
        previous = by_agency_year.get((report.agency, report.year - 1))
        if previous is not None:
            pairs.append((report, previous, "previous_year"))
    for same_year in by_year.values():
        ordered = sorted(same_year, key=lambda r: r.agency)
        for left, right in candidate_pairs(ordered):
            pairs.append((ordered[right], ordered[left], "other_agency"))
    return [alert for report, other, relation in pairs
            if (alert := _duplicate_alert(report, other, relation)) is not None]


def candidate_pairs(reports: Sequence[ReportFacts]) -> list[tuple[int, int]]:
    """The pairs (i < j) that can share ≥ 90% of their non-zero figures, without comparing all pairs.

    Prefix filtering: order every (cell, value) item by how rare it is; two reports sharing
    ≥ t of the larger one's items must share one of the first |A| − ⌈t·|A|⌉ + 1 rarest items
    of each. Reports without any non-zero figure are paired with each other (prose only).
    """
    items = [{(k, v) for k, v in r.figures.items() if v} for r in reports]
    frequency = Counter(item for found in items for item in found)
    index: dict[tuple, list[int]] = defaultdict(list)
    pairs: set[tuple[int, int]] = set()
    blank = [i for i, found in enumerate(items) if not found]
    pairs.update(combinations(blank, 2))
    for i, found in enumerate(items):
        if not found:
            continue
        ordered = sorted(found, key=lambda item: (frequency[item], repr(item)))
        for item in ordered[: len(ordered) - math.ceil(DUPLICATE_THRESHOLD * len(ordered)) + 1]:
            pairs.update((j, i) for j in index[item])
            index[item].append(i)
    return sorted(pairs)


def _duplicate_alert(report: ReportFacts, other: ReportFacts, relation: str) -> Alert | None:
    measured = similarity(report, other)
    if not measured.duplicate:
        return None
    share = f"{measured.text:.0%}"
    than = f"{other.year}年报告" if relation == "previous_year" else f"{other.agency}的报告"
    than_en = f"its {other.year} report" if relation == "previous_year" else f"{other.agency}'s report"
    return Alert(
        kind="duplicate", key=f"duplicate:{report.sha256}:{other.sha256}", severity="warning",
        agency=report.agency, year=report.year, source_id=report.source_id, sha256=report.sha256,
        message=f"{report.agency}{report.year}年度报告与{than}内容{share}相同",
        message_en=f"{report.agency}: {report.year} report is {share} the same as {than_en}",
        details={"relation": relation, "other_sha256": other.sha256, "other_agency": other.agency,
                 "other_year": other.year, "text_similarity": round(measured.text, 3),
                 "figure_agreement": None if measured.figures is None else round(measured.figures, 3)},
    )


# ---------------------------------------------------------------- all together
def evaluate(*, today: date, expected: Sequence[AgencyExpectation], reports: Sequence[ReportFacts],
             sites: Sequence[SiteFacts], years: Iterable[int],
             documents: Iterable[tuple[str, int]] = ()) -> list[Alert]:
    """Every rule over the facts, as of `today`; reports published after `today` are not yet known.

    A `missing` alert needs a source that was read: for an agency whose source looks broken the
    site_broken alert names the reports it may hide instead."""
    known = [r for r in reports if r.published is None or r.published <= today]
    years = sorted(set(years))
    broken = {site.source_id for site in sites if site_problems(site)}
    unread = [e for e in expected if e.source_id in broken]
    hidden: dict[str, list[Alert]] = defaultdict(list)
    for alert in missing_reports(unread, known, years, today, documents):
        hidden[str(alert.source_id)].append(alert)
    alerts = [
        *missing_reports([e for e in expected if e.source_id not in broken], known, years, today, documents),
        *late_publications(known),
        *early_publications(known),
        *malformed_reports(known),
        *image_only_reports(known),
        *broken_sites(sites, hidden),
        *duplicate_reports(known),
    ]
    return sorted({a.key: a for a in alerts}.values(), key=lambda a: (a.kind, a.key))
