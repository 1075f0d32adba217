"""`nianbao extract FILE…`: documents → canonical report records (with the validator's findings)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from report.record import ReportRecord

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def register(app: typer.Typer) -> None:
    app.command(name="extract")(extract_command)


def extract_command(
    paths: Annotated[list[Path], typer.Argument(metavar="FILE…", help="Documents (PDF, HTML, DOCX, DOC/WPS, XLS(X), images, text). "
                                                 "A directory takes every file in it; a sub-directory of HTML pages is one flipbook report.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON record per line (the canonical record, findings included).")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes (each document runs in its own, with limits).")] = 1,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds allowed per document (finding extract-timeout).")] = 120,
    memory: Annotated[int, typer.Option("--memory", min=64, help="MB of memory allowed per document (finding extract-oom).")] = 1024,
    no_ocr: Annotated[bool, typer.Option("--no-ocr", help="Never run OCR (pages without text get finding needs-ocr).")] = False,
    no_validate: Annotated[bool, typer.Option("--no-validate", help="Only extraction findings, not the validator's rules.")] = False,
) -> None:
    """Extract report records from documents.

    Exit status: 0 every document extracted without an error finding, 1 at least
    one error finding, 2 a path that does not exist.
    """
    documents = expand_paths(paths)
    if not documents:
        typer.echo("error: no documents found in the given paths", err=True)
        raise typer.Exit(EXIT_USAGE)
    errors = 0
    for path, record in _run(documents, jobs=jobs, timeout=timeout, memory=memory, ocr=not no_ocr):
        if not no_validate:
            add_validator_findings(record)
        errors += any(f.is_error for f in record.findings)
        if as_json:
            sys.stdout.write(_json_line(path, record) + "\n")
            sys.stdout.flush()
        else:
            _print_summary(path, record)
    raise typer.Exit(EXIT_FINDINGS if errors else EXIT_OK)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; a directory's files (sorted), its sub-directories as flipbooks."""
    documents: list[Path] = []
    for path in paths:
        if not path.exists():
            typer.echo(f"error: {path} does not exist", err=True)
            raise typer.Exit(EXIT_USAGE)
        if path.is_dir() and not _is_flipbook(path):
            documents += sorted(p for p in path.iterdir() if not p.name.startswith(".") and (p.is_file() or _is_flipbook(p)))
        else:
            documents.append(path)
    return documents


def _is_flipbook(path: Path) -> bool:
    files = [p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
    return bool(files) and all(p.suffix.lower() in (".html", ".htm") for p in files)


def _run(documents: list[Path], *, jobs: int, timeout: float, memory: int, ocr: bool):
    from extract import extract_many

    results = extract_many(documents, jobs=jobs, timeout_s=timeout, memory_mb=memory, ocr=ocr)
    if len(documents) < 3 or not sys.stderr.isatty():
        yield from results
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("extracting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("extract", total=len(documents))
        for item in results:
            progress.advance(task)
            yield item


def add_validator_findings(record: ReportRecord) -> None:
    """Append the validator's findings when that module is there (and the record has tables)."""
    try:
        from report.validate import validate
    except ImportError:
        return
    if not record.cells:
        return
    try:
        record.findings.extend(validate(record))
    except Exception as exc:  # a validator bug must not hide the extracted record
        from extract.findings import Findings
        from extract.model import finding

        record.findings.append(finding(Findings.VALIDATOR_ERROR, f"校验出错：{exc}", f"the validator failed: {exc}"))


def _json_line(path: Path, record: ReportRecord) -> str:
    from report.record import dumps_exact

    payload = record.to_jsonable()
    payload["file"] = str(path)
    return dumps_exact(payload)


def _print_summary(path: Path, record: ReportRecord) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    provenance = record.provenance
    ocr = f", OCR pages {','.join(str(p.page) for p in provenance.ocr_pages)}" if provenance.ocr_pages else ""
    console.print(f"[bold]{escape(str(path))}[/bold]")
    console.print(f"  {record.agency or '?'} · {record.year or '?'} · format {record.format} · "
                  f"{len(record.cells)} cells · {sum(1 for t in record.sections.values() if t)} sections · "
                  f"{provenance.reader}{ocr} · {provenance.duration_ms or 0:.0f} ms")
    if record.title:
        console.print(f"  {escape(record.title)}")
    for found in record.findings:
        colour = {"error": "red", "warning": "yellow"}.get(found.severity, "cyan")
        cells = f" [{', '.join(found.cells[:3])}{'…' if len(found.cells) > 3 else ''}]" if found.cells else ""
        console.print(f"  [{colour}]{found.severity:7}[/{colour}] " + escape(f"{found.rule}{cells}: {found.message}"))
