"""Crawl a shape portal with the real crawler (its own process) and score what it reached:
reports found / reports there, documents taken that are not reports, agency and year right."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crawler.config import database_in
from crawler.index import DocumentIndex
from crawler.store import RawStore
from sandbox.portal.shapes import SHAPES, ShapePortalServer


@dataclass
class Reach:
    there: int = 0
    found: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)           # (shape, url)
    taken: list[tuple[str, str | None]] = field(default_factory=list)      # (url, title) not a report
    wrong: list[tuple[str, Any, Any]] = field(default_factory=list)        # (url, (agency, year) kept, truth)
    unreadable: list[str] = field(default_factory=list)                    # stored bytes that do not match
    per_shape: dict[str, tuple[int, int]] = field(default_factory=dict)    # shape → (found, there)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.found / self.there if self.there else 0.0


def crawl_shapes(work: Path, seed: int = 0, shapes: tuple[str, ...] = SHAPES, copies: int = 1,
                 timeout: float = 600) -> Reach:
    """Serve a shape portal, crawl it into `work`, and compare the crawl index with the truth."""
    with ShapePortalServer(seed=seed, shapes=shapes, copies=copies) as portal:
        sources = work / "sources"
        sources.mkdir(parents=True, exist_ok=True)
        (sources / "shapes.yaml").write_text(yaml.safe_dump(portal.registry_entries(), allow_unicode=True),
                                             encoding="utf-8")
        summary = _crawl(portal.url, work / "data", sources, timeout)
        truth = portal.truth()
    index = DocumentIndex(database_in(work / "data"))
    store = RawStore(str(work / "data" / "raw"))
    try:
        versions = {version.url: version for version in index.versions()}
    finally:
        index.close()
    reach = Reach(there=len(truth.reports), summary=summary)
    totals: Counter = Counter()
    hits: Counter = Counter()
    for url, (agency, year) in truth.reports.items():
        shape = truth.shapes[url]
        totals[shape] += 1
        version = versions.get(url)
        if version is None:
            reach.missing.append((shape, url))
            continue
        reach.found += 1
        hits[shape] += 1
        if (version.agency, version.year) != (agency, year):
            reach.wrong.append((url, (version.agency, version.year), (agency, year)))
        if len(store.get(version.sha256)) != version.size:
            reach.unreadable.append(url)
    reach.taken = [(url, version.listing_title) for url, version in versions.items() if url not in truth.reports]
    reach.per_shape = {shape: (hits[shape], totals[shape]) for shape in sorted(totals)}
    return reach


def _crawl(sandbox_url: str, data_dir: Path, sources: Path, timeout: float) -> dict[str, Any]:
    """One `python -m crawler crawl` of the shape sources (the crawler's own entry point: the
    sandbox does not import the application's launcher)."""
    summary_path = data_dir / "summary.json"
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "crawler", "crawl", "--fast", "--sandbox-url", sandbox_url,
                    "--data-dir", str(data_dir), "--sources-dir", str(sources), "--summary", str(summary_path)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, check=False)
    if not summary_path.exists():
        raise RuntimeError(f"the crawl of the shape portal left no summary in {data_dir}")
    return json.loads(summary_path.read_text(encoding="utf-8"))
