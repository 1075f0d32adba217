"""The crawl stage: one crawl of some sources, in its own process (`python -m crawler crawl`).

The Twisted reactor cannot restart inside a process, so every crawl is a child
process; its JSON summary is read back from a file. The crawl run is recorded in
the warehouse (crawl_runs, one row per source) for the site-health alerts.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao.stages.context import StageContext, ensure_warehouse

log = logging.getLogger(__name__)
CRAWL_TIMEOUT_SECONDS = 6 * 3600


class CrawlFailed(RuntimeError):
    """The crawl process itself failed (not a site: a broken site is data, and an alert)."""


@dataclass
class CrawlOutcome:
    sources: list[str]
    summary: dict[str, Any] = field(default_factory=dict)
    returncode: int = 0

    @property
    def finish_reason(self) -> str:
        return str(self.summary.get("finish_reason", "unknown"))

    @property
    def new_documents(self) -> int:
        documents = self.summary.get("documents", {})
        return int(documents.get("new", 0)) + int(documents.get("changed", 0))


def crawl_command(context: StageContext, source_ids: Sequence[str], summary_path: Path, *,
                  fast: bool = False, full: bool = False) -> list[str]:
    command = [sys.executable, "-m", "crawler", "crawl", *source_ids, "--summary", str(summary_path),
               "--data-dir", str(context.data_dir), "--sources-dir", str(context.sources_dir),
               "--store", context.raw_store, "--index", str(context.crawl_index)]
    if context.sandbox_url:
        command += ["--sandbox-url", context.sandbox_url]
    if fast:
        command.append("--fast")
    if full:
        command.append("--full")
    return command


def run_crawl(context: StageContext, source_ids: Sequence[str], *, fast: bool = False, full: bool = False,
              timeout: float = CRAWL_TIMEOUT_SECONDS) -> CrawlOutcome:
    """Crawl these sources in a child process and record the run; raises CrawlFailed when the
    process fails or leaves no summary. Sources that are broken only show in the summary."""
    if not source_ids:
        return CrawlOutcome(sources=[])
    with tempfile.TemporaryDirectory(prefix="nianbao-crawl-") as scratch:
        summary_path = Path(scratch) / "summary.json"
        command = crawl_command(context, source_ids, summary_path, fast=fast, full=full)
        log.info("crawling %d source(s): %s", len(source_ids), ", ".join(source_ids))
        try:
            finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise CrawlFailed(f"the crawl of {', '.join(source_ids)} took longer than {timeout:.0f} s") from None
        if not summary_path.exists():
            tail = "\n".join(finished.stderr.strip().splitlines()[-15:])
            raise CrawlFailed(f"the crawl exited with {finished.returncode} and no summary:\n{tail}")
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    outcome = CrawlOutcome(sources=list(source_ids), summary=summary, returncode=finished.returncode)
    record_crawl_run(context, outcome)
    return outcome


def record_crawl_run(context: StageContext, outcome: CrawlOutcome) -> None:
    """One crawl_runs row per source, with that source's figures as stats."""
    from nianbao.stages.registry import load_sources
    from nianbao.stages.sync import sync_sources
    from warehouse.db import make_engine, session_scope
    from warehouse.operational import finish_crawl_run, start_crawl_run

    ensure_warehouse(context)
    engine = make_engine(context.warehouse_url)
    try:
        with session_scope(engine) as session:
            sync_sources(session, load_sources(context, outcome.sources))
            for source_id in outcome.sources:
                stats = {"run_id": outcome.summary.get("run_id"),
                         **outcome.summary.get("sources", {}).get(source_id, {})}
                run = start_crawl_run(session, source_id)
                finish_crawl_run(session, run.id, stats=stats, finish_reason=outcome.finish_reason)
    finally:
        engine.dispose()
