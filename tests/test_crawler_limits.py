"""A crawl's limits end as failures with their cause: an endless body is `too_large`
(not a bare `downloadcancellederror`), and a drip-feeding server cannot hold a source's
crawl past its deadline — what was not fetched is recorded as `deadline`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from crawler.index import DocumentIndex

ROOT = Path(__file__).resolve().parents[1]
LIST_PAGE = """<html><head><meta charset="utf-8"><title>年度报告</title></head><body><ul>
<li><a href="/files/a.pdf">某某局2023年政府信息公开工作年度报告</a><span>2024-01-20</span></li>
<li><a href="/files/b.pdf">某某局2024年政府信息公开工作年度报告</a><span>2025-01-20</span></li>
</ul></body></html>"""


class HostileSite(BaseHTTPRequestHandler):
    """A list page whose two reports are endless (no Content-Length) or drip-fed, or a list
    page nested too deep to parse."""

    protocol_version = "HTTP/1.0"
    mode = "endless"
    stopping = threading.Event()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        if self.path == "/list/index.html":
            body = LIST_PAGE.encode()
            if self.mode == "deep":   # the list inside 5000 <div>s
                body = body.replace(b"<ul>", b"<div>" * 5000 + b"<ul>").replace(b"</ul>", b"</ul>" + b"</div>" * 5000)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/files/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            if self.mode == "drip":
                self.send_header("Content-Length", "100000")
            self.end_headers()
            self._feed()
        else:
            self.send_error(404)

    def _feed(self) -> None:
        chunk, pause = (b"%PDF" * 16384, 0.0) if self.mode == "endless" else (b"%", 0.2)
        try:
            while not self.stopping.wait(pause):
                self.wfile.write(chunk)
        except OSError:
            pass   # the crawler hung up, as it should


@pytest.fixture
def hostile_site(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Site", (HostileSite,), {"mode": request.param, "stopping": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    handler.stopping.set()
    server.shutdown()
    server.server_close()


def crawl(site: str, work: Path, *settings: str) -> tuple[dict, dict[str, tuple[str, str]]]:
    source = {"id": "test-hostile", "agency": "某某局", "region_code": "110101", "level": "department",
              "kind": "department", "family": "generic", "list_urls": ["{sandbox}/list/index.html"],
              "expected": True, "first_year": 2023, "allow_private": True, "verified": True, "overrides": {}}
    (work / "sources").mkdir(parents=True)
    (work / "sources" / "test.yaml").write_text(yaml.safe_dump([source], allow_unicode=True), encoding="utf-8")
    command = [sys.executable, "-m", "crawler", "crawl", "--fast", "--sandbox-url", site, "--data-dir",
               str(work / "data"), "--sources-dir", str(work / "sources")]
    for setting in settings:
        command += ["--set", setting]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert result.stdout, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    index = DocumentIndex(work / "data" / "warehouse.db")
    try:
        failures = {f.url.removeprefix(site): (f.kind, f.detail) for f in index.failures(summary["run_id"])}
    finally:
        index.close()
    return summary, failures


@pytest.mark.parametrize("hostile_site", ["endless"], indirect=True)
def test_an_endless_body_is_too_large_with_its_size(hostile_site: str, tmp_path: Path) -> None:
    summary, failures = crawl(hostile_site, tmp_path, "DOWNLOAD_MAXSIZE=300000")
    assert summary["finish_reason"] == "finished"
    for path in ("/files/a.pdf", "/files/b.pdf"):
        kind, detail = failures[path]
        assert kind == "too_large", failures
        assert "larger than download max size (300000)" in detail


@pytest.mark.parametrize("hostile_site", ["drip"], indirect=True)
def test_a_drip_feeding_site_stops_at_the_source_deadline(hostile_site: str, tmp_path: Path) -> None:
    # without the deadline this crawl takes 2 URLs × 4 tries × 60 s, past crawl()'s 300 s guard
    summary, failures = crawl(hostile_site, tmp_path, "NIANBAO_SOURCE_DEADLINE=4", "DOWNLOAD_TIMEOUT=60",
                              "RETRY_TIMES=3")
    assert summary["finish_reason"] == "finished"
    for path in ("/files/a.pdf", "/files/b.pdf"):
        kind, detail = failures[path]
        assert kind == "deadline", failures
        assert "deadline of 4 s" in detail


@pytest.mark.parametrize("hostile_site", ["deep"], indirect=True)
def test_a_list_page_too_deep_to_parse_is_recorded_as_unparsable(hostile_site: str, tmp_path: Path) -> None:
    summary, failures = crawl(hostile_site, tmp_path)
    kind, detail = failures["/list/index.html"]
    assert kind == "unparsable" and "levels deep" in detail, failures
    assert "unparsable_page" in summary["sources"]["test-hostile"]["flags"]
