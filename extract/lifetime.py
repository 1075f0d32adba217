"""Child processes that die with their parent: no orphan outlives a `kill -9` of its parent."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; a no-op elsewhere).

    Usable as a Popen `preexec_fn`, or called by the child itself with the parent's pid:
    a parent that died before the request was made is noticed, and we exit at once.
    """
    if not sys.platform.startswith("linux"):
        return
    # the running program's own symbols include libc's; no library search (unsafe after fork)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)
