"""Reach benchmark (issue 11): recall of the crawler over a seeded, randomised portal of every shape,
and the truth of the health check over it.

The sandbox shape portal (sandbox/portal/shapes) serves three sites per shape — lists built by
script (JSON APIs, JS literals), lists inside frames, year indexes, pagers of every common kind,
documents reached by script — each site's markup drawn from its own seeded spelling. BROKEN of them
(a seeded choice) are broken on purpose: the column moved (404), a challenge page, a 500 for every
request. The real crawler crawls it in its own process; the figures compare its crawl index with the
portal's truth: reports found / reports there on the sites not broken (target 100%), documents taken
that are not reports (look-alikes, fillers, the column linking to itself; target 0), reports kept
with a wrong agency or year (target 0); then the alert rules run over the crawl's summary, every
site's agency expected from its first year: false `missing` alerts — for a report that is on the
portal (target 0) — and broken sources flagged `site_broken` (target all), healthy ones flagged
(target 0). NIANBAO_REACH_SEED picks another portal.

Rendered pages are measured apart (sources with `render: true`, loaded in the system's headless
Chromium): the recall of a crawl of the rendered shapes, rendered list pages per second (a probe:
list pages only, every one of them rendered) beside the same sites probed without a browser, and
the peak memory of the browser's process tree (the Playwright driver and every Chromium process
under the crawler, summed as PSS so that pages shared between them count once), sampled every
SAMPLE_SECONDS while the crawl runs.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psutil

from crawler.config import DEFAULT_BROWSER
from crawler.render import missing_browser
from nianbao.alerts.model import AgencyExpectation
from nianbao.alerts.rules import evaluate
from nianbao.stages.check import site_facts
from sandbox.portal.shapes import RENDERED_SHAPES
from sandbox.portal.shapes.reach import Reach, crawl_shapes, probe_shapes

COPIES = 3
BROKEN = 3
AS_OF = date(2025, 6, 1)   # every deadline of report year 2024 has passed
YEARS = range(2019, 2025)
RENDERED_COPIES = 9        # rendered sites (the eval style paged)
SAMPLE_SECONDS = 0.2


def portal_seed() -> int:
    """The shape portal's seed (bench_crawl measures its CPU ratio on the same portal)."""
    return int(os.environ.get("NIANBAO_REACH_SEED", "2026"))


def run() -> list[dict]:
    seed = portal_seed()
    with tempfile.TemporaryDirectory(prefix="nianbao-reach-") as work:
        reach = crawl_shapes(Path(work), seed=seed, copies=COPIES, broken=BROKEN)
    weakest = ", ".join(f"{shape} {found}/{there}" for shape, (found, there) in reach.per_shape.items()
                        if found < there) or "every shape complete"
    false_missing, flagged = health(reach)
    broken = set(reach.broken)
    return [
        {"name": "reports found / reports there", "value": round(reach.recall, 4), "unit": "ratio", "target": 1.0,
         "note": f"{reach.found}/{reach.there}, seed {seed}, {COPIES} sites per shape, {BROKEN} broken apart; "
                 f"{weakest}"},
        {"name": "documents taken that are not reports", "value": len(reach.taken), "unit": "documents", "target": 0},
        {"name": "reports with a wrong agency or year", "value": len(reach.wrong), "unit": "reports", "target": 0},
        {"name": "crawl errors on the sites not broken", "value": sum(_healthy_errors(reach).values()),
         "unit": "failures", "target": 0, "note": str(_healthy_errors(reach))},
        {"name": "false missing alerts", "value": len(false_missing), "unit": "alerts", "target": 0,
         "note": ", ".join(false_missing) or "none"},
        {"name": "broken sources flagged", "value": round(len(flagged & broken) / len(broken), 4) if broken else 1.0,
         "unit": "ratio", "target": 1.0,
         "note": ", ".join(f"{source} ({how}){'' if source in flagged else ' NOT FLAGGED'}"
                           for source, how in sorted(reach.broken.items()))},
        {"name": "healthy sources flagged broken", "value": len(flagged - broken), "unit": "sources", "target": 0,
         "note": ", ".join(sorted(flagged - broken)) or "none"},
        *rendered_figures(seed),
    ]


def rendered_figures(seed: int) -> list[dict]:
    problem = missing_browser(DEFAULT_BROWSER)
    if problem:
        return [{"name": "rendered pages", "value": None, "unit": "", "note": f"not measured: {problem}"}]
    with tempfile.TemporaryDirectory(prefix="nianbao-rendered-") as work:
        reach, peak = peak_browser_memory(lambda: crawl_shapes(Path(work) / "crawl", seed=seed, shapes=RENDERED_SHAPES,
                                                               copies=RENDERED_COPIES, browser=DEFAULT_BROWSER))
        rendered = probe_shapes(Path(work) / "probe", seed=seed, shapes=RENDERED_SHAPES, copies=RENDERED_COPIES,
                                browser=DEFAULT_BROWSER)
        static = probe_shapes(Path(work) / "static", seed=seed, shapes=RENDERED_SHAPES, copies=RENDERED_COPIES,
                              render=False)
    pages, seconds = rendered["pages"]["list"], rendered["seconds"]
    static_rate = static["pages"]["list"] / static["seconds"] if static["seconds"] else float("nan")
    rate = pages / seconds if seconds else float("nan")
    return [
        {"name": "rendered: reports found / reports there", "value": round(reach.recall, 4), "unit": "ratio",
         "target": 1.0, "note": f"{reach.found}/{reach.there}, {RENDERED_COPIES} rendered sites, "
                                f"{len(reach.taken)} taken that are not reports, {len(reach.wrong)} wrong"},
        {"name": "rendered list pages per second", "value": round(rate, 2), "unit": "1/s",
         "note": f"a probe: {pages} list pages, each loaded in Chromium, in {seconds} s (browser start included)"},
        {"name": "the rendered sites' list pages read without a browser, per second", "value": round(static_rate, 2),
         "unit": "1/s", "note": f"{static['pages']['list']} pages in {static['seconds']} s (without the browser only the first page of each is seen, and no report)"},
        {"name": "peak memory of the browser process tree", "value": round(peak / 2**20, 1), "unit": "MiB",
         "note": f"PSS of the Playwright driver and Chromium under the crawler, sampled every {SAMPLE_SECONDS} s"},
    ]


def peak_browser_memory(action: Callable[[], Any]) -> tuple[Any, int]:
    """Run `action` (which starts a crawler process) and return its result and the peak summed PSS of
    every process under the crawler (the browser: Playwright's driver and Chromium's processes)."""
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            peak[0] = max(peak[0], _browser_pss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        return action(), peak[0]
    finally:
        done.set()
        sampler.join()


def _browser_pss() -> int:
    total = 0
    for crawler in psutil.Process().children():
        try:
            processes = crawler.children(recursive=True)
        except psutil.Error:
            continue
        for process in processes:
            try:
                total += process.memory_full_info().pss
            except psutil.Error:   # gone meanwhile
                continue
    return total


def health(reach: Reach) -> tuple[list[str], set[str]]:
    """The alert rules over the crawl: (false `missing` alerts, sources flagged site_broken)."""
    sources = reach.summary.get("sources", {})
    sites = [site_facts(source_id, [(reach.summary.get("finish_reason"), stats)])
             for source_id, stats in sources.items()]
    expected = [AgencyExpectation(agency, "government", source_id, first_year, level="county")
                for source_id, (agency, first_year) in reach.agencies.items()]
    not_found = {url for _, url in reach.missing}
    crawled = {report for url, report in reach.truth.reports.items() if url not in reach.hidden and url not in not_found}
    alerts = evaluate(today=AS_OF, expected=expected, reports=[], sites=sites, years=YEARS, documents=crawled)
    on_the_portal = set(reach.truth.reports.values())
    false_missing = [a.key for a in alerts if a.kind == "missing" and (a.agency, a.year) in on_the_portal]
    return false_missing, {str(a.source_id) for a in alerts if a.kind == "site_broken"}


def _healthy_errors(reach: Reach) -> dict[str, int]:
    errors: dict[str, int] = {}
    for source_id, stats in reach.summary.get("sources", {}).items():
        if source_id not in reach.broken:
            for kind, count in stats.get("errors", {}).items():
                errors[kind] = errors.get(kind, 0) + count
    return errors
