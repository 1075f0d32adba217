"""The crawl stage: one crawl of some sources, in its own process (`python -m crawler crawl`).

The Twisted reactor cannot restart inside a process, so every crawl is a child
process; its JSON summary is read back from a file. Crawl runs (from the crawl index,
whoever ran them) are copied into the warehouse's crawl_runs, one row per source, for
the site-health alerts.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
        from crawler.summary import DocumentCounts

        documents = DocumentCounts.model_validate(self.summary.get("documents", {}))
        return documents.new + documents.changed


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
    """Crawl these sources in a child process and record its run in the warehouse; raises CrawlFailed when the
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
    sync_crawl_runs(context)
    return outcome


def sync_crawl_runs(context: StageContext) -> int:
    """Copy the crawl index's finished runs into the warehouse's crawl_runs — one row per source,
    each run once (by its run_id) — whoever ran the crawl (`nianbao crawl`, a harvest, a DAG task).
    Returns the number of rows added."""
    from crawler.index import DocumentIndex

    if not context.crawl_index.exists():
        return 0
    index = DocumentIndex(context.crawl_index, readonly=True)
    try:
        runs = [run for run in index.runs() if run.get("finished_at") and run.get("summary")]
    finally:
        index.close()
    return _record_runs(context, runs) if runs else 0


def _record_runs(context: StageContext, runs: list[dict[str, Any]]) -> int:
    from sqlalchemy import select

    from crawler.summary import CrawlSummary
    from nianbao.stages.registry import load_sources
    from nianbao.stages.sync import sync_sources
    from warehouse.db import make_engine, session_scope
    from warehouse.models import CrawlRun

    ensure_warehouse(context)
    registered = {source.id: source for source in load_sources(context)}
    engine = make_engine(context.warehouse_url)
    added = 0
    try:
        with session_scope(engine) as session:
            known = {(stats or {}).get("run_id") for stats in session.scalars(select(CrawlRun.stats))}
            new_runs = [(run, CrawlSummary.model_validate(run["summary"])) for run in runs
                        if run["run_id"] not in known]
            used = {sid for _, summary in new_runs for sid in summary.sources if sid in registered}
            sync_sources(session, [registered[sid] for sid in sorted(used)])
            for run, summary in new_runs:
                for source_id, stats in summary.sources.items():
                    if source_id not in registered:
                        continue
                    session.add(CrawlRun(source_id=source_id, started_at=_when(run["started_at"]),
                                         finished_at=_when(run["finished_at"]), finish_reason=run["finish_reason"],
                                         stats={"run_id": run["run_id"], **stats.model_dump(mode="json")}))
                    added += 1
    finally:
        engine.dispose()
    return added


def _when(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
