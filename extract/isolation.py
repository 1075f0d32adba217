"""One document per worker process, with a time limit and a memory limit.

A hostile file (a decompression bomb, a PDF that sends a parser into a loop)
must end as a finding, never as a hang or a dead pipeline: the parent watches
each worker's clock and resident memory (/proc) and kills it when it goes over;
the worker also runs under an address-space limit as a backstop for one sudden
huge allocation.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from extract.api import Hints, extract_bytes, extract_file
from extract.findings import Findings
from extract.model import finding
from report.record import ReportRecord

_POLL_S = 0.02
# The address-space backstop is looser than the RSS limit: native libraries
# reserve far more virtual memory than they ever touch.
_ADDRESS_SPACE_FACTOR = 4


def _context() -> Any:
    # fork shares the already imported readers; elsewhere spawn is the only safe choice.
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _worker(conn: Connection, source: bytes | str, hints: dict | None, memory_mb: int, ocr: bool) -> None:
    try:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        limit = memory_mb * 1024 * 1024 * _ADDRESS_SPACE_FACTOR
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        parsed = Hints.model_validate(hints) if hints else None
        if isinstance(source, bytes):
            record = extract_bytes(source, hints=parsed, ocr=ocr)
        else:
            record = extract_file(source, parsed, ocr=ocr)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        record.provenance.peak_rss_mb = round(peak, 1)  # type: ignore[attr-defined]
        conn.send_bytes(record.to_json().encode())
    except MemoryError:
        conn.send_bytes(b"oom")
    finally:
        conn.close()


@dataclass
class _Running:
    index: int
    process: multiprocessing.process.BaseProcess
    conn: Connection
    started: float
    source: bytes | str
    hints: Hints | None


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _start(index: int, source: bytes | str | Path, hints: Hints | None, memory_mb: int, ocr: bool) -> _Running:
    if isinstance(source, Path):
        source = str(source)
    parent, child = _context().Pipe(duplex=False)
    process = _context().Process(
        target=_worker, args=(child, source, hints.model_dump() if hints else None, memory_mb, ocr), daemon=True)
    process.start()
    child.close()
    return _Running(index, process, parent, time.monotonic(), source, hints)


def _failed(kind: Findings, message: str, message_en: str, running: _Running) -> ReportRecord:
    from extract.api import _provenance
    from extract.model import Document

    data = running.source if isinstance(running.source, bytes) else _read_quietly(running.source)
    record = ReportRecord(findings=[finding(kind, message, message_en)])
    record.provenance = _provenance(data, running.hints or Hints(), Document(reader="worker"), "unknown", running.started)
    record.provenance.duration_ms = round((time.monotonic() - running.started) * 1000, 2)
    return record


def _read_quietly(path: str) -> bytes:
    try:
        return Path(path).read_bytes() if Path(path).is_file() else b""
    except OSError:
        return b""


def _kill(running: _Running) -> None:
    if running.process.is_alive() and running.process.pid:
        os.kill(running.process.pid, signal.SIGKILL)
    running.process.join(5)
    running.conn.close()


def _check(running: _Running, timeout_s: float, memory_mb: int) -> ReportRecord | None:
    """The record if the worker is done (or has been stopped), else None."""
    if running.conn.poll():
        try:
            payload = running.conn.recv_bytes()
        except (EOFError, OSError):
            payload = b""
        running.process.join(5)
        running.conn.close()
        if payload == b"oom":
            return _oom(running, memory_mb)
        if payload:
            return ReportRecord.from_json(payload)
        return _crashed(running)
    if not running.process.is_alive():
        running.process.join(1)
        running.conn.close()
        return _crashed(running)
    if time.monotonic() - running.started > timeout_s:
        _kill(running)
        return _failed(Findings.EXTRACT_TIMEOUT, f"抽取超过 {timeout_s:g} 秒，已中止",
                       f"extraction took longer than {timeout_s:g} s and was stopped", running)
    if running.process.pid and _rss_mb(running.process.pid) > memory_mb:
        _kill(running)
        return _oom(running, memory_mb)
    return None


def _oom(running: _Running, memory_mb: int) -> ReportRecord:
    return _failed(Findings.EXTRACT_OOM, f"抽取占用内存超过 {memory_mb} MB，已中止",
                   f"extraction needed more than {memory_mb} MB and was stopped", running)


def _crashed(running: _Running) -> ReportRecord:
    code = running.process.exitcode
    if code is not None and code < 0 and -code in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT):
        return _failed(Findings.EXTRACT_OOM, f"抽取进程异常终止（信号 {-code}），可能内存不足",
                       f"the extraction worker died (signal {-code}), most likely out of memory", running)
    return _failed(Findings.EXTRACT_ERROR, f"抽取进程异常退出（{code}）", f"the extraction worker exited with {code}", running)


def extract_isolated(data_or_path: bytes | str | Path, hints: Hints | None = None, *, timeout_s: float = 120,
                     memory_mb: int = 1024, ocr: bool = True) -> ReportRecord:
    """extract_bytes/extract_file in a worker process; a killed worker gives a finding."""
    running = _start(0, data_or_path, hints, memory_mb, ocr)
    while True:
        record = _check(running, timeout_s, memory_mb)
        if record is not None:
            return record
        running.conn.poll(_POLL_S)


def extract_many(paths: Iterable[str | Path], *, jobs: int | None = None, hints: Hints | None = None,
                 timeout_s: float = 120, memory_mb: int = 1024, ocr: bool = True,
                 on_done: Callable[[Path, ReportRecord], None] | None = None) -> Iterator[tuple[Path, ReportRecord]]:
    """Extract many files with `jobs` workers at a time; yields (path, record) in input order."""
    queue = [Path(p) for p in paths]
    jobs = max(1, jobs or os.cpu_count() or 1)
    _warm_up()
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
            time.sleep(_POLL_S)


def _warm_up() -> None:
    """Import the readers and fill the label caches once, in the parent, so that every
    forked worker starts warm instead of paying for them per document."""
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
