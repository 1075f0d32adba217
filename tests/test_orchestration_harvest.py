"""The harvest stage and the CLI against the sandbox portal: crawl (a child process) → process →
check, idempotent, with alerts delivered to a webhook on 127.0.0.1 once."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nianbao.alerts.notifiers import webhook_from
from nianbao.stages import StageContext, harvest

pytestmark = pytest.mark.slow

TODAY = date(2025, 4, 15)
SITES = ["weishan-liangcheng", "hongze"]
# Not yet published as of TODAY (and the scanned 2021 report would need slow OCR).
HELD_BACK = ["weishan-liangcheng-2021-scanned-pdf", "weishan-liangcheng-2022-reportlab-pdf"]
SOURCES = [f"sandbox-{site}" for site in SITES]
COMPARED_TABLES = ("sources", "agencies", "documents", "extraction_attempts", "reports", "cells", "findings",
                   "report_sections", "alerts")
WEISHAN = "sandbox-weishan-liangcheng"   # the agency's slug (its source id)


def snapshot(database: Path) -> dict[str, list]:
    with sqlite3.connect(database) as db:
        return {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}").fetchall())) for t in COMPARED_TABLES}


def agency_id(database: Path, slug: str) -> int:
    """Cause keys name an agency by its warehouse id."""
    with sqlite3.connect(database) as db:
        return db.execute("SELECT id FROM agencies WHERE slug = ?", (slug,)).fetchone()[0]


def open_alerts(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        return {row[0] for row in db.execute("SELECT cause_key FROM alerts WHERE resolved_at IS NULL")}


def test_harvest_is_idempotent_alerts_once_and_resolves_what_gets_published(
        sandbox_portal_factory, webhook_server, tmp_path) -> None:
    portal = sandbox_portal_factory(sites=SITES, hold_back=HELD_BACK)
    hook_base, hook = webhook_server
    hook_url = f"{hook_base}/hook"
    notifiers = [webhook_from(hook_url, "generic")]
    data_dir = tmp_path / "var"
    context = StageContext(data_dir=data_dir, warehouse_url=f"sqlite:///{data_dir / 'warehouse.db'}",
                           raw_store=str(data_dir / "raw"), sources_dir=Path("sources"), sandbox_url=portal.url)

    first = harvest(context, today=TODAY, sources=SOURCES, fast=True, notifiers=notifiers)
    assert [c.finish_reason for c in first.crawls] == ["finished"]
    assert first.processed.accepted + first.processed.quarantined == 9   # weishan 2020/23/24; hongze 2020–24, 2024 twice
    assert first.processed.failed == 1                                   # weishan 2023: a broken DOCX
    alerts = open_alerts(data_dir / "warehouse.db")
    weishan = agency_id(data_dir / "warehouse.db", WEISHAN)
    assert {f"missing:{weishan}:2021", f"missing:{weishan}:2022"} <= alerts
    assert any(key.startswith("early:") for key in alerts)               # weishan 2024, published 2024-12-20
    assert any(key.startswith("malformed:") for key in alerts)
    # a township government's deadline is 31 January (条例 第五十条): its March reports are late
    assert {key for key in alerts if key.startswith("late:")} == {f"late:{weishan}:2020", f"late:{weishan}:2023"}
    assert not any(key.startswith("site_broken:") for key in alerts)
    assert len(hook.bodies) == 1 and {a["key"] for a in hook.bodies[0]["alerts"]} == alerts

    before = snapshot(data_dir / "warehouse.db")
    second = harvest(context, today=TODAY, sources=SOURCES, fast=True, notifiers=notifiers)
    assert second.new_documents == 0 and second.processed.documents == 0
    assert second.checked is not None and second.checked.opened == second.checked.resolved == []
    assert snapshot(data_dir / "warehouse.db") == before
    assert len(hook.bodies) == 1                                            # nothing new to tell

    portal.publish("weishan-liangcheng", "weishan-liangcheng-2022-reportlab-pdf")
    third = harvest(context, today=TODAY, sources=SOURCES, fast=True, notifiers=notifiers)
    assert third.processed.accepted == 1
    assert third.checked is not None and third.checked.resolved == [f"missing:{weishan}:2022"]
    assert f"missing:{weishan}:2021" in open_alerts(data_dir / "warehouse.db")
    assert hook.bodies[-1]["resolved"] == 1


def test_cli_lists_alerts_and_rejects_bad_options(sandbox_portal_factory, tmp_path, monkeypatch) -> None:
    from nianbao.cli import app
    from nianbao.settings import get_settings

    portal = sandbox_portal_factory(sites=["hongze"])
    data_dir = tmp_path / "var"
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(data_dir))
    monkeypatch.setenv("NIANBAO_WAREHOUSE_URL", f"sqlite:///{data_dir / 'warehouse.db'}")
    monkeypatch.setenv("NIANBAO_SANDBOX_URL", portal.url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["harvest", "--sources", "no-such-source"]).exit_code == 2
        assert runner.invoke(app, ["check", "--today", "15/04/2025"]).exit_code == 2
        result = runner.invoke(app, ["harvest", "-s", "sandbox-hongze", "--today", "2025-04-15", "--fast"])
        assert result.exit_code == 0, result.output
        assert "documents processed" in result.output and "open alerts, as of 2025-04-15" in result.output
        listed = runner.invoke(app, ["alerts", "--open", "--json"])
        assert listed.exit_code == 0
        kinds = {json.loads(line)["kind"] for line in listed.output.splitlines()}
        assert kinds == {"malformed"}                                   # hongze 2023 breaks T4-SUM
        assert runner.invoke(app, ["alerts", "--kind", "nonsense"]).exit_code == 2
        assert runner.invoke(app, ["process"]).exit_code == 0           # nothing new: still fine
        monkeypatch.setenv("NIANBAO_RAW_STORE", "/proc/no-raw-store-here")  # the crawl process cannot start
        get_settings.cache_clear()
        crashed = runner.invoke(app, ["harvest", "-s", "sandbox-hongze", "--today", "2025-04-15", "--fast"])
        assert crashed.exit_code == 1 and "crawl failed for: sandbox-hongze" in crashed.output
    finally:
        get_settings.cache_clear()


@pytest.mark.postgres
def test_harvest_into_postgresql_twice(sandbox_portal_factory, postgres_url, tmp_path) -> None:
    """The production warehouse backend: the same harvest, and a second one that changes nothing."""
    from sqlalchemy import create_engine, text

    portal = sandbox_portal_factory(sites=["hongze"])
    context = StageContext(data_dir=tmp_path / "var", warehouse_url=postgres_url, raw_store=str(tmp_path / "raw"),
                           sources_dir=Path("sources"), sandbox_url=portal.url)
    first = harvest(context, today=TODAY, sources=["sandbox-hongze"], fast=True, notifiers=[])
    assert first.processed.accepted + first.processed.quarantined == 6
    engine = create_engine(postgres_url)

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in COMPARED_TABLES}

    try:
        before = counts()
        assert before["reports"] == 6 and before["alerts"] == 1          # hongze 2023 breaks T4-SUM
        second = harvest(context, today=TODAY, sources=["sandbox-hongze"], fast=True, notifiers=[])
        assert second.processed.documents == 0
        assert counts() == before
    finally:
        engine.dispose()


def test_check_picks_up_crawls_run_outside_the_harvest(sandbox_portal_factory, tmp_path) -> None:
    """`nianbao crawl` (python -m crawler crawl) writes only the crawl index (its tables in the warehouse
    database); `check` copies its runs into the warehouse once and judges the sites from them (lg-health
    serves a challenge page)."""

    from nianbao.stages import check
    from nianbao.stages.crawl import launch_crawler

    portal = sandbox_portal_factory(sites=["lg-health"])
    data_dir = tmp_path / "var"
    context = StageContext(data_dir=data_dir, warehouse_url=f"sqlite:///{data_dir / 'warehouse.db'}",
                           raw_store=str(data_dir / "raw"), sources_dir=Path("sources"), sandbox_url=portal.url)
    crawled = launch_crawler(context, ["sandbox-lg-health"], fast=True, timeout=300)   # python -m crawler crawl
    assert crawled.returncode == 0
    with sqlite3.connect(data_dir / "warehouse.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables and all(name.startswith("crawl_index_") for name in tables)

    first = check(context, today=TODAY, sources=["sandbox-lg-health"], notifiers=[])
    assert "site_broken:sandbox-lg-health" in first.opened
    again = check(context, today=TODAY, notifiers=[])
    assert again.opened == [] and again.resolved == []
    with sqlite3.connect(data_dir / "warehouse.db") as db:
        assert db.execute("SELECT source_id, finish_reason FROM crawl_runs").fetchall() == [
            ("sandbox-lg-health", "finished")]
