"""`make bench`: run every benchmarks/bench_*.py, write var/bench/<name>.json, print a table.

A benchmark module defines `run() -> list[dict]`; each dict is one figure with
the keys name, value, unit and optionally target and note. Ratios are measured
inside one run against a baseline on the same inputs, because the machine is noisy.
Usage: python -m benchmarks [NAME …]   (NAME: extract, crawl, load, …)
       python -m benchmarks report      (the figures of var/bench/*.json into docs/benchmarks.md)
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

OUT = Path("var/bench")


def main(argv: list[str]) -> int:
    if argv[:1] == ["report"]:
        from benchmarks.report import main as report_main

        return report_main(argv[1:])
    wanted = set(argv)
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    table = Table(title="nianbao benchmarks")
    for column in ("benchmark", "figure", "value", "unit", "target"):
        table.add_column(column)
    OUT.mkdir(parents=True, exist_ok=True)
    failed = False
    for name in names:
        short = name.removeprefix("bench_")
        if wanted and short not in wanted:
            continue
        started = time.perf_counter()
        partial = None   # what a run restricted by its environment left out: the report keeps those figures
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            partial = getattr(module, "partial", lambda: None)()
            figures = module.run()
        except Exception as exc:  # a broken benchmark is reported, the others still run
            failed = True
            figures = [{"name": "error", "value": repr(exc), "unit": ""}]
        payload = {"benchmark": short, "seconds": round(time.perf_counter() - started, 2),
                   "at": time.strftime("%Y-%m-%dT%H:%M:%S"), "figures": figures}
        if partial:
            payload["partial"] = partial
        (OUT / f"{short}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2))
        for figure in figures:
            value = figure.get("value")
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            table.add_row(short, figure["name"], shown, figure.get("unit", ""), str(figure.get("target", "")))
    Console().print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
