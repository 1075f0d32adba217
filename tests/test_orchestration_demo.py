"""The demo's flow (`make demo` → python -m nianbao.demo) on one sandbox site: the portal is
started and stopped, the warehouse made fresh, and coverage, alerts and the three example queries
printed."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rich.console import Console

from nianbao import demo

pytestmark = pytest.mark.slow


def test_the_demo_runs_on_one_site_into_a_fresh_warehouse(tmp_path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir(parents=True)
    (data_dir / "warehouse.db").write_bytes(b"left over from an earlier run")
    (data_dir / "raw").mkdir()
    (data_dir / "raw" / "kept").write_text("the raw store is kept")
    console = Console(record=True, width=1000)

    assert demo.run(data_dir, Path("sources"), sites=["hongze"], console=console) == 0

    shown = console.export_text()
    for heading in ("Coverage (nianbao status)", "Open alerts as of 2025-04-15", *(t for t, _ in demo.EXAMPLE_QUERIES)):
        assert heading in shown
    assert "淮安市洪泽区人民政府2023年度报告数据不自洽：T4-SUM" in shown   # an open alert, printed
    for _title, sql in demo.EXAMPLE_QUERIES:
        assert f'nianbao query "{sql}"' in shown
    assert "demo finished in" in shown
    assert (data_dir / "raw" / "kept").exists() and (data_dir / "warehouse.db").exists()
    portal_url = shown.split("sandbox portal on ", 1)[1].split(";", 1)[0]
    with socket.socket() as probe:          # the portal is stopped: its port no longer answers
        assert probe.connect_ex(("127.0.0.1", urlsplit(portal_url).port)) != 0


def test_the_example_queries_run_on_an_empty_warehouse(tmp_path) -> None:
    from warehouse.db import upgrade
    from warehouse.query import run_query

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    upgrade(url)
    for _title, sql in demo.EXAMPLE_QUERIES:
        assert run_query(sql, url).rows == []


def test_the_demos_guangdong_2021_flipbook_is_one_accepted_complete_report(tmp_path) -> None:
    import sqlite3

    from sandbox.corpus import load_corpus

    (truth,) = [e.truth for e in load_corpus() if e.name == "guangdong-2021-flipbook"]
    assert truth.record is not None
    data_dir = tmp_path / "var"
    assert demo.run(data_dir, Path("sources"), sites=["guangdong"], console=Console(record=True, width=1000)) == 0
    with sqlite3.connect(data_dir / "warehouse.db") as db:
        reports = db.execute("""SELECT r.id, r.status, r.is_current, d.parts IS NOT NULL FROM reports r
            JOIN documents d ON d.id = r.document_id WHERE r.year = 2021""").fetchall()
        (report_id, status, current, multipart), = reports       # one report, not one per page
        cells = db.execute("SELECT COUNT(*) FROM cells WHERE report_id = ? AND value IS NOT NULL",
                           (report_id,)).fetchone()[0]
        total = db.execute("SELECT t3_new_total FROM report_wide WHERE year = 2021").fetchone()[0]
    assert (status, current, multipart) == ("accepted", 1, 1)
    assert cells == len([v for v in truth.record.cells.values() if v is not None])
    assert str(total) == str(truth.record.cells["t3.new.total"])       # the province total is not empty
