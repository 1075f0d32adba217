"""No orphans, no twin harvests: children die with their parent (a `kill -9` of
`nianbao process` or `nianbao harvest` leaves no extraction worker or crawler behind),
and a second harvest of the same data directory refuses to start, naming the holder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from nianbao.stages import StageContext, harvest
from nianbao.stages.lock import HarvestRunning, harvest_lock, lock_path
from sandbox.portal import Fault
from tests.fixtures.workers import PatchWorkers

PROJECT = Path(__file__).resolve().parents[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}/cmdline").read_bytes()).replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"   # a zombie has died: it only waits to be reaped


def wait_for_child(parent: subprocess.Popen, marker: str, seconds: float = 120) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert parent.poll() is None, f"the parent ended first: {parent.communicate()}"
        for pid in children(parent.pid):
            if marker in command_line(pid):
                return pid
        time.sleep(0.1)
    raise AssertionError(f"no child running {marker}")


def assert_dies_with(parent: subprocess.Popen, child: int) -> None:
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail(f"child {child} ({command_line(child)}) outlived its parent")


def test_extraction_worker_dies_with_its_parent(patch_workers: PatchWorkers) -> None:
    patch_workers("""
        import time
        import extract.api

        extract.api.read_document = lambda *args, **kwargs: time.sleep(600)
    """)
    script = "from extract import extract_isolated; extract_isolated(b'<html><body>x</body></html>', timeout_s=600)"
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT)
    assert_dies_with(parent, wait_for_child(parent, "extract.worker"))


@pytest.mark.slow
def test_a_second_harvest_refuses_and_a_killed_one_leaves_no_crawler(sandbox_portal_factory, tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    portal = sandbox_portal_factory(sites=["hongze"], faults=[Fault(kind="timeout", site="hongze", seconds=120)])
    data_dir = tmp_path / "var"
    env = {**os.environ, "NIANBAO_DATA_DIR": str(data_dir), "NIANBAO_SANDBOX_URL": portal.url,
           "NIANBAO_WAREHOUSE_URL": f"sqlite:///{data_dir / 'warehouse.db'}"}
    command = [sys.executable, "-m", "nianbao", "harvest", "-s", "sandbox-hongze", "--today", "2025-04-15", "--fast"]
    first = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    crawler = wait_for_child(first, "-m crawler")

    second = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 1
    assert f"pid {first.pid} on host {socket.gethostname()}" in second.stderr, second.stderr[-2000:]
    context = StageContext(data_dir=data_dir, warehouse_url=env["NIANBAO_WAREHOUSE_URL"],
                           raw_store=str(data_dir / "raw"), sources_dir=Path("sources"), sandbox_url=portal.url)
    with pytest.raises(HarvestRunning) as refused:
        harvest(context, today=date(2025, 4, 15), sources=["sandbox-hongze"], fast=True, notifiers=[])
    assert refused.value.holder["pid"] == first.pid and refused.value.holder["started"]

    assert_dies_with(first, crawler)
    assert json.loads(lock_path(context).read_text())["pid"] == first.pid   # what the dead holder left
    with harvest_lock(context) as holder:                                   # … is taken over
        assert holder["pid"] == os.getpid()
        assert json.loads(lock_path(context).read_text())["pid"] == os.getpid()
    assert f"pid {first.pid} on host" in caplog.text                      # … and said so
    assert lock_path(context).read_text() == ""                            # released
