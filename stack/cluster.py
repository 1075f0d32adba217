"""The production stack as processes on one machine: the services of docker-compose.yml.

PostgreSQL and Redis are the machine's own; Airflow's api-server, scheduler, dag-processor,
triggerer and N Celery workers are started with the compose file's commands and environment
(`stack.compose`), every one listening on 127.0.0.1 only, each worker with its own data
folder and Celery host name. Everything is stopped by the PIDs it started.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from stack import compose
from warehouse.db import scratch_database

REPO = compose.REPO
PG_ADMIN_URL = os.environ.get("NIANBAO_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = "redis://127.0.0.1:6379/0"
SERVICE_HOSTS = ("postgres", "redis", "airflow-apiserver")
# Container paths of the compose file → folders of this run (None: a folder per service).
CONTAINER_PATHS = {"/opt/nianbao/dags": REPO / "dags", "/opt/nianbao/sources": REPO / "sources"}
DATA_PATH = "/opt/nianbao/var"
# Tuning for a test run only; production keeps Airflow's defaults (see docs/operations.md).
TEST_TUNING = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "45",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
    "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
}


class StackError(RuntimeError):
    """The stack could not start or a run did not finish as it should."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generated_secrets() -> dict[str, str]:
    """The secrets the compose file requires, made up for a throw-away stack."""
    from cryptography.fernet import Fernet

    return {"AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(32),
            "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
            "NIANBAO_DB_PASSWORD": secrets.token_urlsafe(16),
            "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(16)}


def local_database_url(url: str, prefix: str) -> str:
    """A compose database URL (user@postgres/NAME) → the machine's server, database PREFIX_NAME."""
    scheme, _, rest = url.partition("+") if url.startswith("db+") else ("", "", url)
    parsed = make_url(rest)
    if parsed.host != "postgres":
        return url
    local = make_url(PG_ADMIN_URL).set(database=f"{prefix}_{parsed.database}")
    rendered = local.render_as_string(hide_password=False)
    return f"{scheme}+{rendered}" if scheme else rendered


def localise(env: Mapping[str, str], *, prefix: str, api_port: int, data_dir: Path) -> dict[str, str]:
    """The compose environment with this machine's addresses and folders."""
    local: dict[str, str] = {}
    for key, value in env.items():
        if "://" in value and "@postgres:" in value:
            value = local_database_url(value, prefix)
        value = value.replace("redis://redis:6379", REDIS_URL.rsplit("/", 1)[0])
        value = value.replace("http://airflow-apiserver:8080", f"http://127.0.0.1:{api_port}")
        for container, host in CONTAINER_PATHS.items():
            value = value.replace(container, str(host))
        local[key] = value.replace(DATA_PATH, str(data_dir))
    return local


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def descendants(self) -> set[int]:
        try:
            return {child.pid for child in psutil.Process(self.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()

    def kill(self) -> None:
        """SIGKILL the service and everything it started (its own process group)."""
        if self.alive():
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        if not self.alive():
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        text_ = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text_.splitlines()[-lines:])


@dataclass
class Cluster:
    """The stack of docker-compose.yml as processes; `start()`, work, `stop()`."""

    run_dir: Path
    workers: int = 2
    shared_data: bool = False          # True: every worker uses one data folder (one host)
    extra_env: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)   # for the compose file's ${NAME}s
    prefix: str = field(default_factory=lambda: f"nianbao_stack_{uuid.uuid4().hex[:8]}")
    api_port: int = field(default_factory=free_port)
    services: dict[str, Service] = field(default_factory=dict)
    databases: ExitStack = field(default_factory=ExitStack)   # the scratch databases it created

    def __post_init__(self) -> None:
        self.compose = compose.load()
        self.variables = {**os.environ, **generated_secrets(), **self.variables}
        self.queue = self.prefix

    # -- environment --------------------------------------------------------------------------

    def environment(self, service: str, data_dir: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NIANBAO_"))}
        composed = compose.environment(self.compose, service, self.variables)
        env.update(localise(composed, prefix=self.prefix, api_port=self.api_port, data_dir=data_dir))
        env.update({
            "AIRFLOW_HOME": str(self.run_dir / "airflow-home"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.run_dir / "logs"),   # the shared log volume
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,    # this stack's own Celery queue
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **TEST_TUNING,
            **self.extra_env,
        })
        return env

    def data_dir(self, service: str) -> Path:
        folder = self.run_dir / ("data" if self.shared_data or "worker" not in service else f"data-{service}")
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def warehouse_url(self) -> str:
        return self.environment("airflow-scheduler", self.data_dir("airflow-scheduler"))["NIANBAO_WAREHOUSE_URL"]

    @property
    def metadata_url(self) -> str:
        env = self.environment("airflow-scheduler", self.data_dir("airflow-scheduler"))
        return env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]

    # -- life cycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 300) -> Cluster:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.create_databases()
        self.run_init()
        self.launch("airflow-apiserver", compose.command(self.compose, "airflow-apiserver", self.variables))
        for name in ("airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
            self.launch(name, compose.command(self.compose, name, self.variables))
        worker = compose.command(self.compose, "airflow-worker", self.variables)
        for number in range(1, self.workers + 1):
            self.launch(f"airflow-worker-{number}", [*worker, "--celery-hostname", f"worker-{number}@{self.prefix}"],
                        service="airflow-worker")
        self.wait_until_api_answers(timeout)
        return self

    def create_databases(self) -> None:
        for name in (f"{self.prefix}_airflow", f"{self.prefix}_nianbao"):
            self.databases.enter_context(scratch_database(PG_ADMIN_URL, name))

    def run_init(self) -> None:
        """The compose file's airflow-init script, but for the database it creates (ours exist)."""
        script = compose.command(self.compose, "airflow-init", self.variables)[-1]
        steps = [line for line in script.splitlines() if line.strip() and "create-database" not in line]
        env = self.environment("airflow-init", self.data_dir("airflow-init"))
        log = self.run_dir / "airflow-init.log"
        with log.open("wb") as out:
            finished = subprocess.run(["bash", "-c", "\n".join(steps)], cwd=REPO, env=env, stdout=out,
                                      stderr=subprocess.STDOUT, timeout=600)
        if finished.returncode != 0:
            raise StackError(f"airflow-init failed (exit {finished.returncode}):\n{log.read_text()[-4000:]}")

    def launch(self, name: str, argv: list[str], service: str | None = None) -> Service:
        env = self.environment(service or name, self.data_dir(name))
        log = self.run_dir / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.services[name] = Service(name, process, log)
        return self.services[name]

    def restart(self, name: str) -> Service:
        old = self.services[name]
        old.stop()
        argv = old.process.args if isinstance(old.process.args, list) else [str(old.process.args)]
        return self.launch(name, [str(a) for a in argv], service="airflow-worker" if "worker" in name else None)

    def wait_until_api_answers(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(f"http://127.0.0.1:{self.api_port}/api/v2/version", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise StackError(f"the api-server did not answer in {timeout:.0f} s:\n"
                         f"{self.services['airflow-apiserver'].tail()}")

    def check_alive(self) -> None:
        dead = [s for s in self.services.values() if not s.alive()]
        if dead:
            raise StackError("; ".join(f"{s.name} exited ({s.process.returncode}):\n{s.tail()}" for s in dead))

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        self.databases.close()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what runs on it ----------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 300) -> str:
        env = self.environment("airflow-scheduler", self.data_dir("airflow-scheduler"))
        finished = subprocess.run([sys.executable, "-m", "airflow", *args], cwd=REPO, env=env, text=True,
                                  capture_output=True, timeout=timeout)
        if finished.returncode != 0:
            raise StackError(f"airflow {' '.join(args)}: exit {finished.returncode}\n{finished.stderr[-3000:]}")
        return finished.stdout

    def metadata(self) -> Engine:
        return create_engine(self.metadata_url)

    def wait_for_dag(self, dag_id: str, timeout: float = 300) -> None:
        engine = self.metadata()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.check_alive()
                with engine.connect() as conn:
                    if conn.execute(text("SELECT 1 FROM dag WHERE dag_id = :d"), {"d": dag_id}).first():
                        return
                time.sleep(2)
        finally:
            engine.dispose()
        raise StackError(f"the dag-processor did not serialise {dag_id} in {timeout:.0f} s:\n"
                         f"{self.services['airflow-dag-processor'].tail()}")

    def trigger(self, dag_id: str, conf: Mapping[str, Any]) -> str:
        run_id = f"stack__{uuid.uuid4().hex[:10]}"
        self.airflow("dags", "unpause", dag_id)
        self.airflow("dags", "trigger", dag_id, "--run-id", run_id, "--conf", json.dumps(conf))
        return run_id

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        engine = self.metadata()
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT task_id, map_index, state, try_number, pid, hostname FROM task_instance "
                    "WHERE dag_id = :d AND run_id = :r ORDER BY task_id, map_index"), {"d": dag_id, "r": run_id})
                return [dict(row._mapping) for row in rows]
        finally:
            engine.dispose()

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        engine = self.metadata()
        try:
            with engine.connect() as conn:
                return conn.execute(text("SELECT state FROM dag_run WHERE dag_id = :d AND run_id = :r"),
                                    {"d": dag_id, "r": run_id}).scalar()
        finally:
            engine.dispose()

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float, poll: float = 2.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run_state(dag_id, run_id)
            if state in ("success", "failed"):
                return state
            time.sleep(poll)
        raise StackError(f"{dag_id} {run_id} did not finish in {timeout:.0f} s: "
                         f"{self.task_instances(dag_id, run_id)}")

    def worker_running(self, pid: int) -> str | None:
        """The worker whose process tree holds `pid` (a task's process), if any."""
        for name, service in self.services.items():
            if "worker" in name and (pid == service.pid or pid in service.descendants()):
                return name
        return None

    def listening_addresses(self) -> set[str]:
        """Every address a process of the stack listens on (host:port)."""
        pids = {pid for s in self.services.values() if s.alive() for pid in {s.pid, *s.descendants()}}
        found = set()
        for conn in psutil.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
                found.add(f"{conn.laddr.ip}:{conn.laddr.port}")
        return found
