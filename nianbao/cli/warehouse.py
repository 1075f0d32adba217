"""Warehouse commands: `nianbao db upgrade|downgrade|current`, `nianbao query`, `nianbao export`,
`nianbao status`. The warehouse URL defaults to the settings (NIANBAO_WAREHOUSE_URL)."""

from __future__ import annotations

import csv
import decimal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from nianbao.cli.output import JsonOption, echo_json

EXIT_USER_ERROR = 2

db_app = typer.Typer(help="Create or change the warehouse schema (Alembic migrations).", no_args_is_help=True)

UrlOption = Annotated[str | None, typer.Option("--url", help="SQLAlchemy URL of the warehouse "
                                                             "(default: NIANBAO_WAREHOUSE_URL, see docs/configuration.md).")]


class OutputFormat(StrEnum):
    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    xlsx = "xlsx"


class Grouping(StrEnum):
    province = "province"
    prefecture = "prefecture"
    region = "region"


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command(name="query")(query_command)
    app.command(name="export")(export_command)
    app.command(name="status")(status_command)


def _url(url: str | None) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from nianbao.settings import get_settings

    chosen = url or get_settings().warehouse
    try:
        make_url(chosen).get_dialect()
    except (ArgumentError, ValueError) as error:
        _fail(f"--url {chosen!r} is not a database URL SQLAlchemy knows ({error}); "
              "e.g. sqlite:///var/warehouse.db or postgresql://user@host/db")
    except Exception as error:  # noqa: BLE001 - e.g. sqlalchemy.exc.NoSuchModuleError
        _fail(f"--url {chosen!r}: {error}")
    return chosen


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_USER_ERROR)


def _explain(message: str) -> str:
    lowered = message.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return f"{message} (is the warehouse initialised? run `nianbao db upgrade`)"
    return message


# ---------------------------------------------------------------- db
@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
               url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Create the warehouse or bring its schema up to date (idempotent)."""
    from warehouse.db import current_revision, upgrade

    target = _url(url)
    try:
        upgrade(target, revision)
    except Exception as error:  # noqa: BLE001 - any failure is reported, not a traceback
        _fail(f"upgrade failed: {error}")
    _echo_revision(current_revision(target), as_json)


def _echo_revision(revision: str | None, as_json: bool) -> None:
    from warehouse.db import head_revision

    if as_json:
        echo_json({"revision": revision, "head": head_revision()})
    else:
        typer.echo(f"warehouse at revision {revision or 'base (empty)'}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. 0001 or base.")],
                 url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Take the schema back to an earlier revision (`base` drops everything)."""
    from warehouse.db import current_revision, downgrade

    target = _url(url)
    try:
        downgrade(target, revision)
    except Exception as error:  # noqa: BLE001
        _fail(f"downgrade failed: {error}")
    _echo_revision(current_revision(target), as_json)


@db_app.command("current")
def db_current(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Print the schema revision of the warehouse and the newest one this version knows."""
    from warehouse.db import current_revision, head_revision

    current = current_revision(_url(url))
    if as_json:
        echo_json({"revision": current, "head": head_revision()})
    else:
        typer.echo(f"current: {current or 'none'}  head: {head_revision()}")


# ---------------------------------------------------------------- query
def query_command(
    sql: Annotated[str, typer.Argument(metavar="SQL", help="One read-only statement, e.g. \"SELECT * FROM coverage\".")],
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="How to print the rows.")] = OutputFormat.table,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Print at most this many rows.")] = None,
    url: UrlOption = None,
) -> None:
    """Run one read-only SQL statement on the warehouse.

    Besides the tables, the views report_wide, cells_labelled, coverage and findings_labelled.
    """
    from warehouse.query import WarehouseError, run_query

    try:
        result = run_query(sql, _url(url), limit=limit)
    except WarehouseError as error:
        _fail(_explain(str(error)))
    if result.truncated:
        typer.echo(f"cut at --limit {limit}: the query has more rows", err=True)
    if output is OutputFormat.tsv:
        _print_tsv(result.columns, result.rows)
    elif output is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows([[_plain(value) for value in row] for row in result.rows])
    elif output is OutputFormat.json:
        echo_json([dict(zip(result.columns, map(_plain, row), strict=True)) for row in result.rows])
    else:
        _print_rows(result.columns, result.rows)


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]], title: str | None = None) -> None:
    """A table on a terminal (one record per block when it is too wide); plain TSV when piped."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        _print_tsv(columns, rows)
        typer.echo(f"{len(rows)} row{'s' if len(rows) != 1 else ''}", err=True)
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*_texts(row))
    if console.measure(table).minimum > console.width or len(columns) * MIN_COLUMN_WIDTH > console.width:
        _print_records(console, columns, rows)
    else:
        console.print(table)
    typer.echo(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")


MIN_COLUMN_WIDTH = 6  # narrower than this a column shows nothing but its borders


def _texts(row: tuple[Any, ...]) -> list[str]:
    return ["" if value is None else str(_plain(value)) for value in row]


def _print_tsv(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    def clean(text: str) -> str:
        return text.replace("\t", " ").replace("\n", " ")

    typer.echo("\t".join(map(clean, columns)))
    for row in rows:
        typer.echo("\t".join(clean(text) for text in _texts(row)))


def _print_records(console: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """The record view: each row as `column  value` lines, for tables wider than the terminal."""
    width = max(len(column) for column in columns)
    for number, row in enumerate(rows, start=1):
        console.print(f"── row {number} ──", style="bold", highlight=False)
        for column, text in zip(columns, _texts(row), strict=True):
            console.print(f"{column.ljust(width)}  {text}", highlight=False, markup=False)


# ---------------------------------------------------------------- export
def export_command(
    year: Annotated[int, typer.Option("--year", help="Report year to export.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="File format.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the files (created if missing).")],
    region: Annotated[str | None, typer.Option("--region", metavar="CODE",
                                               help="6-digit 行政区划代码: a province, prefecture or county and everything below.")] = None,
    accepted_only: Annotated[bool, typer.Option("--accepted-only", help="Leave out quarantined reports.")] = False,
    url: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Export one year: wide table, long table and data dictionary.

    The wide table has a report per row and a column per cell; the long table a cell per row.
    """
    from warehouse.export import export
    from warehouse.query import WarehouseError

    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is an existing file; give a directory (it is created if missing)")
    try:
        paths = export(_url(url), year=year, region=region, fmt=fmt.value, out_dir=out, accepted_only=accepted_only)
    except WarehouseError as error:
        _fail(_explain(str(error)))
    except OSError as error:
        _fail(f"cannot write the export into {out}: {error.strerror or error}")
    if as_json:
        echo_json({"year": year, "format": fmt.value, "region": region, "files": [str(path) for path in paths]})
        return
    for path in paths:
        typer.echo(str(path))


# ---------------------------------------------------------------- status
def status_command(
    year: Annotated[int | None, typer.Option("--year", help="Only this report year.")] = None,
    region: Annotated[str | None, typer.Option("--region", metavar="CODE", help="Only this region and below.")] = None,
    by: Annotated[Grouping, typer.Option("--by", help="Sum up per province, prefecture or region (the agency's own code).")] = Grouping.region,
    missing: Annotated[bool, typer.Option("--missing", help="List the expected agencies without a report instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    url: UrlOption = None,
) -> None:
    """Coverage: agencies expected / found / accepted / quarantined / missing, per region and year."""
    from warehouse.query import WarehouseError
    from warehouse.status import COUNTS, coverage, totals

    if missing:
        _print_missing(_url(url), year, region, as_json)
        return
    try:
        rows = coverage(_url(url), year=year, region=region, by=by.value)
    except WarehouseError as error:
        _fail(_explain(str(error)))
    if as_json:
        echo_json([row.__dict__ for row in rows])
        return
    if not rows:
        typer.echo("no reports or documents in the warehouse yet for this selection")
        return
    table_rows = [(row.region_code or "—", row.region_name or "", row.year, *(getattr(row, c) for c in COUNTS))
                  for row in rows]
    summed = totals(rows)
    table_rows.append(("total", "", "", *(summed[c] for c in COUNTS)))
    _print_rows(["region", "name", "year", *COUNTS], table_rows, title="coverage")


def _print_missing(url: str, year: int | None, region: str | None, as_json: bool = False) -> None:
    from warehouse.query import WarehouseError
    from warehouse.status import missing_reports

    try:
        rows = missing_reports(url, year=year, region=region)
    except WarehouseError as error:
        _fail(_explain(str(error)))
    if as_json:
        echo_json([{**row.__dict__, "overdue": row.overdue} for row in rows])
        return
    if not rows:
        typer.echo("no expected report is missing for this selection")
        return
    _print_rows(["year", "region", "agency", "slug", "kind", "deadline", "overdue"],
                [(r.year, r.region_code or "—", r.name, r.slug, r.kind, r.deadline.isoformat(),
                  "yes" if r.overdue else "no") for r in rows], title="missing reports")
