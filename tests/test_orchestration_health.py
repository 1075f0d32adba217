"""Health that tells the truth, end to end on the sandbox portal: a broken column is a
site_broken alert naming the reports it may hide, never `missing` ones; another agency's
report in a column is kept under that agency, never as a version of the owner's report."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from nianbao.stages import StageContext, harvest
from sandbox.corpus import load_corpus
from sandbox.portal import Document

pytestmark = pytest.mark.slow

TODAY = date(2025, 4, 15)
HONGZE, HUAIAN = "淮安市洪泽区人民政府", "淮安市人民政府"


def context_for(portal_url: str, tmp_path: Path) -> StageContext:
    data_dir = tmp_path / "var"
    return StageContext(data_dir=data_dir, warehouse_url=f"sqlite:///{data_dir / 'warehouse.db'}",
                        raw_store=str(data_dir / "raw"), sources_dir=Path("sources"), sandbox_url=portal_url)


# open `missing` alerts by agency name (cause keys name agencies by their warehouse id)
MISSING = ("SELECT a.name, al.year FROM alerts al JOIN agencies a ON a.id = al.agency_id "
           "WHERE al.kind = 'missing' AND al.resolved_at IS NULL")


def rows(context: StageContext, sql: str) -> list[tuple]:
    with sqlite3.connect(context.data_dir / "warehouse.db") as db:
        return db.execute(sql).fetchall()


def corpus_names(site: str) -> list[str]:
    return sorted(e.name for e in load_corpus() if e.truth.site == site)


def test_a_broken_column_is_site_broken_and_raises_no_missing_alert(sandbox_portal_factory, tmp_path) -> None:
    # weishan is read as usual (its held-back 2021/2022 reports are really missing); hongze's
    # column moved, so its list page answers 404 and none of its five reports can be read
    held_back = ["weishan-liangcheng-2021-scanned-pdf", "weishan-liangcheng-2022-reportlab-pdf"]
    portal = sandbox_portal_factory(sites=["weishan-liangcheng", "hongze"], hold_back=held_back)
    portal.move_column("hongze", "/xxgk/xxgknb2/index.html")
    context = context_for(portal.url, tmp_path)

    done = harvest(context, today=TODAY, sources=["sandbox-weishan-liangcheng", "sandbox-hongze"], fast=True,
                   notifiers=[])
    assert done.checked is not None
    opened = set(done.checked.opened)
    assert "site_broken:sandbox-hongze" in opened
    missing = set(rows(context, MISSING))
    assert not [year for name, year in missing if name == HONGZE]
    assert {("微山县两城镇人民政府", 2021), ("微山县两城镇人民政府", 2022)} <= missing  # read, and absent
    [(message, details)] = rows(context, "SELECT message, details FROM alerts WHERE cause_key = 'site_broken:sandbox-hongze'")
    assert "栏目列表页无法访问（http_404）" in message and "不能据此认定机关未发布" in message
    assert all(f"{HONGZE}{year}年度" in message for year in range(2020, 2025))
    assert '"may_hide"' in details


def test_another_agencys_report_in_a_column_is_kept_under_that_agency(sandbox_portal_factory, tmp_path) -> None:
    # 淮安市人民政府's column also links the 2021 report of 淮安市洪泽区人民政府 (a county below it)
    kept = "huaian-2021-word-pdf"
    portal = sandbox_portal_factory(sites=["huaian"], hold_back=[n for n in corpus_names("huaian") if n != kept])
    [entry] = [e for e in load_corpus() if e.name == "hongze-2021-word-pdf"]
    portal.publish("huaian", Document.from_entry(entry))
    context = context_for(portal.url, tmp_path)

    done = harvest(context, today=TODAY, sources=["sandbox-huaian"], fast=True, notifiers=[])
    assert done.processed.accepted + done.processed.quarantined == 2
    reports = rows(context, """SELECT a.slug, a.name, a.expected, r.year, r.is_current, d.sha256
        FROM reports r JOIN agencies a ON a.id = r.agency_id JOIN documents d ON d.id = r.document_id
        ORDER BY a.slug""")
    sha = {name: hashlib.sha256(e.path.read_bytes()).hexdigest() for e in load_corpus()
           for name in (kept, entry.name) if e.name == name}
    assert [(slug, name, bool(expected), year, bool(current), digest) for slug, name, expected, year, current, digest
            in reports] == [("sandbox-huaian", HUAIAN, True, 2021, True, sha[kept]),
                            (f"sandbox-huaian~{HONGZE}", HONGZE, False, 2021, True, sha[entry.name])]
    assert rows(context, f"SELECT kind, level FROM agencies WHERE slug = 'sandbox-huaian~{HONGZE}'") == [
        ("government", "county")]
    assert done.checked is not None
    assert not [year for name, year in rows(context, MISSING) if name == HONGZE]
