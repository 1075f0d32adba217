"""Run a crawl (or a probe) in its own process and get its summary back.

The Twisted reactor cannot restart inside one process, so callers (the CLI, the stage
functions, Airflow tasks) start `python -m crawler` as a child process:

    summary = run_crawl(sources=["sandbox-hongze"], sandbox_url=portal.url, data_dir="var", fast=True)
    summary["documents"]["new"], summary["errors"], summary["flags"]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


class CrawlFailed(RuntimeError):
    """The crawl process ended without a summary (bad arguments, or it was killed)."""


def run_crawl(sources: list[str] | None = None, *, command: str = "crawl", full: bool = False,
              sandbox_url: str | None = None, data_dir: str | Path | None = None,
              sources_dir: str | Path | None = None, raw_store: str | None = None,
              index: str | Path | None = None, fast: bool = False, recheck_interval: float | None = None,
              settings: dict[str, object] | None = None, timeout: float | None = None) -> dict:
    """Run `python -m crawler crawl|probe …` and return its summary; the child's log goes to our stderr."""
    ids = [part for value in sources or [] for part in value.replace(",", " ").split()]
    args = [sys.executable, "-m", "crawler", command, *ids]
    options: dict[str, object] = {"--sandbox-url": sandbox_url, "--data-dir": data_dir, "--sources-dir": sources_dir,
                                  "--store": raw_store, "--index": index, "--recheck-interval": recheck_interval}
    for flag, value in options.items():
        if value not in (None, ""):
            args += [flag, str(value)]
    if full:
        args.append("--full")
    if fast:
        args.append("--fast")
    for name, setting in (settings or {}).items():
        args += ["--set", f"{name}={setting}"]
    result = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=False, timeout=timeout)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise CrawlFailed(f"the {command} process ended without a summary (exit {result.returncode})") from None
