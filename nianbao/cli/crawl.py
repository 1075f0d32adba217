"""`nianbao sources check|probe` and `nianbao crawl`: the source registry and the crawler.

A crawl (and a probe) runs as its own process (`python -m crawler …`): the Twisted
reactor cannot restart inside one process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nianbao.cli.output import JsonOption, echo_json

if TYPE_CHECKING:
    from crawler.summary import CrawlSummary

sources_app = typer.Typer(help="The source registry (sources/*.yaml).", no_args_is_help=True)

SandboxOption = Annotated[str, typer.Option("--sandbox-url", help="base URL of the sandbox portal, replaces "
                                                                 "{sandbox} (default NIANBAO_SANDBOX_URL)")]
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="data directory (default NIANBAO_DATA_DIR)")]
FastOption = Annotated[bool, typer.Option("--fast", help="politeness off: only for the local sandbox")]


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.command("crawl")(crawl)


@sources_app.command("check")
def check(sources_dir: Annotated[Path | None, typer.Option("--sources-dir", help="default NIANBAO_SOURCES_DIR")]
          = None, as_json: JsonOption = False) -> None:
    """Validate every sources/*.yaml entry; errors name the file and line."""
    from crawler.registry import load_registry
    from nianbao.settings import get_settings

    directory = sources_dir or get_settings().sources_dir
    registry = load_registry(directory)
    for error in registry.errors:
        typer.echo(str(error), err=True)
    files = len({origin[0] for origin in registry.origin.values()})
    if as_json:
        echo_json({"sources": len(registry.sources), "files": files, "errors": registry.errors,
                   "rendered": [source.id for source in registry.sources if source.render]})
    else:
        typer.echo(f"{len(registry.sources)} sources in {files} files, {len(registry.errors)} errors")
    if registry.errors:
        raise typer.Exit(1)


@sources_app.command("probe")
def probe(ids: Annotated[list[str] | None, typer.Argument(help="source ids (default: all)")] = None,
          sandbox_url: SandboxOption = "", data_dir: DataDirOption = None, fast: FastOption = False,
          as_json: Annotated[bool, typer.Option("--json", help="print the probe's summary as JSON")] = False) -> None:
    """Scout: read list pages only; say what each gave and which reports a crawl would collect. Changes nothing."""
    summary = _run_crawler("probe", ids or [], sandbox_url=sandbox_url, data_dir=data_dir, fast=fast)
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
        return
    from rich.console import Console

    console = Console(highlight=False)
    candidates = sorted(summary.candidates, key=lambda c: (c.source_id, -(c.year or 0)))
    console.print(f"probe {summary.run_id}: {summary.pages.list} list pages read, "
                  f"{len(candidates)} reports a crawl would collect")
    _print_list_pages(console, summary)
    for c in candidates:
        state = "known" if c.known else "new"
        console.print(f"{c.source_id}  {c.year or '?'}  {c.listed or '-'}  {state:5}  {c.title}  {c.url}",
                      soft_wrap=True)
    _print_problems(console, summary)


def _print_list_pages(console, summary: CrawlSummary) -> None:
    """Per source its verdict, then per list page what it gave (items, pagers, further requests)."""
    from crawler.probe import source_verdict

    for source_id, figures in summary.sources.items():
        pages = [page for page in summary.list_page_probes if page.source_id == source_id]
        console.print(f"source {source_id}: {source_verdict(pages, figures.errors)}", soft_wrap=True)
        for page in pages:
            further = ", ".join(f"{kind} {count}" for kind, count in sorted(page.follows.items())) or "none"
            console.print(f"  {page.via:6} {page.url}\n"
                          f"         items {page.items} (dated {page.rows}), reports {page.reports}, "
                          f"pagers {', '.join(page.pagers) or 'none'}, further {further}, scripts {page.scripts}"
                          f"{', rendered' if page.rendered else ''} — {page.verdict}", soft_wrap=True)


def crawl(sources: Annotated[list[str] | None, typer.Option("--sources", help="source ids (repeat); default all")]
          = None,
          full: Annotated[bool, typer.Option("--full", help="re-check every known document now")] = False,
          sandbox_url: SandboxOption = "", data_dir: DataDirOption = None, fast: FastOption = False,
          recheck_interval: Annotated[float | None, typer.Option(
              "--recheck-interval", help="seconds before a known document is re-validated (default 86400)")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="print the raw JSON summary")] = False) -> None:
    """Crawl the registry's sources into the raw store and the crawl index; print the run summary."""
    summary = _run_crawler("crawl", sources or [], sandbox_url=sandbox_url, data_dir=data_dir, fast=fast,
                           full=full, recheck_interval=recheck_interval)
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
    else:
        _print_summary(summary)
    if summary.finish_reason != "finished":
        raise typer.Exit(1)


def _run_crawler(command: str, ids: list[str], *, sandbox_url: str, data_dir: Path | None, fast: bool,
                 full: bool = False, recheck_interval: float | None = None) -> CrawlSummary:
    from pydantic import ValidationError

    from crawler.registry import split_ids
    from crawler.summary import CrawlSummary
    from nianbao.stages.context import StageContext
    from nianbao.stages.crawl import CrawlFailed, launch_crawler

    context = StageContext.from_settings(data_dir=data_dir, sandbox_url=sandbox_url or None)
    try:
        return CrawlSummary.model_validate(launch_crawler(
            context, split_ids(ids), command=command, fast=fast, full=full, recheck_interval=recheck_interval,
            timeout=None, show_log=True).summary)
    except (CrawlFailed, ValidationError) as exc:
        typer.echo(f"{exc}; see the log above", err=True)
        raise typer.Exit(2) from None


def _print_summary(summary: CrawlSummary) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    documents = summary.documents
    console.print(f"crawl {summary.run_id} ({summary.mode}): {summary.finish_reason} "
                  f"in {summary.seconds} s — {summary.pages.list} list pages, "
                  f"{summary.pages.article} article pages, {summary.responses} responses")
    console.print(f"documents: {documents.new} new, {documents.changed} changed, "
                  f"{documents.unchanged} unchanged ({documents.not_modified} answered 304, "
                  f"{documents.not_due} not due for a re-check); {summary.document_bytes} document bytes")
    table = Table()
    for column in ("source", "reports listed", "new", "changed", "unchanged", "errors", "flags"):
        table.add_column(column)
    for source_id, figures in summary.sources.items():
        errors = ", ".join(f"{k}×{v}" for k, v in figures.errors.items())
        table.add_row(source_id, str(figures.reports_listed), str(figures.new), str(figures.changed),
                      str(figures.unchanged), errors, ", ".join(figures.flags))
    console.print(table)
    _print_problems(console, summary)


def _print_problems(console, summary: CrawlSummary) -> None:
    if summary.errors:
        console.print("errors by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.errors.items())))
    for source_id, flags in summary.flags.items():
        console.print(f"[bold red]broken?[/] {source_id}: {', '.join(flags)}")
