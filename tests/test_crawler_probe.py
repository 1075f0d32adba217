"""`nianbao sources probe` against the sandbox shape portal (127.0.0.1, no network): per list page the
items found, the pager recognised and the pages it leads to, the reports a crawl would fetch,
whether a browser is needed, and a verdict per source that says what to change in the registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.config import DEFAULT_BROWSER
from crawler.render import missing_browser
from sandbox.portal.shapes import ShapePortalServer
from tests.fixtures.paths import PROJECT
from tests.fixtures.required import unavailable

STATIC = ("trs", "aspnet", "ajax", "iframe", "years")
SEED = 11


@pytest.fixture(scope="module")
def portal() -> Iterator[ShapePortalServer]:
    with ShapePortalServer(seed=SEED, shapes=(*STATIC, "rendered")) as server:
        yield server


def entries(portal: ShapePortalServer) -> list[dict[str, Any]]:
    """The portal's sources, and the rendered site once more without render: true (as a user might add it)."""
    found = portal.registry_entries()
    rendered = next(entry for entry in found if entry.get("render"))
    static_copy = {k: v for k, v in rendered.items() if k != "render"}
    return [*found, {**static_copy, "id": rendered["id"] + "-static"}]


def probe(portal: ShapePortalServer, tmp_path: Path, browser: str, *ids: str, as_json: bool = True):
    sources = tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    (sources / "shapes.yaml").write_text(yaml.safe_dump(entries(portal), allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "NIANBAO_SOURCES_DIR": str(sources), "NIANBAO_DATA_DIR": str(tmp_path / "data"),
           "NIANBAO_BROWSER": browser}
    shown = subprocess.run([sys.executable, "-m", "nianbao", "sources", "probe", *ids, "--fast", "--sandbox-url",
                            portal.url, *(["--json"] if as_json else [])], capture_output=True, text=True,
                           cwd=PROJECT, env=env, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    return json.loads(shown.stdout) if as_json else shown.stdout


def pages_of(summary: dict[str, Any], source_id: str) -> list[dict[str, Any]]:
    return [page for page in summary["list_page_probes"] if page["source_id"] == source_id]


def start_page(summary: dict[str, Any], source_id: str) -> dict[str, Any]:
    return next(page for page in pages_of(summary, source_id) if page["via"] == "start")


def reports_there(portal: ShapePortalServer, shape: str) -> int:
    site = portal.portal.sites[f"shape-{shape}-1"]
    return sum(1 for item in site.items if item.document.kind == "report")


@pytest.mark.slow
def test_probe_tells_each_list_page_s_pager_follow_ups_and_reports(portal: ShapePortalServer, tmp_path: Path) -> None:
    summary = probe(portal, tmp_path, str(tmp_path / "no-chromium"), *(f"sandbox-shape-{s}-1" for s in STATIC))
    for shape in STATIC:
        source_id = f"sandbox-shape-{shape}-1"
        pages = pages_of(summary, source_id)
        assert sum(page["reports"] for page in pages) == reports_there(portal, shape), shape
        assert not any(page["needs_browser"] for page in pages), shape
        assert all(not page["verdict"].startswith(("broken", "needs")) for page in pages), (shape, pages)
    first = {shape: start_page(summary, f"sandbox-shape-{shape}-1") for shape in STATIC}
    assert "createPageHTML" in first["trs"]["pagers"] and first["trs"]["follows"]["page"] >= 2
    assert "__doPostBack" in first["aspnet"]["pagers"] and first["aspnet"]["follows"]["page"] >= 2
    assert first["ajax"]["follows"] == {"data": 1} and first["ajax"]["scripts"] >= 1
    assert first["iframe"]["follows"] == {"frame": 1}
    assert first["years"]["follows"]["column"] == len(portal.shape_sites["shape-years-1"].years)
    assert {page["via"] for page in pages_of(summary, "sandbox-shape-ajax-1")} == {"start", "data"}
    # pages reachable: every page of the TRS list read
    assert len(pages_of(summary, "sandbox-shape-trs-1")) == first["trs"]["follows"]["page"] + 1


@pytest.mark.slow
def test_probe_suggests_a_browser_and_says_when_there_is_none(portal: ShapePortalServer, tmp_path: Path) -> None:
    absent = str(tmp_path / "no-chromium")
    rendered = "sandbox-shape-rendered-1"
    summary = probe(portal, tmp_path, absent, rendered, rendered + "-static")
    (static,) = pages_of(summary, rendered + "-static")
    assert static["needs_browser"] and static["scripts"] >= 1 and static["reports"] == 0
    assert "render: true" in static["verdict"]
    assert pages_of(summary, rendered) == []      # not read: no browser here
    assert summary["sources"][rendered]["errors"] == {"needs_browser": 1}
    shown = probe(portal, tmp_path, absent, rendered, rendered + "-static", as_json=False)
    assert f"source {rendered}-static: broken: the list is built by script; set render: true" in shown
    assert f"source {rendered}: broken: needs a browser (render: true), and none is installed here" in shown


@pytest.mark.slow
def test_probe_renders_a_render_true_source(portal: ShapePortalServer, tmp_path: Path) -> None:
    problem = missing_browser(DEFAULT_BROWSER)
    if problem:
        unavailable(problem)
    assert portal.shape_sites["shape-rendered-1"].family.style == "eval"   # type: ignore[attr-defined]
    summary = probe(portal, tmp_path, DEFAULT_BROWSER, "sandbox-shape-rendered-1")
    pages = pages_of(summary, "sandbox-shape-rendered-1")
    assert len(pages) == len(portal.portal.sites["shape-rendered-1"].pages()) > 1   # the pager is eval'd too
    assert all(page["rendered"] and not page["needs_browser"] for page in pages)
    assert "pager links" in start_page(summary, "sandbox-shape-rendered-1")["pagers"]
    assert sum(page["reports"] for page in pages) == reports_there(portal, "rendered")
    assert all(page["verdict"].startswith("ok") for page in pages if page["reports"])
    shown = probe(portal, tmp_path, DEFAULT_BROWSER, "sandbox-shape-rendered-1", as_json=False)
    assert "source sandbox-shape-rendered-1: ok:" in shown and "rendered" in shown
