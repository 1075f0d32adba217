"""`nianbao serve`: the web application over the warehouse (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from nianbao.cli.output import JsonOption, echo_json
from nianbao.cli.warehouse import EXIT_USER_ERROR, UrlOption

DEFAULT_PORT = 8000


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve_command)


def serve_command(
    url: UrlOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = DEFAULT_PORT,
    raw_store: Annotated[str | None, typer.Option("--raw-store", help="Where the original documents are "
                                                                      "(default: NIANBAO_RAW_STORE, else var/raw).")] = None,
    today: Annotated[str | None, typer.Option("--today", metavar="YYYY-MM-DD",
                                              help="Judge deadlines as of this date (default: today).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Serve the warehouse read-only on the web: coverage, agencies, reports, search, SQL, operations."""
    import uvicorn

    from nianbao.settings import get_settings
    from nianbao.web.app import create_app
    from warehouse.query import WarehouseError

    settings = get_settings()
    try:
        as_of = dt.date.fromisoformat(today) if today else None
    except ValueError:
        typer.echo(f"error: --today must be a date like 2025-04-15, got {today!r}", err=True)
        raise typer.Exit(EXIT_USER_ERROR) from None
    try:
        application = create_app(url or settings.warehouse, raw_store or settings.raw_store_url, today=as_of)
        with application.state.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1 FROM report_facts LIMIT 1")
    except (WarehouseError, Exception) as error:  # noqa: BLE001 - any failure is a message, not a traceback
        typer.echo(f"error: cannot serve the warehouse: {error}"
                   " (is it initialised and at the newest schema? run `nianbao db upgrade`)", err=True)
        raise typer.Exit(EXIT_USER_ERROR) from None
    if as_json:   # one line, before the server starts: where it listens
        echo_json({"url": f"http://{host}:{port}/", "read_only": True, "today": as_of}, one_line=True)
    else:
        typer.echo(f"nianbao serving http://{host}:{port}/ (read-only; Ctrl-C stops)")
    uvicorn.run(application, host=host, port=port, log_level="warning")
