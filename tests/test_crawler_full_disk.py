"""A full disk under the raw store (issue 15, item 3), of the class, several documents: the bytes the
store cannot keep become recorded `store_error` failures of the crawl, no temporary `.part` is left,
the harvest fails (non-zero), and no `missing` alert claims a publication we could not store is
missing. The disk fills two ways: ENOSPC injected into every write past a budget (anywhere), and a
real small tmpfs (where the tests run as root and may mount)."""

from __future__ import annotations

import builtins
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.store import RawStore, StoreError
from tests.fixtures.full_disk import full_open
from tests.fixtures.required import unavailable

ROOT = Path(__file__).resolve().parents[1]
ROOM = 250_000          # bytes left on the "disk": about two of hongze's seven documents
# Loaded into every Python child (the crawl) through PYTHONPATH: writes under FULL_DISK_UNDER fail with
# ENOSPC once FULL_DISK_ROOM bytes are used (tests.fixtures.full_disk).
SITECUSTOMIZE = """
import builtins, os
if os.environ.get("FULL_DISK_UNDER"):
    from tests.fixtures.full_disk import full_open
    builtins.open = full_open(builtins.open, os.environ["FULL_DISK_UNDER"], int(os.environ["FULL_DISK_ROOM"]))
"""


def test_a_failed_write_leaves_no_temporary_and_says_so(tmp_path: Path, monkeypatch) -> None:
    store = RawStore(str(tmp_path / "raw"))
    monkeypatch.setattr(builtins, "open", full_open(builtins.open, str(tmp_path / "raw"), 3))
    for body in (b"%PDF-1.7 first", b"%PDF-1.7 second", b"<html>third</html>"):
        with pytest.raises(StoreError, match="No space left on device"):
            store.put(body)
    assert not [p for p in (tmp_path / "raw").rglob("*") if p.is_file()]


@pytest.fixture(params=["injected", "tmpfs"])
def full_raw_store(request, tmp_path: Path, monkeypatch) -> Iterator[Path]:
    raw = tmp_path / "raw"
    raw.mkdir()
    if request.param == "injected":
        (tmp_path / "inject").mkdir()
        (tmp_path / "inject" / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join((str(tmp_path / "inject"), str(ROOT))))
        monkeypatch.setenv("FULL_DISK_UNDER", str(raw))
        monkeypatch.setenv("FULL_DISK_ROOM", str(ROOM))
        yield raw
        return
    if os.geteuid() != 0:
        unavailable("a tmpfs needs root here; the injected ENOSPC covers the same case")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={ROOM}", "tmpfs", str(raw)], capture_output=True,
                             text=True, check=False)
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the injected ENOSPC covers the case")
    try:
        yield raw
    finally:
        subprocess.run(["umount", str(raw)], check=False)


@pytest.mark.slow
def test_a_full_raw_store_fails_the_harvest_records_why_and_opens_no_missing_alert(
        sandbox_portal_factory, full_raw_store: Path, tmp_path: Path, monkeypatch) -> None:
    from nianbao.cli import app
    from nianbao.settings import get_settings

    portal = sandbox_portal_factory(sites=["hongze"])
    data_dir = tmp_path / "var"
    for name, value in {"DATA_DIR": str(data_dir), "WAREHOUSE_URL": f"sqlite:///{data_dir / 'warehouse.db'}",
                        "SANDBOX_URL": portal.url, "RAW_STORE": str(full_raw_store)}.items():
        monkeypatch.setenv(f"NIANBAO_{name}", value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["harvest", "-s", "sandbox-hongze", "--today", "2025-04-15", "--fast"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert "store_error" in result.output and "crawl failed for: sandbox-hongze" in result.output

    with sqlite3.connect(data_dir / "warehouse.db") as db:
        unstored = db.execute("SELECT url, year, detail FROM crawl_index_failures WHERE kind = 'store_error'").fetchall()
        stored = {row[0] for row in db.execute("SELECT url FROM crawl_index_documents")}
        alerts = {row[0] for row in db.execute("SELECT cause_key FROM alerts WHERE resolved_at IS NULL")}
    listed = {f"{portal.url}{item.attachment_url or item.article_url}" for item in portal.items("hongze")
              if item.document.kind == "report"}
    assert len(unstored) >= 2 and stored                              # several documents, each recorded
    assert all("No space left on device" in detail and year for _, year, detail in unstored)
    assert {url for url, _, _ in unstored}.isdisjoint(stored)
    assert not [p for p in full_raw_store.rglob("*.part")]           # no temporary left behind
    assert not [key for key in alerts if key.startswith("missing:")], alerts
    assert listed == stored | {url for url, _, _ in unstored}         # every report stored, or its failure kept
