"""Crawl a shape portal with the real crawler (its own process) and score what it reached:
reports found / reports there, documents taken that are not reports, agency and year right.

With `broken=N`, N sites (a seeded choice) are broken on purpose before the crawl — their column
moved (the list page 404s), a challenge page or a 500 for every request — so the health check can
be scored too: their reports are counted apart (`hidden`), not in the recall."""

from __future__ import annotations

import json
import random
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
    broken: dict[str, str] = field(default_factory=dict)        # source id → how it was broken
    hidden: dict[str, tuple[str, int]] = field(default_factory=dict)   # the broken sites' report URLs
    agencies: dict[str, tuple[str, int]] = field(default_factory=dict)  # source id → (agency, first year)
    truth: Any = None

    @property
    def recall(self) -> float:
        return self.found / self.there if self.there else 0.0


BREAKAGES = ("moved", "challenge", "status_500")


def crawl_shapes(work: Path, seed: int = 0, shapes: tuple[str, ...] = SHAPES, copies: int = 1,
                 timeout: float = 600, browser: str | None = None, render: bool = True,
                 broken: int = 0) -> Reach:
    """Serve a shape portal, crawl it into `work`, and compare the crawl index with the truth.

    `browser`: the Chromium the crawl is told to use (default the crawler's own); `render=False`
    drops `render: true` from the entries (the rendered shapes then crawled as static pages);
    `broken`: how many sites to break on purpose (BREAKAGES)."""
    with ShapePortalServer(seed=seed, shapes=shapes, copies=copies) as portal:
        breakages = break_sites(portal, random.Random(f"{seed}-broken"), broken)
        sources = work / "sources"
        sources.mkdir(parents=True, exist_ok=True)
        write_entries(sources / "shapes.yaml", portal, render)
        summary = _crawl(portal.url, work / "data", sources, timeout, ["--browser", browser] if browser else [])
        truth = portal.truth()
    index = DocumentIndex(database_in(work / "data"))
    store = RawStore(str(work / "data" / "raw"))
    try:
        versions = {version.url: version for version in index.versions()}
    finally:
        index.close()
    hidden_sites = {f"/{source_id.removeprefix('sandbox-')}/" for source_id in breakages}
    hidden = {url: report for url, report in truth.reports.items()
              if any(site in url for site in hidden_sites)}
    reach = Reach(there=len(truth.reports) - len(hidden), summary=summary, broken=breakages, hidden=hidden,
                  agencies={f"sandbox-{slug}": (site.agency, min(site.years))
                            for slug, site in portal.shape_sites.items()}, truth=truth)
    totals: Counter = Counter()
    hits: Counter = Counter()
    for url, (agency, year) in truth.reports.items():
        if url in hidden:
            continue
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


def break_sites(portal: ShapePortalServer, rng: random.Random, count: int) -> dict[str, str]:
    """Break `count` sites on purpose, each in one of BREAKAGES (in turn); source id → breakage."""
    chosen = rng.sample(sorted(portal.shape_sites), min(count, len(portal.shape_sites)))
    breakages = {}
    for number, slug in enumerate(chosen):
        how = BREAKAGES[number % len(BREAKAGES)]
        if how == "moved":
            portal.move_column(slug, "/moved" + portal.shape_sites[slug].family.list_path)
        else:
            portal.add_fault(kind=how, site=slug)
        breakages[f"sandbox-{slug}"] = how
    return breakages


def probe_shapes(work: Path, seed: int = 0, shapes: tuple[str, ...] = SHAPES, copies: int = 1,
                 timeout: float = 600, browser: str | None = None, render: bool = True) -> dict[str, Any]:
    """Serve a shape portal and probe it (list pages only); the probe's summary."""
    with ShapePortalServer(seed=seed, shapes=shapes, copies=copies) as portal:
        sources = work / "sources"
        sources.mkdir(parents=True, exist_ok=True)
        write_entries(sources / "shapes.yaml", portal, render)
        return _crawl(portal.url, work / "data", sources, timeout, ["--browser", browser] if browser else [], "probe")


def write_entries(path: Path, portal: ShapePortalServer, render: bool = True) -> None:
    """The portal's registry entries as a source file (without `render` when `render` is False)."""
    entries = [{k: v for k, v in entry.items() if render or k != "render"} for entry in portal.registry_entries()]
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")


def _crawl(sandbox_url: str, data_dir: Path, sources: Path, timeout: float, options: list[str],
           command: str = "crawl") -> dict[str, Any]:
    """One `python -m crawler crawl|probe` of the shape sources (the crawler's own entry point: the
    sandbox does not import the application's launcher)."""
    summary_path = data_dir / "summary.json"
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "crawler", command, "--fast", "--sandbox-url", sandbox_url,
                    "--data-dir", str(data_dir), "--sources-dir", str(sources), "--summary", str(summary_path), *options],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, check=False)
    if not summary_path.exists():
        raise RuntimeError(f"the {command} of the shape portal left no summary in {data_dir}")
    return json.loads(summary_path.read_text(encoding="utf-8"))
