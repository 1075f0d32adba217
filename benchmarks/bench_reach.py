"""Reach benchmark (issue 11): recall of the crawler over a seeded, randomised portal of every shape.

The sandbox shape portal (sandbox/portal/shapes) serves three sites per shape — lists built by
script (JSON APIs, JS literals), lists inside frames, year indexes, pagers of every common kind,
documents reached by script — each site's markup drawn from its own seeded spelling. The real
crawler crawls it in its own process; the figures compare its crawl index with the portal's truth:
reports found / reports there (target 100%), documents taken that are not reports (look-alikes,
fillers, the column linking to itself; target 0), and reports kept with a wrong agency or year
(target 0). NIANBAO_REACH_SEED picks another portal.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sandbox.portal.shapes.reach import crawl_shapes

COPIES = 3


def run() -> list[dict]:
    seed = int(os.environ.get("NIANBAO_REACH_SEED", "2026"))
    with tempfile.TemporaryDirectory(prefix="nianbao-reach-") as work:
        reach = crawl_shapes(Path(work), seed=seed, copies=COPIES)
    weakest = ", ".join(f"{shape} {found}/{there}" for shape, (found, there) in reach.per_shape.items()
                        if found < there) or "every shape complete"
    return [
        {"name": "reports found / reports there", "value": round(reach.recall, 4), "unit": "ratio", "target": 1.0,
         "note": f"{reach.found}/{reach.there}, seed {seed}, {COPIES} sites per shape; {weakest}"},
        {"name": "documents taken that are not reports", "value": len(reach.taken), "unit": "documents", "target": 0},
        {"name": "reports with a wrong agency or year", "value": len(reach.wrong), "unit": "reports", "target": 0},
        {"name": "crawl errors", "value": sum(reach.summary.get("errors", {}).values()), "unit": "failures",
         "target": 0, "note": str(reach.summary.get("errors", {}))},
    ]
