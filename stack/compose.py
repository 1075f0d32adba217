"""The settings of docker-compose.yml, read for the process stack: one place for both.

The compose file is the only definition of the services' commands and environment. The
process stack (`stack.cluster`) takes them from here, interpolated as Compose would, and
changes only what a single machine must: service host names become 127.0.0.1, container
paths become folders of the run, and each service gets its own port.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class ComposeError(ValueError):
    """The compose file refuses these settings (a required variable is unset)."""


def load(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """`value` with its variables replaced the way Compose does it."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        present = name in variables
        empty = not variables.get(name)
        if op in (":-", "-"):
            use_default = empty if op == ":-" else not present
            return arg if use_default else variables[name]
        if op in (":?", "?") and (empty if op == ":?" else not present):
            raise ComposeError(f"{name}: {arg or 'required variable is not set'}")
        return variables.get(name, "")

    return _VARIABLE.sub(replace, value)


def service(compose: Mapping[str, Any], name: str) -> dict[str, Any]:
    return dict(compose["services"][name])


def environment(compose: Mapping[str, Any], name: str, variables: Mapping[str, str]) -> dict[str, str]:
    """A service's environment, interpolated."""
    raw = service(compose, name).get("environment") or {}
    return {key: interpolate(str(value), variables) for key, value in raw.items()}


def command(compose: Mapping[str, Any], name: str, variables: Mapping[str, str]) -> list[str]:
    """A service's command, interpolated (a list, as the file writes it)."""
    return [interpolate(str(part), variables) for part in service(compose, name)["command"]]
