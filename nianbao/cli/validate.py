"""`nianbao validate RECORD.json`: check a report record against the format's rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from report.record import Finding, ReportRecord

EXIT_CLEAN, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2
_MAX_CELLS_SHOWN = 4


def register(app: typer.Typer) -> None:
    app.command(name="validate")(validate_command)


def validate_command(
    record_path: Annotated[Path, typer.Argument(metavar="RECORD.json", help="A report record (the JSON of `nianbao extract --json`).")],
    previous_path: Annotated[Path | None, typer.Option("--previous", metavar="RECORD.json",
                                                       help="The same agency's record for the year before (CARRY-OVER, STOCK).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as a JSON array.")] = False,
) -> None:
    """Check a report record: the identities of its tables (errors) and the soft rules (warnings).

    Exit status: 0 no error-severity finding, 1 at least one, 2 a file missing or unreadable.
    """
    from report.validate import validate

    record = _load(record_path)
    previous = _load(previous_path) if previous_path is not None else None
    findings = validate(record, previous)
    if as_json:
        typer.echo(json.dumps([f.model_dump() for f in findings], ensure_ascii=False, indent=2))
    else:
        _print_table(record_path, findings)
    raise typer.Exit(EXIT_ERRORS if any(f.is_error for f in findings) else EXIT_CLEAN)


def _load(path: Path) -> ReportRecord:
    from pydantic import ValidationError

    from report.record import ReportRecord

    try:
        return ReportRecord.from_json(path.read_bytes())
    except OSError as error:
        _fail(f"cannot read {path}: {error.strerror or error}")
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "the document"
        _fail(f"{path} is not a report record: {where}: {first.get('msg')}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_UNREADABLE)


def _print_table(path: Path, findings: list[Finding]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    errors = sum(f.is_error for f in findings)
    summary = f"{path.name}: {errors} error(s), {len(findings) - errors} warning(s)"
    if not findings:
        console.print(f"{path.name}: no findings")
        return
    table = Table(title=summary, show_lines=True)
    for column in ("rule", "severity", "cells", "message"):
        table.add_column(column, overflow="fold")
    for finding in findings:
        colour = "red" if finding.is_error else "yellow"
        message = finding.message + (f"\n[dim]{finding.message_en}[/dim]" if finding.message_en else "")
        table.add_row(finding.rule, f"[{colour}]{finding.severity}[/{colour}]", _cells(finding.cells), message)
    console.print(table)


def _cells(cells: list[str]) -> str:
    if len(cells) <= _MAX_CELLS_SHOWN:
        return "\n".join(cells)
    return "\n".join([*cells[:_MAX_CELLS_SHOWN - 1], f"… +{len(cells) - _MAX_CELLS_SHOWN + 1} more"])
