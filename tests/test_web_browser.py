"""`nianbao serve` used as a person would, in headless Chromium: the demo harvest of one sandbox site,
the server started as a command on 127.0.0.1, every page type opened, coverage → agency → report →
a cell → its page image, a saved query run and downloaded, the language switched.

Screenshots are kept in var/test-artifacts/web/. Under CI=true a missing browser fails the tests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.paths import PROJECT
from tests.fixtures.required import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # the demo harvest comes first

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run"]
ARTIFACTS = PROJECT / "var" / "test-artifacts" / "web"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's harvest of one sandbox site (crawl, extract, validate, load, check) into a fresh var/."""
    from rich.console import Console

    from nianbao import demo

    data_dir = tmp_path_factory.mktemp("demo") / "var"
    assert demo.run(data_dir, PROJECT / "sources", sites=["hongze"], console=Console(quiet=True)) == 0
    return data_dir


@pytest.fixture(scope="session")
def server(demo_data: Path) -> Iterator[str]:
    """`nianbao serve` on the demo warehouse, on a free 127.0.0.1 port; stopped by its PID."""
    port = _free_port()
    command = [sys.executable, "-m", "nianbao", "serve", "--url", f"sqlite:///{demo_data / 'warehouse.db'}",
               "--raw-store", str(demo_data / "raw"), "--port", str(port), "--today", "2025-04-15"]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/api/ops/runs", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    pytest.fail(f"nianbao serve did not start: {output}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser, server: str) -> Iterator:
    context = browser.new_context(base_url=server, accept_downloads=True, viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    failed: list[str] = []
    # net::ERR_ABORTED is the browser cancelling a request itself — a download ending its navigation,
    # a favicon still loading when the page navigates or the context closes — not the server failing it.
    opened.on("requestfailed", lambda request: None if "ERR_ABORTED" in (request.failure or "")
              else failed.append(f"{request.url} ({request.failure})"))
    opened.on("response", lambda response: failed.append(response.url) if response.status >= 500 else None)
    try:
        yield opened
    finally:
        context.close()
    assert failed == [], f"requests that failed: {failed}"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _every_asset_is_ours(page, server: str) -> None:
    sources = page.eval_on_selector_all("script[src], link[href], img[src]",
                                        "nodes => nodes.map(n => n.src || n.href)")
    assert sources and all(source.startswith(server) for source in sources), sources


def test_click_through_coverage_agency_report_cell_page(page, server: str) -> None:
    page.goto("/?year=2024")
    page.wait_for_selector("#coverage-chart[data-chart-ready]")
    assert page.locator("#coverage-table").inner_text().count("江苏省") == 1
    _every_asset_is_ours(page, server)
    _shot(page, "01-coverage")

    page.click("a.region-link:has-text('江苏省')")
    page.click("a.region-link:has-text('淮安市')")
    page.wait_for_selector("#agency-table")
    _shot(page, "02-region")
    page.click("a.agency-link:has-text('洪泽区')")
    page.wait_for_selector("#trend-chart[data-chart-ready]")
    assert page.locator("#reports-table tbody tr").count() >= 2
    _shot(page, "03-agency")

    page.locator("#reports-table a.report-link[data-pdf='1']").first.click()
    page.wait_for_selector("#form-t3")
    cell = page.locator("#form-t3 td.cell[data-key='t3.new.total']")
    printed = cell.inner_text().strip()
    assert printed
    _shot(page, "04-report")
    cell.click()
    page.wait_for_selector("#cell-info[data-key='t3.new.total']")
    assert page.locator("#cell-value").inner_text().strip() == printed
    image = page.locator("#cell-info #page-image")
    image.wait_for()
    page.wait_for_function("() => { const i = document.querySelector('#cell-info #page-image');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    _the_box_marks_the_printed_figure(page, printed)
    _shot(page, "05-cell-page")


def _the_box_marks_the_printed_figure(page, printed: str) -> None:
    """The cell's box is drawn on the page image, inside it, no larger than a table cell, and the
    page image inside the box (clear of the cell's ruling lines) shows ink: the figure printed there."""
    box = page.locator("#cell-info #cell-box")
    box.wait_for()
    image = page.locator("#cell-info #page-image").bounding_box()
    marked = box.bounding_box()
    assert image and marked and marked["width"] > 2 and marked["height"] > 2
    assert image["x"] <= marked["x"] and marked["x"] + marked["width"] <= image["x"] + image["width"] + 1
    assert image["y"] <= marked["y"] and marked["y"] + marked["height"] <= image["y"] + image["height"] + 1
    assert marked["width"] < image["width"] / 3 and marked["height"] < image["height"] / 10
    ink = page.evaluate("""() => {
        const img = document.querySelector('#cell-info #page-image');
        const box = document.querySelector('#cell-info #cell-box').getBoundingClientRect();
        const shown = img.getBoundingClientRect();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(img, 0, 0);
        const sx = img.naturalWidth / shown.width, sy = img.naturalHeight / shown.height;
        // Inset from the box's edges: a ruled cell's box lies on its rules, which are ink too.
        const x = Math.floor((box.left - shown.left) * sx) + 4, y = Math.floor((box.top - shown.top + box.height / 4) * sy);
        const w = Math.max(1, Math.floor(box.width * sx) - 8), h = Math.max(1, Math.floor(box.height / 2 * sy));
        const pixels = context.getImageData(x, y, w, h).data;
        let dark = 0;
        for (let i = 0; i < pixels.length; i += 4) { if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 300) dark++; }
        return dark;
    }""")
    assert ink > 0, f"no ink under the box of the figure {printed!r}"


def test_a_cell_of_an_html_report_is_marked_in_its_table(page) -> None:
    """An HTML original has no page image: the cell's table is shown as read, the cell marked."""
    page.goto("/?year=2024")
    page.click("a.region-link:has-text('江苏省')")
    page.click("a.region-link:has-text('淮安市')")
    page.click("a.agency-link:has-text('洪泽区')")
    page.locator("#reports-table a.report-link[data-pdf='0']").first.click()
    page.wait_for_selector("#form-t3")
    cell = page.locator("#form-t3 td.cell[data-key='t3.new.total']")
    printed = cell.inner_text().strip()
    cell.click()
    page.wait_for_selector("#cell-info[data-key='t3.new.total'] #source-grid")
    marked = page.locator("#source-grid #source-cell")
    assert marked.count() == 1 and marked.inner_text().strip().replace(",", "") == printed.replace(",", "")
    assert page.locator("#cell-info #page-image").count() == 0
    marked.scroll_into_view_if_needed()
    _shot(page, "05b-cell-in-table")


def test_a_saved_query_runs_and_downloads(page, tmp_path: Path) -> None:
    page.goto("/sql")
    page.click("#saved-queries a[data-query='applications_by_province']")
    page.wait_for_selector("#sql-result")
    assert "江苏省" in page.locator("#sql-result").inner_text()
    _shot(page, "06-sql")
    with page.expect_download() as download_info:
        page.click("#download-csv")
    saved = tmp_path / "result.csv"
    download_info.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("province_code,province_name,year") and len(lines) >= 2
    page.fill("#sql-text", "DELETE FROM reports")
    page.click("#sql-run")
    assert page.locator("#sql-error").is_visible()


def test_the_language_switch(page) -> None:
    page.goto("/")
    assert page.locator("#nav-coverage").inner_text() == "覆盖情况"
    page.click("#lang-switch")
    page.wait_for_selector("#nav-coverage:has-text('Coverage')")
    page.goto("/ops")   # the choice is remembered
    assert page.locator("#nav-ops").inner_text() == "Operations"
    _shot(page, "07-english-ops")
    page.click("#lang-switch")
    page.wait_for_selector("#nav-coverage:has-text('覆盖情况')")


@pytest.mark.parametrize("path, ready", [
    ("/search?q=政府信息公开", "#search-results tbody tr td a"),
    ("/compare?find=洪泽", "#found-agencies a.pick-right"),
    ("/dictionary", "#dictionary-table tbody tr"),
    ("/ops", "#runs-table"),
    ("/ops/sources/sandbox-hongze", "#source-health"),
    ("/docs", ".swagger-ui .info"),
])
def test_each_page_type_opens(page, server: str, path: str, ready: str) -> None:
    page.goto(path)
    page.wait_for_selector(ready)
    _every_asset_is_ours(page, server)
    _shot(page, "08-" + path.strip("/").split("?")[0].replace("/", "-"))


def test_compare_two_years_marks_differences(page) -> None:
    page.goto("/compare?find=洪泽")
    page.locator("#found-agencies a.pick-right").first.click()
    page.wait_for_selector("#right-report")
    options = page.locator("#right-report option")
    if options.count() > 1:
        page.select_option("#right-report", index=1)
    page.click("#compare-form button[type=submit]")
    page.wait_for_selector("#compare-table")
    count = int(page.locator("#difference-count").inner_text().split()[0])
    assert count == page.locator("#compare-table tr.differs").count()
    _shot(page, "09-compare")
