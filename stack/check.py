"""The stack check: a real cluster harvests the sandbox and must equal `nianbao harvest`.

1. start the sandbox portal, an S3-compatible object store for the raw documents (moto's
   server mode) and the stack (api-server, scheduler, dag-processor, triggerer, two Celery
   workers, each with its own data folder: what they share is in PostgreSQL and the object
   store), all on 127.0.0.1;
2. trigger nianbao_harvest over a few sandbox sources; while an `extract` task runs, SIGKILL
   the worker running it (and start it again, as `restart: always` would);
3. wait for the run: it must succeed, the killed task on a later try;
4. harvest the same sources with `nianbao harvest` into a second database and compare.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack.cluster import PG_ADMIN_URL, REPO, Cluster, StackError
from warehouse.db import scratch_database
from warehouse.snapshot import differences, snapshot

SITES = ["hongze", "huaian"]          # a TRS and a jcms portal, no OCR: quick
SOURCES = [f"sandbox-{site}" for site in SITES]
TODAY = "2025-04-15"
DAG_ID = "nianbao_harvest"

# What a harvest leaves in the warehouse that the cluster must reproduce (warehouse.snapshot); the
# extraction attempts differ by design: the killed worker's attempt is retried.
COMPARED = ("documents", "reports", "cells", "findings", "open_alerts")


@dataclass
class CheckResult:
    state: str
    killed: dict[str, Any] | None
    tasks: list[dict[str, Any]]
    stack: dict[str, list[str]]
    reference: dict[str, list[str]]
    listening: set[str] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def same_warehouse(self) -> bool:
        return self.stack == self.reference

    def differences(self) -> dict[str, dict[str, list]]:
        return {name: {"stack_only": rows["left_only"], "reference_only": rows["right_only"]}
                for name, rows in differences(self.stack, self.reference).items()}


@contextmanager
def sandbox_portal(sites: list[str]) -> Iterator[str]:
    from sandbox.portal import PortalConfig, PortalServer

    server = PortalServer(PortalConfig(sites=list[Any](sites))).start()
    try:
        yield server.url
    finally:
        server.stop()


@contextmanager
def object_store() -> Iterator[tuple[str, dict[str, str]]]:
    """An S3-compatible server on 127.0.0.1 (moto's server mode: no real object store can be
    installed here) and a fresh bucket: (raw store URL, the AWS_* variables that reach it)."""
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "stack",
           "AWS_SECRET_ACCESS_KEY": "stack", "AWS_DEFAULT_REGION": "us-east-1"}
    try:
        s3fs.S3FileSystem(skip_instance_cache=True, key="stack", secret="stack",
                          client_kwargs={"endpoint_url": env["AWS_ENDPOINT_URL"]}).mkdir("nianbao-stack")
        yield "s3://nianbao-stack/raw", env
    finally:
        server.stop()


def reference_harvest(url: str, portal_url: str, home: Path, sources: list[str]) -> None:
    """`nianbao harvest` on one machine: what the cluster must reproduce."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    env.update({"NIANBAO_HOME": str(home), "NIANBAO_WAREHOUSE_URL": url, "NIANBAO_SANDBOX_URL": portal_url})
    finished = subprocess.run([sys.executable, "-m", "nianbao", "harvest", "--sources", ",".join(sources),
                               "--today", TODAY, "--fast", "--jobs", "1"], cwd=REPO, env=env, text=True,
                              capture_output=True, timeout=900)
    if finished.returncode != 0:
        raise StackError(f"nianbao harvest: exit {finished.returncode}\n{finished.stderr[-3000:]}")


def kill_a_running_extract(cluster: Cluster, run_id: str) -> dict[str, Any] | None:
    """SIGKILL the worker running an extract task of the run, if one runs now; start it again."""
    for ti in cluster.task_instances(DAG_ID, run_id):
        if ti["task_id"] == "extract" and ti["state"] == "running" and ti["pid"]:
            worker = cluster.worker_running(int(ti["pid"]))
            if worker:
                cluster.services[worker].kill()
                cluster.restart(worker)
                return {**ti, "worker": worker}
    return None


def run_check(run_dir: Path, *, sources: list[str] | None = None, kill_worker: bool = True,
              timeout: float = 1200, shared_data: bool = False) -> CheckResult:
    sources = sources or SOURCES
    started = time.monotonic()
    sites = [s.removeprefix("sandbox-") for s in sources]
    with sandbox_portal(sites) as portal_url, object_store() as (raw_store, aws):
        cluster = Cluster(run_dir / "stack", shared_data=shared_data,
                          extra_env={"NIANBAO_SANDBOX_URL": portal_url, **aws},
                          variables={"NIANBAO_RAW_STORE": raw_store})
        try:
            cluster.start()
            listening = cluster.listening_addresses()
            cluster.wait_for_dag(DAG_ID)
            run_id = cluster.trigger(DAG_ID, {"sources": sources, "today": TODAY, "fast": True, "jobs": 1})
            killed, state = watch(cluster, run_id, kill_worker, deadline=started + timeout)
            tasks = cluster.task_instances(DAG_ID, run_id)
            listening |= cluster.listening_addresses()
            stack_snapshot = snapshot(cluster.warehouse_url, COMPARED)
        finally:
            cluster.stop()
        with scratch_database(PG_ADMIN_URL, f"{cluster.prefix}_reference") as url:
            reference_harvest(url, portal_url, run_dir / "reference", sources)
            reference = snapshot(url, COMPARED)
    return CheckResult(state, killed, tasks, stack_snapshot, reference, listening, time.monotonic() - started)


def watch(cluster: Cluster, run_id: str, kill_worker: bool, deadline: float) -> tuple[dict | None, str]:
    killed = None
    while time.monotonic() < deadline:
        state = cluster.run_state(DAG_ID, run_id)
        if state in ("success", "failed"):
            return killed, state
        if kill_worker and killed is None:
            killed = kill_a_running_extract(cluster, run_id)
        # until a worker is killed, look often: a text-layer extract task runs for a few seconds
        # only (a poll is one small query of the metadata database)
        time.sleep(0.3 if killed or not kill_worker else 0.05)
    raise StackError(f"{DAG_ID} {run_id} did not finish in time: {cluster.task_instances(DAG_ID, run_id)}")
