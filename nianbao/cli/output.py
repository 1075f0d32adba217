"""What every command prints with `--json`: its summary as one JSON document on stdout (messages
and progress stay on stderr), so that a script can read any command's result."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

import typer

JsonOption = Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")]


def jsonable(value: Any) -> Any:
    """Dataclasses, pydantic models, paths and dates as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(item) for item in value]
    return value


def echo_json(value: Any, one_line: bool = False) -> None:
    typer.echo(json.dumps(jsonable(value), ensure_ascii=False, indent=None if one_line else 2, default=str))
