"""The `nianbao` command line.

Each module of this package that defines `register(app)` adds its commands; heavy
imports happen inside the commands so that `nianbao --help` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="nianbao",
    help="Harvest, extract, validate and warehouse 政府信息公开工作年度报告.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        register = getattr(loaded, "register", None)
        if register is not None:
            register(app)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"nianbao {version('nianbao')}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")) -> None:
    """Harvest, extract, validate and warehouse 政府信息公开工作年度报告."""


_register_commands()


def main() -> None:
    app()
