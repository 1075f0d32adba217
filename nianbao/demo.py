"""`make demo`: the whole pipeline on one machine, against the local sandbox portal.

Starts the sandbox portal on 127.0.0.1 (a free port; one 2024 report held back, so that
it is missing), harvests every sandbox agency
(all five CMS families) into a fresh `var/warehouse.db` — crawl, extract (2 worker
processes), validate, load, check alerts as of 2025-04-15 — then prints the coverage,
the alerts and three example queries over the warehouse views, and stops the portal.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

AS_OF = date(2025, 4, 15)   # the deadlines of report year 2024 have passed
JOBS = 2
# As of AS_OF this agency has not published its 2024 report yet: a "missing" alert.
NOT_YET_PUBLISHED = ("lueyang-land-2024-word-pdf",)

EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    ("Applications received (表三 新收申请) per report year",
     "SELECT year, COUNT(*) AS reports, SUM(t3_new_total) AS applications, "
     "SUM(t3_disclosed_total) AS disclosed_in_full FROM report_wide GROUP BY year ORDER BY year"),
    ("The busiest agencies of 2024, with the share of requests answered by full disclosure",
     "SELECT agency, t3_new_total AS applications, t3_result_total_total AS answered, "
     "ROUND(100.0 * t3_disclosed_total / NULLIF(t3_result_total_total, 0), 1) AS disclosed_pct "
     "FROM report_wide WHERE year = 2024 ORDER BY t3_new_total DESC LIMIT 5"),
    ("Quarantined reports and the identities they break",
     "SELECT agency, year, rule, rule_label, COUNT(*) AS findings FROM findings_labelled "
     "WHERE severity = 'error' GROUP BY agency, year, rule, rule_label ORDER BY agency, year, rule"),
)


def fresh_data_dir(data_dir: Path) -> None:
    """Remove the demo's warehouse (with the crawl index in it); the content-addressed raw store is kept."""
    for name in ("warehouse.db", "warehouse.db-wal", "warehouse.db-shm"):
        (data_dir / name).unlink(missing_ok=True)
    shutil.rmtree(data_dir / "crawl", ignore_errors=True)   # run summaries (and an index file of earlier versions)
    data_dir.mkdir(parents=True, exist_ok=True)


def print_rows(console: Console, title: str, columns: list[str], rows: list[tuple]) -> None:
    console.print(f"\n[bold]{escape(title)}[/bold]")   # above the table: a title never wraps to its width
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
                        for value in row))
    console.print(table)


def show_coverage(console: Console, url: str) -> None:
    from warehouse.status import COUNTS, coverage, totals

    rows = coverage(url, by="province")
    by_year: dict[int, dict[str, int]] = {}
    for row in rows:
        year = by_year.setdefault(row.year, dict.fromkeys(COUNTS, 0))
        for name in COUNTS:
            year[name] += getattr(row, name)
    table_rows: list[tuple] = [(year, *(counts[name] for name in COUNTS)) for year, counts in sorted(by_year.items())]
    table_rows.append(("total", *totals(rows).values()))
    print_rows(console, "Coverage (nianbao status)", ["year", *COUNTS], table_rows)


def show_alerts(console: Console, context: object) -> None:
    from nianbao.alerts.messages import KIND_LABELS, shown_text
    from nianbao.stages.check import list_alerts

    alerts = sorted(list_alerts(context, open_only=True), key=lambda a: (a["kind"], a["message"]))  # type: ignore[arg-type]
    print_rows(console, f"Open alerts as of {AS_OF} (nianbao alerts --open): {len(alerts)}",
               ["kind", "", "message"],
               [(a["kind"], KIND_LABELS.get(a["kind"], ""), shown_text(a["kind"], a["message"], a["details"], AS_OF))
                for a in alerts])


def show_queries(console: Console, url: str) -> None:
    from warehouse.query import run_query

    for title, sql in EXAMPLE_QUERIES:
        result = run_query(sql, url)
        print_rows(console, title, result.columns, result.rows)
        console.print(f"[dim]nianbao query \"{escape(sql)}\"[/dim]", highlight=False)


def run(data_dir: Path, sources_dir: Path, *, sites: list[str] | None = None,
        console: Console | None = None) -> int:
    """The demo over `sites` (default: every sandbox agency), into `<data_dir>/warehouse.db`."""
    from nianbao.cli.harvest import (
        ProgressBars,
        check_table,
        crawl_table,
        print_problems,
        process_table,
    )
    from nianbao.stages import StageContext, harvest
    from nianbao.stages.registry import sandbox_source_ids
    from sandbox.portal import PortalConfig, PortalServer

    console = console or Console(width=shutil.get_terminal_size((120, 40)).columns)
    started = time.monotonic()
    fresh_data_dir(data_dir)
    url = f"sqlite:///{data_dir / 'warehouse.db'}"
    portal = PortalServer(PortalConfig(sites=list(sites) if sites else None,  # type: ignore[arg-type]
                                       hold_back=list(NOT_YET_PUBLISHED))).start()
    console.print(f"sandbox portal on {portal.url}; warehouse {url}; alerts as of {AS_OF}")
    try:
        context = StageContext(data_dir=data_dir, warehouse_url=url, raw_store=str(data_dir / "raw"),
                               sources_dir=sources_dir, sandbox_url=portal.url)
        sources = [s for s in sandbox_source_ids(context) if sites is None or s.removeprefix("sandbox-") in sites]
        console.print(f"harvesting {len(sources)} sandbox agencies with {JOBS} extraction workers …")
        with ProgressBars(console) as bars:
            summary = harvest(context, today=AS_OF, sources=sources, jobs=JOBS, fast=True, progress=bars,
                              notifiers=[])
    finally:
        portal.stop()
    console.print(crawl_table(summary), process_table(summary.processed))
    print_problems(console, summary.processed)
    if summary.checked:
        console.print(check_table(summary.checked))
    show_coverage(console, url)
    show_alerts(console, context)
    show_queries(console, url)
    console.print(f"[bold]demo finished in {time.monotonic() - started:.0f} s[/bold] "
                  f"(portal stopped; the warehouse stays in {data_dir / 'warehouse.db'})")
    from nianbao.cli.web import DEFAULT_PORT

    console.print(f"browse it: `make serve` (or `nianbao serve --today {AS_OF}` for the demo's deadlines), "
                  f"then open [bold]http://127.0.0.1:{DEFAULT_PORT}/[/bold]", highlight=False)
    return 1 if summary.crawl_failures else 0


def main() -> int:
    from nianbao.settings import get_settings

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    return run(settings.data_path, settings.sources_dir)


if __name__ == "__main__":
    sys.exit(main())
