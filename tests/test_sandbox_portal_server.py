"""Lifecycle: loopback only, a free port, nothing left behind, and `python -m sandbox serve` as a process."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from sandbox.portal import PortalConfig, PortalServer
from sandbox.portal.registry import REGISTRY_PATH, registry_entries, registry_yaml
from tests.fixtures.portal import fetch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "192.168.1.5", "::", "example.com"])
def test_refuses_to_bind_anything_but_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        PortalServer(PortalConfig(host=host, sites=["hongze"], fillers=1))


def test_start_and_stop_leave_no_thread_or_port_behind() -> None:
    threads_before = set(threading.enumerate())
    server = PortalServer(PortalConfig(sites=["hongze"], fillers=2)).start()
    port = server.port
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)   # a keep-alive connection left open
    idle.request("GET", "/hongze/xxgk/xxgknb/index.html")
    assert idle.getresponse().read()
    server.add_fault(kind="timeout", site="hongze", seconds=30)
    hanging = threading.Thread(target=lambda: _quietly(fetch, server.list_url("hongze"), timeout=30))
    hanging.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    hanging.join(5)
    idle.close()
    assert set(threading.enumerate()) - threads_before == set()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # TIME_WAIT is fine, a listener is not
    probe.bind(("127.0.0.1", port))
    probe.listen()
    probe.close()
    server.stop()                      # a second stop is harmless


def _quietly(call, *args, **kwargs) -> None:
    with contextlib.suppress(OSError):
        call(*args, **kwargs)


def test_two_portals_get_two_free_ports(sandbox_portal_factory) -> None:
    first = sandbox_portal_factory(sites=["hongze"], fillers=1)
    second = sandbox_portal_factory(sites=["hongze"], fillers=1)
    assert first.port != second.port
    assert fetch(first.list_url("hongze"))[2] == fetch(second.list_url("hongze"))[2]


def test_serve_as_a_process_prints_its_url_and_stops_on_sigterm(tmp_path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {kind: status_500, url: '*/index_1.html'}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--sites", "hongze", "huaian",
         "--faults", str(faults), "--fillers", "6"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("sandbox portal at http://127.0.0.1:"), line + process.stderr.read()
        base = line.split(" at ", 1)[1].strip().rstrip("/")
        assert fetch(base + "/hongze/xxgk/xxgknb/index.html")[0] == 200
        assert fetch(base + "/hongze/xxgk/xxgknb/index_1.html")[0] == 500
        assert fetch(base + "/chanhe-industry/zfxxgk/xxgknb/1.html")[0] == 404   # not among --sites
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.mark.parametrize(("arguments", "message"), [
    (["--host", "0.0.0.0"], "127.0.0.1 only"),
    (["--sites", "atlantis"], "unknown site 'atlantis'"),
    (["--faults", "{faults}"], "times must be a number"),
    (["--corpus", "/nonexistent/corpus"], "corpus directory not found"),
])
def test_serve_refuses_bad_options_with_a_clear_message(tmp_path, arguments: list[str], message: str) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {kind: status_500, site: hongze, times: often}\n", encoding="utf-8")
    arguments = [argument.replace("{faults}", str(faults)) for argument in arguments]
    done = subprocess.run([sys.executable, "-m", "sandbox", "serve", "--port", "0", *arguments],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


REGISTRY_FIELDS = {"id", "agency", "region_code", "level", "kind", "family", "adapter", "list_urls", "expected",
                   "first_year", "allow_private", "verified", "overrides"}


def test_sources_sandbox_yaml_is_in_step_with_the_plan() -> None:
    assert REGISTRY_PATH.read_text(encoding="utf-8") == registry_yaml(), \
        "regenerate: python -m sandbox serve --print-registry > sources/sandbox.yaml"
    entries = yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))
    assert [set(entry) for entry in entries] == [REGISTRY_FIELDS] * len(entries) == [
        set(entry) for entry in registry_entries()]
    assert all(entry["allow_private"] and entry["list_urls"][0].startswith("{sandbox}/") for entry in entries)


def test_every_registry_list_url_answers(sandbox_portal: PortalServer) -> None:
    for entry in registry_entries():
        url = entry["list_urls"][0].replace("{sandbox}", sandbox_portal.url)
        status, headers, body = fetch(url)
        assert status == 200, url
        column = entry["overrides"].get("column")
        if column:
            assert column.encode() in body
