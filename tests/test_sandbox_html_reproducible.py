"""The committed HTML/office/look-alike/hostile corpus is exactly what the generators make:
regenerating into an empty directory gives the same bytes and the same truths."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from sandbox.corpus import CORPUS_DIR

# The PNG cover depends on the fonts fontconfig finds, the .doc/.xls on LibreOffice: not compared.
NOT_COMPARED = {".png", ".doc", ".xls"}


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("module", ["form_html", "form_flipbook", "form_paged_html", "form_lookalike",
                                    pytest.param("form_hostile_files", marks=pytest.mark.slow),
                                    pytest.param("form_office", marks=pytest.mark.slow)])
def test_regenerating_gives_the_committed_bytes(module: str, tmp_path: Path, monkeypatch) -> None:
    generator = importlib.import_module(f"sandbox.generate.{module}")
    if module == "form_office":
        monkeypatch.setattr(generator.shutil, "which", lambda name: None)  # no LibreOffice conversions
    truths = generator.build(tmp_path)
    assert truths
    made = _files(tmp_path)
    for name, data in made.items():
        if Path(name).suffix in NOT_COMPARED:
            continue
        committed = CORPUS_DIR / name
        assert committed.exists(), f"{name} is generated but not committed"
        assert committed.read_bytes() == data, f"{name} differs from the committed file: run make corpus"
