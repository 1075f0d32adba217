"""`nianbao harvest|process|check|alerts`: the stages from the command line.

Exit status: 0 when the run itself worked, whatever the documents held (a malformed
report is data, and an alert); 1 when the run failed (a crawl process died, the
warehouse could not be reached, a notifier could not deliver the alerts); 2 for a bad
option or setting (an unknown source, a bad date, a misspelt alert variable).
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from nianbao.cli.output import JsonOption, echo_json, jsonable

if TYPE_CHECKING:
    from rich.console import Console

    from nianbao.stages import CheckSummary, HarvestSummary, ProcessSummary, StageContext

EXIT_RUN_FAILED = 1
EXIT_USAGE = 2

SourcesOption = Annotated[list[str] | None, typer.Option(
    "--sources", "-s", help="Source ids, comma-separated or repeated (default: every source).")]
YearOption = Annotated[list[int] | None, typer.Option("--year", "-y", help="Report year (repeatable; default: all).")]
TodayOption = Annotated[str | None, typer.Option(
    "--today", help="Check alerts as of this ISO date (default: today in China).", metavar="YYYY-MM-DD")]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Extraction worker processes.")]
SandboxOption = Annotated[str | None, typer.Option(
    "--sandbox-url", help="Base URL of the sandbox portal (replaces {sandbox}; default NIANBAO_SANDBOX_URL).")]


def register(app: typer.Typer) -> None:
    app.command("harvest")(harvest_command)
    app.command("process")(process_command)
    app.command("check")(check_command)
    alerts = typer.Typer(invoke_without_command=True, help="List the stored alerts; `alerts test` sends a test "
                                                           "message through each notifier.")
    alerts.callback()(alerts_command)
    alerts.command("test")(alerts_test_command)
    app.add_typer(alerts, name="alerts")


# ---------------------------------------------------------------- helpers
def _fail(message: str, code: int = EXIT_RUN_FAILED) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _sources(values: list[str] | None) -> list[str] | None:
    from crawler.registry import split_ids

    return split_ids(values) or None


def _today(value: str | None) -> date:
    if not value:
        from report.agencies import today_in_china

        return today_in_china()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"--today must be an ISO date (YYYY-MM-DD), got {value!r}", EXIT_USAGE)


def _context(sandbox_url: str | None = None) -> StageContext:
    """The stage context from the settings; a bad setting (a misspelt alert variable, an unknown
    webhook format) stops the command before it does anything."""
    from pydantic import ValidationError

    from nianbao.stages import StageContext

    try:
        return StageContext.from_settings(sandbox_url=sandbox_url or None)
    except ValidationError as exc:
        _fail(f"bad settings: {_validation_text(exc)}", EXIT_USAGE)


def _validation_text(exc: Any) -> str:
    return "; ".join(str(error["msg"]).removeprefix("Value error, ") + (
        f" ({'.'.join(map(str, error['loc']))})" if error.get("loc") else "") for error in exc.errors())


def _notifiers(context: StageContext) -> list[Any]:
    """The configured notifiers, checked before the command stores anything."""
    from nianbao.alerts.notifiers import configured_notifiers

    try:
        return configured_notifiers(context.settings)
    except ValueError as exc:
        _fail(f"bad notifier settings: {exc}", EXIT_USAGE)


def _check_sources(context: StageContext, sources: list[str] | None) -> None:
    from nianbao.stages.registry import RegistryProblem, load_sources

    try:
        load_sources(context, sources)
    except RegistryProblem as exc:
        _fail(str(exc), EXIT_USAGE)


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


class ProgressBars:
    """Rich progress bars fed by the stages' progress(stage, done, total) callback."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=False)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> ProgressBars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


# ---------------------------------------------------------------- summaries
def process_table(summary: ProcessSummary) -> Any:
    from rich.table import Table

    table = Table(title="documents processed")
    for column in ("documents", "accepted", "quarantined", "not a report", "failed"):
        table.add_column(column, justify="right")
    table.add_row(*(str(v) for v in (summary.documents, summary.accepted, summary.quarantined,
                                     summary.not_report, summary.failed)))
    return table


def print_problems(console: Console, summary: ProcessSummary, limit: int = 10) -> None:
    """The documents that were not reports or failed, with the reason (they are data, not errors)."""
    from rich.markup import escape

    for line in summary.problems[:limit]:
        console.print(f"  [dim]{escape(line)}[/dim]", highlight=False)
    if len(summary.problems) > limit:
        console.print(f"  [dim]… and {len(summary.problems) - limit} more[/dim]")


def check_table(summary: CheckSummary) -> Any:
    from rich.table import Table

    from nianbao.alerts.messages import KIND_LABELS

    table = Table(title=f"open alerts, as of {summary.today}",
                  caption=f"{len(summary.opened)} opened, {len(summary.resolved)} resolved by this check")
    table.add_column("kind")
    table.add_column("", style="dim")
    table.add_column("open", justify="right")
    for kind, count in summary.open_by_kind.items():
        table.add_row(kind, KIND_LABELS.get(kind, ""), str(count))
    table.add_row("total", "", str(summary.open_total), style="bold")
    return table


def crawl_table(summary: HarvestSummary) -> Any:
    from rich.table import Table

    table = Table(title="crawl")
    for column in ("sources", "finish", "new", "changed", "unchanged", "errors"):
        table.add_column(column, justify="right" if column not in ("sources", "finish") else "left")
    for crawl in summary.crawls:
        documents = crawl.summary.get("documents", {})
        errors = sum((crawl.summary.get("errors") or {}).values())
        names = ", ".join(crawl.sources) if len(crawl.sources) <= 3 else f"{len(crawl.sources)} sources"
        table.add_row(names, crawl.finish_reason, *(str(documents.get(k, 0)) for k in ("new", "changed", "unchanged")),
                      str(errors))
    return table


# ---------------------------------------------------------------- commands
def harvest_command(
    sources: SourcesOption = None, year: YearOption = None, today: TodayOption = None, jobs: JobsOption = 2,
    fast: Annotated[bool, typer.Option("--fast", help="Politeness off: only for the local sandbox.")] = False,
    per_family: Annotated[bool, typer.Option("--per-family", help="One crawl process per CMS family batch "
                                                                  "(as the Airflow DAG runs it).")] = False,
    sandbox_url: SandboxOption = None, as_json: JsonOption = False,
) -> None:
    """Crawl → extract every new document version → validate → load → check alerts."""
    from nianbao.stages import harvest

    context, chosen, as_of = _context(sandbox_url), _sources(sources), _today(today)
    _check_sources(context, chosen)
    notifiers = _notifiers(context)
    console = _console()
    try:
        with ProgressBars(console) as bars:
            summary = harvest(context, today=as_of, sources=chosen, years=year, jobs=jobs, fast=fast,
                              per_family=per_family, notifiers=notifiers, progress=bars)
    except Exception as exc:  # noqa: BLE001 - a failure of the run: reported, exit 1
        logging.getLogger(__name__).debug("harvest failed", exc_info=True)
        _fail(f"the harvest failed: {type(exc).__name__}: {exc}")
    if as_json:
        echo_json({**jsonable(summary), "new_documents": summary.new_documents,
                   "crawl_failures": summary.crawl_failures})
    else:
        console.print(crawl_table(summary), process_table(summary.processed))
        print_problems(console, summary.processed)
        if summary.checked:
            console.print(check_table(summary.checked))
    for crawl in summary.crawls:
        if crawl.summary.get("error"):
            typer.echo(str(crawl.summary["error"]), err=True)
    if summary.crawl_failures:
        _fail(f"crawl failed for: {'; '.join(summary.crawl_failures)}")
    if summary.checked:
        _fail_undelivered(summary.checked)


def _fail_undelivered(summary: CheckSummary) -> None:
    from nianbao.stages.check import DeliveryFailed, require_delivered

    try:
        require_delivered(summary)
    except DeliveryFailed as exc:
        _fail(str(exc))


def process_command(sources: SourcesOption = None, year: YearOption = None, jobs: JobsOption = 2,
                    as_json: JsonOption = False) -> None:
    """Extract, validate and load every document version the crawls brought that is not loaded yet."""
    from nianbao.stages import process

    context, chosen = _context(), _sources(sources)
    _check_sources(context, chosen)
    console = _console()
    try:
        with ProgressBars(console) as bars:
            summary = process(context, sources=chosen, years=year, jobs=jobs, progress=bars)
    except Exception as exc:  # noqa: BLE001
        _fail(f"processing failed: {type(exc).__name__}: {exc}")
    if as_json:
        echo_json(summary)
        return
    console.print(process_table(summary))
    print_problems(console, summary)


def check_command(
    sources: SourcesOption = None, year: YearOption = None, today: TodayOption = None,
    notify: Annotated[bool, typer.Option("--notify/--no-notify", help="Send new alerts through the configured "
                                                                      "notifiers.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Evaluate the alert rules as of --today and update the stored alerts (one open alert per cause)."""
    from nianbao.stages import check

    context, chosen, as_of = _context(), _sources(sources), _today(today)
    notifiers = _notifiers(context) if notify else []
    try:
        summary = check(context, today=as_of, sources=chosen, years=year, notifiers=notifiers)
    except Exception as exc:  # noqa: BLE001
        _fail(f"the check failed: {type(exc).__name__}: {exc}")
    if as_json:
        echo_json({**jsonable(summary), "open_total": summary.open_total})
    else:
        _console().print(check_table(summary))
    _fail_undelivered(summary)


def alerts_command(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only the open alerts.")] = False,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind (missing, late, early, malformed, "
                                                            "image_only, site_broken, duplicate).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the stored alerts, newest first."""
    if ctx.invoked_subcommand:
        return
    from nianbao.alerts.messages import shown_text
    from nianbao.alerts.model import ALERT_KINDS
    from nianbao.stages.check import list_alerts
    from report.agencies import today_in_china
    from warehouse.query import WarehouseError

    if kind and kind not in ALERT_KINDS:
        _fail(f"--kind must be one of {', '.join(ALERT_KINDS)}", EXIT_USAGE)
    try:
        rows = list_alerts(_context(), open_only=open_only, kind=kind)
    except WarehouseError as exc:   # no warehouse yet: nothing is created
        _fail(str(exc), EXIT_USAGE)
    except Exception as exc:  # noqa: BLE001
        _fail(f"cannot read the alerts: {type(exc).__name__}: {exc}")
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} {'open ' if open_only else ''}alert(s)")
    for column in ("opened", "kind", "severity", "message", "resolved"):
        table.add_column(column)
    today = today_in_china()
    for row in rows:
        table.add_row(str(row["opened_at"])[:16], row["kind"], row["severity"],
                      shown_text(row["kind"], row["message"], row["details"], today), str(row["resolved_at"] or "")[:16])
    Console().print(table)


def alerts_test_command(as_json: JsonOption = False) -> None:
    """Send a test message through each configured notifier; exit 1 unless every one took it."""
    from nianbao.stages.check import send_test_messages

    context = _context()
    _notifiers(context)
    delivery = send_test_messages(context)
    if as_json:
        echo_json({"sent": list(delivery.sent), "failed": dict(delivery.failed)})
    else:
        for name in delivery.sent:
            typer.echo(f"{name}: sent")
        for name, error in delivery.failed.items():
            typer.echo(f"{name}: FAILED: {error}", err=True)
    if not delivery.sent and not delivery.failed:
        _fail("no notifier is configured (NIANBAO_ALERT_WEBHOOK_URL or NIANBAO_ALERT_SMTP_HOST)")
    if delivery.failed:
        raise typer.Exit(EXIT_RUN_FAILED)
