"""The crawl stage: one crawl of some sources, in its own process (`python -m crawler crawl`).

The Twisted reactor cannot restart inside a process, so every crawl is a child
process (`launch_crawler`, the one launcher): it is told its settings in a JSON file
(`crawler.config.CrawlConfig`), its environment holds none, and its JSON summary is
read back from a file. Crawl runs (from the crawl index,
whoever ran them) are copied into the warehouse's crawl_runs, one row per source, for
the site-health alerts.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.config import CrawlConfig
from extract.lifetime import die_with_parent
from nianbao.settings import child_environment
from nianbao.stages.context import StageContext, ensure_warehouse, read_crawl_index

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crawler.registry import Source

log = logging.getLogger(__name__)
CRAWL_TIMEOUT_SECONDS = 6 * 3600


class CrawlFailed(RuntimeError):
    """The crawl process itself failed: bad settings, killed, or no summary (not a site: a broken
    site is data, and an alert)."""


@dataclass
class CrawlOutcome:
    sources: list[str]
    summary: dict[str, Any] = field(default_factory=dict)
    returncode: int = 0

    @property
    def finish_reason(self) -> str:
        return str(self.summary.get("finish_reason", "unknown"))

    @property
    def store_errors(self) -> int:
        """Documents the raw store could not keep (a full disk): the crawl failed."""
        return int(self.summary.get("errors", {}).get("store_error", 0))

    @property
    def new_documents(self) -> int:
        from crawler.summary import DocumentCounts

        documents = DocumentCounts.model_validate(self.summary.get("documents", {}))
        return documents.new + documents.changed


def crawl_config(context: StageContext, *, recheck_interval: float | None = None,
                 scrapy: dict[str, Any] | None = None) -> CrawlConfig:
    """What the crawl process is told: every path and setting it needs, from this process."""
    return CrawlConfig(data_dir=context.data_dir, sources_dir=context.sources_dir, raw_store=context.raw_store,
                       crawl_index=context.crawl_index, sandbox_url=context.sandbox_url,
                       recheck_interval=recheck_interval or context.settings.recheck_interval,
                       browser=context.settings.browser, scrapy=dict(scrapy or {}))


def launch_crawler(context: StageContext, source_ids: Sequence[str], *, command: str = "crawl", fast: bool = False,
                   full: bool = False, recheck_interval: float | None = None, scrapy: dict[str, Any] | None = None,
                   timeout: float | None = CRAWL_TIMEOUT_SECONDS, show_log: bool = False) -> CrawlOutcome:
    """Run `python -m crawler crawl|probe` with its settings in a file (its environment holds none)
    and return its summary; raises CrawlFailed when the process leaves no summary. `show_log` lets
    the child's log through to our stderr instead of keeping its tail for the error."""
    with tempfile.TemporaryDirectory(prefix="nianbao-crawl-") as scratch:
        config_path, summary_path = Path(scratch) / "config.json", Path(scratch) / "summary.json"
        config_path.write_text(crawl_config(context, recheck_interval=recheck_interval, scrapy=scrapy).to_json(),
                               encoding="utf-8")
        args = [sys.executable, "-m", "crawler", command, *source_ids, "--config", str(config_path),
                "--summary", str(summary_path), *(["--fast"] if fast else []), *(["--full"] if full else [])]
        log.info("%s of %d source(s): %s", command, len(source_ids), ", ".join(source_ids) or "all")
        try:
            finished = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=None if show_log else subprocess.PIPE,
                                      text=True, timeout=timeout, check=False, env=child_environment(),
                                      preexec_fn=die_with_parent)   # no crawler outlives a killed harvest
        except subprocess.TimeoutExpired:
            raise CrawlFailed(f"the {command} of {', '.join(source_ids) or 'all sources'} took longer than "
                              f"{timeout or 0:.0f} s") from None
        if not summary_path.exists():
            tail = "\n".join((finished.stderr or "").strip().splitlines()[-15:])
            raise CrawlFailed(f"the {command} process exited with {finished.returncode} and no summary"
                              + (f":\n{tail}" if tail else ""))
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    return CrawlOutcome(sources=list(source_ids), summary=summary, returncode=finished.returncode)


def run_crawl(context: StageContext, source_ids: Sequence[str], *, fast: bool = False, full: bool = False,
              timeout: float = CRAWL_TIMEOUT_SECONDS) -> CrawlOutcome:
    """Crawl these sources in a child process and record its run in the warehouse; raises CrawlFailed when the
    process fails or leaves no summary, or the raw store could not keep some documents. Sources that are broken
    only show in the summary."""
    if not source_ids:
        return CrawlOutcome(sources=[])
    outcome = launch_crawler(context, source_ids, fast=fast, full=full, timeout=timeout)
    sync_crawl_runs(context)
    if outcome.store_errors:
        raise CrawlFailed(f"the raw store {context.raw_store} could not keep {outcome.store_errors} document(s) of "
                          f"{', '.join(source_ids)} (store_error, recorded in the crawl index: see the crawl log)")
    return outcome


def sync_crawl_runs(context: StageContext) -> int:
    """Copy the crawl index's finished runs into the warehouse's crawl_runs — one row per source,
    each run once (by its run_id) — whoever ran the crawl (`nianbao crawl`, a harvest, a DAG task).
    Returns the number of rows added."""
    runs = [run for run in read_crawl_index(context, lambda index: index.runs())
            if run.get("finished_at") and run.get("summary")]
    return _record_runs(context, runs) if runs else 0


def _record_runs(context: StageContext, runs: list[dict[str, Any]]) -> int:
    from nianbao.stages.registry import load_sources
    from warehouse.load import in_transaction
    from warehouse.session import warehouse_engine

    ensure_warehouse(context)
    registered = {source.id: source for source in load_sources(context)}
    with warehouse_engine(context.warehouse_url) as engine:   # retried whole after a dropped connection
        return in_transaction(engine, lambda session: _record_new_runs(session, runs, registered))


def _record_new_runs(session: Session, runs: list[dict[str, Any]], registered: Mapping[str, Source]) -> int:
    from crawler.summary import CrawlSummary
    from nianbao.stages.sync import sync_sources
    from warehouse.operational import record_crawl_run, recorded_crawl_run_ids

    known = recorded_crawl_run_ids(session)
    new_runs = [(run, CrawlSummary.model_validate(run["summary"])) for run in runs if run["run_id"] not in known]
    used = {sid for _, summary in new_runs for sid in summary.sources if sid in registered}
    sync_sources(session, [registered[sid] for sid in sorted(used)])
    added = 0
    for run, summary in new_runs:
        for source_id, stats in summary.sources.items():
            if source_id in registered:
                added += record_crawl_run(session, run_id=str(run["run_id"]), source_id=source_id,
                                          started_at=_when(run["started_at"]), finished_at=_when(run["finished_at"]),
                                          finish_reason=run["finish_reason"], stats=stats.model_dump(mode="json"))
    return added


def _when(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
