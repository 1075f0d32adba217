"""Every `nianbao` command prints its summary as JSON on stdout with `--json` (or `--format json`),
run as a person would (its own process), against a sandbox site harvested into a fresh home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from nianbao.cli import app
from sandbox.portal import Document, PortalConfig, PortalServer
from tests.fixtures.paths import PROJECT

pytestmark = pytest.mark.slow
TODAY = "2025-04-15"
SOURCE = "sandbox-hongze"


@dataclass
class Home:
    env: dict[str, str]
    path: Path
    portal_url: str
    harvest: dict[str, Any]


def nianbao(home_env: dict[str, str], *args: str, codes: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, cwd=PROJECT,
                          env=home_env, timeout=600)
    assert done.returncode in codes, f"{args}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    report = Document(title="淮安市洪泽区人民政府2024年政府信息公开工作年度报告", site="hongze",
                      content=b"%PDF-1.4\n% not a real report\n%%EOF\n", published="2025-01-20", year=2024)
    path = tmp_path_factory.mktemp("home")
    with PortalServer(PortalConfig(sites=["hongze"], documents=[report], fillers=0)) as portal:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")},
               "NIANBAO_HOME": str(path), "NIANBAO_SANDBOX_URL": portal.url}
        harvested = json.loads(nianbao(env, "harvest", "--sources", SOURCE, "--fast", "--today", TODAY, "--json"))
        yield Home(env, path, portal.url, harvested)


def command_paths(group: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every command under `group`, as the words that call it (typer carries its own click: duck-typed)."""
    found: set[tuple[str, ...]] = set()
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found |= command_paths(command, (*prefix, name))
            if getattr(command, "invoke_without_command", False):   # a group that is a command too
                found.add((*prefix, name))
        else:
            found.add((*prefix, name))
    return found


def speaks_json(command: Any) -> bool:
    for parameter in command.params:
        if "--json" in parameter.opts:
            return True
        annotation = parameter.type_descriptor.annotation
        if "--format" in parameter.opts and "json" in {getattr(choice, "value", None) for choice in annotation}:
            return True
    return False


def test_every_command_has_a_json_option_and_a_test_below() -> None:
    root = typer.main.get_command(app)
    paths = command_paths(root)
    assert paths == set(RUNS), "a command without a JSON run in this file"
    for path in paths:
        command: Any = root
        for name in path:
            command = command.commands[name]
        assert speaks_json(command), " ".join(path)


def test_harvest(home: Home) -> None:
    summary = home.harvest
    assert [crawl["summary"]["finish_reason"] for crawl in summary["crawls"]] == ["finished"]
    assert summary["new_documents"] == 1 and summary["crawl_failures"] == []
    assert summary["processed"]["documents"] == 1 and summary["checked"]["today"] == TODAY


def run_sources_check(home: Home) -> None:
    summary = json.loads(nianbao(home.env, "sources", "check", "--json"))
    assert summary["sources"] > 0 and summary["errors"] == []


def run_sources_probe(home: Home) -> None:
    summary = json.loads(nianbao(home.env, "sources", "probe", SOURCE, "--fast", "--json"))
    assert summary["mode"] == "probe" and [c["known"] for c in summary["candidates"]] == [True]
    assert [page["source_id"] for page in summary["list_page_probes"]] == [SOURCE]


def run_crawl(home: Home) -> None:
    summary = json.loads(nianbao(home.env, "crawl", "--sources", SOURCE, "--fast", "--json"))
    assert summary["finish_reason"] == "finished" and summary["documents"]["new"] == 0


def run_process(home: Home) -> None:
    summary = json.loads(nianbao(home.env, "process", "--json"))
    assert summary["documents"] == 0 and summary["problems"] == []


def run_check_and_alerts(home: Home) -> None:
    a_year_later = "2026-04-15"     # the 2025 report is due and not there: an alert opens
    summary = json.loads(nianbao(home.env, "check", "--today", a_year_later, "--no-notify", "--json"))
    assert summary["today"] == a_year_later and summary["open_total"] == sum(summary["open_by_kind"].values())
    assert summary["opened"] and summary["open_by_kind"].get("missing")
    rows = [json.loads(line) for line in nianbao(home.env, "alerts", "--json").splitlines()]
    assert {row["cause_key"] for row in rows} >= set(summary["opened"])


def run_alerts_test(home: Home) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posts: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            posts.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**home.env, "NIANBAO_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook",
               "NIANBAO_ALERT_WEBHOOK_FORMAT": "generic"}
        summary = json.loads(nianbao(env, "alerts", "test", "--json"))
    finally:
        server.shutdown()
        server.server_close()
    assert summary["failed"] == {} and len(summary["sent"]) == 1 and len(posts) == 1


def run_status(home: Home) -> None:
    rows = json.loads(nianbao(home.env, "status", "--json"))
    assert isinstance(rows, list) and rows


def run_query(home: Home) -> None:
    rows = json.loads(nianbao(home.env, "query", "SELECT count(*) AS n FROM documents", "--format", "json"))
    assert rows == [{"n": 1}]


def run_export(home: Home) -> None:
    out = home.path / "export"
    summary = json.loads(nianbao(home.env, "export", "--year", "2024", "--format", "csv", "--out", str(out), "--json"))
    assert summary["year"] == 2024 and summary["files"] and all(Path(f).is_file() for f in summary["files"])


def run_db(home: Home) -> None:
    url = f"sqlite:///{home.path / 'scratch.db'}"
    upgraded = json.loads(nianbao(home.env, "db", "upgrade", "--url", url, "--json"))
    assert upgraded["revision"] == upgraded["head"]
    assert json.loads(nianbao(home.env, "db", "current", "--url", url, "--json")) == upgraded
    assert json.loads(nianbao(home.env, "db", "downgrade", "base", "--url", url, "--json"))["revision"] is None


def run_extract_and_validate(home: Home) -> None:
    page = home.path / "report.html"
    page.write_text("<html><body><h1>淮安市洪泽区人民政府2024年政府信息公开工作年度报告</h1>"
                    "<p>本年度收到政府信息公开申请17件。</p></body></html>", encoding="utf-8")
    lines = nianbao(home.env, "extract", str(page), "--no-ocr", "--json", codes=(0, 1)).splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 1
    record_file = home.path / "record.json"
    record_file.write_text(lines[0], encoding="utf-8")
    findings = json.loads(nianbao(home.env, "validate", str(record_file), "--json", codes=(0, 1)))
    assert isinstance(findings, list)


def run_serve(home: Home) -> None:
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "nianbao", "serve", "--port", str(port), "--today", TODAY,
                               "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT,
                              env=home.env)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert json.loads(first) == {"url": f"http://127.0.0.1:{port}/", "read_only": True, "today": TODAY}
    finally:
        server.terminate()
        server.wait(timeout=30)


RUNS = {("sources", "check"): run_sources_check, ("sources", "probe"): run_sources_probe, ("crawl",): run_crawl,
        ("harvest",): None, ("process",): run_process, ("check",): run_check_and_alerts, ("alerts",): run_check_and_alerts,
        ("alerts", "test"): run_alerts_test,
        ("status",): run_status, ("query",): run_query, ("export",): run_export, ("db", "upgrade"): run_db,
        ("db", "downgrade"): run_db, ("db", "current"): run_db, ("extract",): run_extract_and_validate,
        ("validate",): run_extract_and_validate, ("serve",): run_serve}


@pytest.mark.parametrize("run", sorted({run for run in RUNS.values() if run}, key=lambda r: r.__name__),
                         ids=lambda run: run.__name__.removeprefix("run_"))
def test_command_prints_json(home: Home, run) -> None:
    run(home)
