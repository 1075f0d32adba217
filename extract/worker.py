"""The extraction worker: `python -m extract.worker PARENT_PID`, one document at a time.

A process of our own (not `multiprocessing`), so it can be started from anywhere —
also from a daemonic process such as a Celery prefork child. It speaks JSON lines:

    request (stdin):  {"path": "…"}, {"data": "<base64>"} or {"parts": ["<base64>", …]} (the pages of
                      a multipart document), with "hints", "ocr", "memory_mb"
    answer (stdout):  {"record": "<record JSON>", "peak_rss_mb": 83.1, "log": ["…"]} or {"oom": true}

The answers go to a private copy of the original stdout; file descriptor 1 itself
points at stderr, and around each reading at a capture file, so nothing a library
prints (to `sys.stdout` or straight to fd 1) can reach the answer channel or the
caller's stdout. What it printed, and the worker's log records, come back as "log" for
the caller to log.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import resource
import sys
import tempfile
import warnings
from collections.abc import Iterator
from typing import IO, Any

from extract.api import Hints, extract_bytes, extract_file, extract_parts
from extract.lifetime import die_with_parent

# The address-space backstop is looser than the RSS limit the parent watches: native
# libraries reserve far more virtual memory than they ever touch.
ADDRESS_SPACE_FACTOR = 4


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


@contextlib.contextmanager
def captured_stdout(lines: list[str]) -> Iterator[None]:
    """Everything written to fd 1 or sys.stdout inside the block, appended to `lines`."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            lines += [f"stdout: {line}" for line in text.splitlines() if line.strip()]


def _set_memory_limit(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024 * ADDRESS_SPACE_FACTOR
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _reset_peak_rss() -> None:
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")   # resets VmHWM (Linux ≥ 4.0)


def _peak_rss_mb() -> float:
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def handle(request: dict[str, Any], collect: _Collect) -> dict[str, Any]:
    collect.lines = []
    _set_memory_limit(int(request.get("memory_mb", 1024)))
    _reset_peak_rss()
    hints = Hints.model_validate(request["hints"]) if request.get("hints") else None
    ocr = bool(request.get("ocr", True))
    with captured_stdout(collect.lines):
        if "parts" in request:
            record = extract_parts([base64.b64decode(part) for part in request["parts"]], hints)
        elif "data" in request:
            record = extract_bytes(base64.b64decode(request["data"]), hints=hints, ocr=ocr)
        else:
            record = extract_file(request["path"], hints, ocr=ocr)
    peak = _peak_rss_mb()
    record.provenance.peak_rss_mb = peak
    return {"record": record.to_json(), "peak_rss_mb": peak, "log": collect.lines}


def serve(requests: IO[str], answers: IO[bytes]) -> None:
    collect = _Collect()
    logging.basicConfig(handlers=[collect], level=logging.WARNING, force=True)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    for line in requests:
        if not line.strip():
            continue
        try:
            answer = handle(json.loads(line), collect)
        except MemoryError:
            answers.write(b'{"oom": true}\n')
            answers.flush()
            return   # the heap may be in any state: the parent starts a fresh worker
        answers.write(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
        answers.flush()


def main() -> None:
    die_with_parent(int(sys.argv[1]) if len(sys.argv) > 1 else None)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)   # from here on, fd 1 is stderr: only `answers` reaches the parent's pipe
    from extract.isolation import _warm_up

    _warm_up()
    answers.write(b'{"ready": true}\n')
    answers.flush()
    serve(sys.stdin, answers)


if __name__ == "__main__":
    main()
