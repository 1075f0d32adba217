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
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

from nianbao.alerts.model import AgencyExpectation
from nianbao.alerts.rules import evaluate
from nianbao.stages.check import site_facts
from sandbox.portal.shapes.reach import Reach, crawl_shapes

COPIES = 3
BROKEN = 3
AS_OF = date(2025, 6, 1)   # every deadline of report year 2024 has passed
YEARS = range(2019, 2025)


def run() -> list[dict]:
    seed = int(os.environ.get("NIANBAO_REACH_SEED", "2026"))
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
    ]


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
