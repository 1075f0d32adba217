"""One harvest at a time per data directory: two would crawl the same index concurrently.

The lock is an advisory `flock` on `<data dir>/harvest.lock`, which also names its holder
(host, pid, start time). The kernel drops the lock when its holder dies, however it
dies, so the lock of a killed harvest is simply taken over; the file's old contents
only ever describe a holder that is still running while the lock is held.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from nianbao.stages.context import StageContext

P = ParamSpec("P")
R = TypeVar("R")
LOCK_NAME = "harvest.lock"
log = logging.getLogger(__name__)


class HarvestRunning(RuntimeError):
    """Another harvest holds the lock of this data directory."""

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        self.path = path
        self.holder = holder
        who = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, started {holder.get('started', '?')}"
        super().__init__(f"another harvest is running ({who}); lock {path}")


def lock_path(context: StageContext) -> Path:
    return Path(context.data_dir) / LOCK_NAME


@contextmanager
def harvest_lock(context: StageContext) -> Iterator[dict[str, Any]]:
    """Hold the data directory's harvest lock for the block; HarvestRunning if another holds it."""
    path = lock_path(context)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HarvestRunning(path, _holder(descriptor)) from None
        stale = _holder(descriptor)
        if stale:
            log.warning("taking over the harvest lock %s of a harvest that ended without releasing it "
                        "(pid %s on host %s, started %s)", path, stale.get("pid"), stale.get("host"), stale.get("started"))
        holder = {"host": socket.gethostname(), "pid": os.getpid(),
                  "started": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(holder).encode(), 0)
        try:
            yield holder
        finally:
            os.ftruncate(descriptor, 0)
    finally:
        os.close(descriptor)   # releases the flock


def _holder(descriptor: int) -> dict[str, Any]:
    try:
        holder = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def holding_harvest_lock(function: Callable[P, R]) -> Callable[P, R]:
    """Run a stage function (its first argument the StageContext) under the harvest lock."""

    @functools.wraps(function)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        context = args[0] if args else kwargs["context"]
        assert isinstance(context, StageContext)
        with harvest_lock(context):
            return function(*args, **kwargs)

    return locked
