"""One document at a time per worker process, with a time limit and a memory limit.

A hostile file (a decompression bomb, a PDF that sends a parser into a loop)
must end as a finding, never as a hang or a dead pipeline: the parent watches
each worker's clock and resident memory (/proc) and kills it when it goes over;
the worker also runs under an address-space limit as a backstop for one sudden
huge allocation.

The workers are `python -m extract.worker` processes of our own, not
`multiprocessing` children, so extraction works from inside any process — also a
daemonic one (Celery's prefork pool), which may not have multiprocessing children.
A worker serves document after document and is replaced when it was stopped, grew
large or served many; it dies with its parent. Idle workers are kept per
environment (a worker started under other variables is another worker).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from extract.api import Hints
from extract.findings import Findings
from extract.model import finding
from report.record import ReportRecord

log = logging.getLogger(__name__)
_POLL_S = 0.02
_STARTUP_S = 120   # imports and warm-up of a fresh worker, before its document's clock starts
_MAX_DOCUMENTS = 50
_READ_CHUNK = 1 << 20


class _WorkerGone(Exception):
    """The worker's answer channel closed: it exited or was killed."""


class _Worker:
    """One `python -m extract.worker` process and its half-read answers."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "extract.worker", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = self.process.stdin
        self.fd = self.process.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = b""
        self.ready = False
        self.served = 0

    def send(self, request: dict) -> None:
        self.stdin.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
        self.stdin.flush()

    def answer(self) -> dict | None:
        """The next answer if a whole one has arrived (the ready line is taken in passing)."""
        while True:
            line, newline, rest = self.buffer.partition(b"\n")
            if newline:
                self.buffer = rest
                message = json.loads(line)
                if message.get("ready"):
                    self.ready = True
                    continue
                return message
            try:
                chunk = os.read(self.fd, _READ_CHUNK)
            except BlockingIOError:
                return None
            if not chunk:
                raise _WorkerGone
            self.buffer += chunk

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.close()

    def close(self) -> None:
        for stream in (self.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


_idle: dict[int, list[_Worker]] = {}
_idle_lock = threading.Lock()


_spawner: tuple[int, ThreadPoolExecutor] | None = None


def _environment_key() -> int:
    # the pid too: a forked copy of this process (Celery's prefork) must not share our workers
    return hash((os.getpid(), tuple(sorted(os.environ.items()))))


def _spawn() -> _Worker:
    """A new worker, started from one long-lived thread: the kernel's parent-death signal
    follows the thread that started a child, and a caller's thread pool ends its threads
    while their workers still wait idle for the next document."""
    global _spawner
    with _idle_lock:
        if _spawner is None or _spawner[0] != os.getpid():
            _spawner = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract-spawner"))
        spawner = _spawner[1]
    return spawner.submit(_Worker).result()


def _checkout() -> _Worker:
    with _idle_lock:
        pool = _idle.get(_environment_key(), [])
        while pool:
            worker = pool.pop()
            if worker.alive():
                return worker
            worker.close()
    return _spawn()


def _checkin(worker: _Worker, memory_mb: int) -> None:
    worker.served += 1
    if not worker.alive() or worker.served >= _MAX_DOCUMENTS or _rss_mb(worker.process.pid) > memory_mb / 2:
        worker.close()
        return
    with _idle_lock:
        _idle.setdefault(_environment_key(), []).append(worker)


@atexit.register
def close_idle_workers() -> None:
    """Stop every idle worker (they also die with this process)."""
    with _idle_lock:
        workers = [w for pool in _idle.values() for w in pool]
        _idle.clear()
    for worker in workers:
        worker.close()


# bytes, a file (or a flipbook's directory), or the pages of a multipart document in order
Source = bytes | str | Path | Sequence[bytes]


@dataclass
class _Running:
    index: int
    worker: _Worker
    source: bytes | str | list[bytes]
    hints: Hints | None
    spawned: float = field(default_factory=time.monotonic)
    started: float | None = None

    def elapsed(self) -> float:
        return time.monotonic() - (self.started or self.spawned)


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _start(index: int, source: Source, hints: Hints | None, memory_mb: int, ocr: bool) -> _Running:
    request: dict = {"hints": hints.model_dump() if hints else None, "ocr": ocr, "memory_mb": memory_mb}
    kept: bytes | str | list[bytes]
    if isinstance(source, bytes):
        kept = source
        request["data"] = base64.b64encode(source).decode("ascii")
    elif isinstance(source, str | Path):
        kept = request["path"] = str(Path(source).resolve())
    else:   # the pages of a multipart document
        kept = list(source)
        request["parts"] = [base64.b64encode(part).decode("ascii") for part in kept]
    worker = _checkout()
    running = _Running(index, worker, kept, hints)
    if worker.ready:
        running.started = time.monotonic()
    with contextlib.suppress(OSError):   # a worker that died on the way is reported by _check
        worker.send(request)
    return running


def _failed(kind: Findings, message: str, message_en: str, running: _Running) -> ReportRecord:
    from extract.api import _provenance
    from extract.model import Document

    source = running.source
    data = source if isinstance(source, bytes) else b"".join(source) if isinstance(source, list) else \
        _read_quietly(source)
    record = ReportRecord(findings=[finding(kind, message, message_en)])
    record.provenance = _provenance(data, running.hints or Hints(), Document(reader="worker"), "unknown",
                                    time.perf_counter())
    record.provenance.duration_ms = round(running.elapsed() * 1000, 2)
    return record


def _read_quietly(path: str) -> bytes:
    try:
        return Path(path).read_bytes() if Path(path).is_file() else b""
    except OSError:
        return b""


def _check(running: _Running, timeout_s: float, memory_mb: int) -> ReportRecord | None:
    """The record if the worker is done (or has been stopped), else None."""
    worker = running.worker
    try:
        was_ready = worker.ready
        answer = worker.answer()
        if worker.ready and not was_ready:
            running.started = time.monotonic()
    except (_WorkerGone, ValueError):
        worker.close()
        return _crashed(running)
    if answer is not None:
        return _answered(running, answer, memory_mb)
    if running.started is None and running.elapsed() > _STARTUP_S:
        worker.kill()
        return _failed(Findings.EXTRACT_ERROR, f"抽取进程 {_STARTUP_S} 秒内未能启动",
                       f"the extraction worker did not start within {_STARTUP_S} s", running)
    if running.started is not None and running.elapsed() > timeout_s:
        worker.kill()
        return _failed(Findings.EXTRACT_TIMEOUT, f"抽取超过 {timeout_s:g} 秒，已中止",
                       f"extraction took longer than {timeout_s:g} s and was stopped", running)
    if _rss_mb(worker.process.pid) > memory_mb:
        worker.kill()
        return _oom(running, memory_mb)
    return None


def _answered(running: _Running, answer: dict, memory_mb: int) -> ReportRecord:
    for line in answer.get("log", []):
        log.warning("extraction worker: %s", line)
    if answer.get("oom"):
        running.worker.close()
        return _oom(running, memory_mb)
    _checkin(running.worker, memory_mb)
    return ReportRecord.from_json(answer["record"])


def _oom(running: _Running, memory_mb: int) -> ReportRecord:
    return _failed(Findings.EXTRACT_OOM, f"抽取占用内存超过 {memory_mb} MB，已中止",
                   f"extraction needed more than {memory_mb} MB and was stopped", running)


def _crashed(running: _Running) -> ReportRecord:
    code = running.worker.process.returncode
    if code is not None and code < 0 and -code in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT):
        return _failed(Findings.EXTRACT_OOM, f"抽取进程异常终止（信号 {-code}），可能内存不足",
                       f"the extraction worker died (signal {-code}), most likely out of memory", running)
    return _failed(Findings.EXTRACT_ERROR, f"抽取进程异常退出（{code}）", f"the extraction worker exited with {code}", running)


def _wait(running: list[_Running]) -> None:
    """Until one of the workers has something to say, or the next poll is due."""
    select.select([item.worker.fd for item in running], [], [], _POLL_S)


def extract_isolated(data_or_path: Source, hints: Hints | None = None, *, timeout_s: float = 120,
                     memory_mb: int = 1024, ocr: bool = True) -> ReportRecord:
    """extract_bytes/extract_file (extract_parts for a list of pages) in a worker process; a killed
    worker gives a finding."""
    running = _start(0, data_or_path, hints, memory_mb, ocr)
    while True:
        record = _check(running, timeout_s, memory_mb)
        if record is not None:
            return record
        _wait([running])


def extract_many(paths: Iterable[str | Path], *, jobs: int | None = None, hints: Hints | None = None,
                 timeout_s: float = 120, memory_mb: int = 1024, ocr: bool = True,
                 on_done: Callable[[Path, ReportRecord], None] | None = None) -> Iterator[tuple[Path, ReportRecord]]:
    """Extract many files with `jobs` workers at a time; yields (path, record) in input order."""
    queue = [Path(p) for p in paths]
    jobs = max(1, jobs or os.cpu_count() or 1)
    running: list[_Running] = []
    done: dict[int, ReportRecord] = {}
    next_start = next_yield = 0
    while next_yield < len(queue):
        while len(running) < jobs and next_start < len(queue):
            running.append(_start(next_start, queue[next_start], hints, memory_mb, ocr))
            next_start += 1
        for item in list(running):
            record = _check(item, timeout_s, memory_mb)
            if record is not None:
                running.remove(item)
                done[item.index] = record
                if on_done:
                    on_done(queue[item.index], record)
        while next_yield in done:
            yield queue[next_yield], done.pop(next_yield)
            next_yield += 1
        if running:
            _wait(running)


def _warm_up() -> None:
    """Import the readers and fill the label caches once, when a worker starts, so that
    it serves its documents warm instead of paying for them per document."""
    import pdfplumber  # noqa: F401
    import pypdfium2  # noqa: F401

    import extract.readers.html  # noqa: F401
    import extract.readers.pdf  # noqa: F401
    import extract.readers.pdf_grid  # noqa: F401
    from extract.mapper import Mapper
    from extract.model import Cell, Row
    from report.catalogue import CATALOGUE, SECTIONS

    for format_tables in CATALOGUE.values():
        rows = [Row([Cell(label)]) for _, label, _ in SECTIONS]
        for table in format_tables:
            columns = [line.label for line in table.columns]
            rows.append(Row([Cell(text, float(i), float(i + 1)) for i, text in enumerate(["", *columns])], 1, "w", True))
            for line in table.rows:
                figures = ["0"] * len(columns)
                rows.append(Row([Cell(t, float(i), float(i + 1)) for i, t in enumerate([line.label, *figures])], 1, "w", True))
        Mapper().feed(rows)
