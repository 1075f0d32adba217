"""Corpus generation: `python -m sandbox generate [--only MODULE …] [--out DIR]`.

Each module `sandbox/generate/form_*.py` defines `build(out_dir: Path) -> list[Truth]`:
it writes its documents and their `<name>.truth.json` into out_dir, reproducibly
(the figures come from sandbox.agencies, seeded by agency and year).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path

from sandbox.corpus import CORPUS_DIR


def form_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("form_"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox generate", description=__doc__)
    parser.add_argument("--only", nargs="*", default=None, help=f"modules to run (of {', '.join(form_modules())})")
    parser.add_argument("--out", type=Path, default=CORPUS_DIR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or form_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        truths = module.build(args.out)
        print(f"{name}: {len(truths)} documents")
    return 0
