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
