"""Arrival order does not matter: the years of an agency loaded in any order (as separate
harvests) leave the same reports, statuses and findings as loaded oldest first — loading year Y
re-checks Y+1's cross-year rules (CARRY-OVER, STOCK)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from nianbao.stages import StageContext
from nianbao.stages.context import ensure_warehouse
from nianbao.stages.process import Processed, load_all, validate_all
from report.document import DocumentVersion
from report.record import ReportRecord
from tests.fixtures.warehouse import make_record

SOURCE, AGENCY = "sandbox-hongze", "淮安市洪泽区人民政府"
YEARS = (2020, 2021, 2022, 2023, 2024)


def yearly_records() -> dict[int, ReportRecord]:
    """Five years of one agency: 2022 carries over what 2021 carried forward, the others do not."""
    records = {year: make_record(100 + year, agency=AGENCY, year=year) for year in YEARS}
    for key, value in records[2021].cells.items():
        if key.startswith("t3.carried_forward."):
            records[2022].cells[key.replace("carried_forward", "carried_over")] = value
    return records


def arrive(context: StageContext, records: dict[int, ReportRecord], order: list[int]) -> None:
    for year in order:   # one harvest per year
        record = records[year].model_copy(deep=True)
        sha = f"{year}".ljust(64, "a")
        record.provenance.sha256, record.provenance.url = sha, f"http://127.0.0.1/hongze/{year}.pdf"
        document = DocumentVersion(source_id=SOURCE, agency=AGENCY, url=record.provenance.url, sha256=sha,
                                   listing_title=f"{AGENCY}{year}年政府信息公开工作年度报告", year=year)
        summary = load_all(context, validate_all(context, [Processed(document, record)]))
        assert summary.failed == 0, summary.problems


def findings_of(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return sorted(db.execute("""SELECT r.year, r.status, r.is_current, f.rule, f.severity, f.cells, f.message
            FROM reports r LEFT JOIN findings f ON f.report_id = r.id""").fetchall(), key=repr)


def loaded(tmp_path: Path, name: str, order: list[int]) -> list[tuple]:
    data_dir = tmp_path / name
    context = StageContext(data_dir=data_dir, warehouse_url=f"sqlite:///{data_dir / 'warehouse.db'}",
                           raw_store=str(data_dir / "raw"), sources_dir=Path("sources"),
                           sandbox_url="http://127.0.0.1:9")   # the sandbox registry; nothing is fetched
    ensure_warehouse(context)
    arrive(context, yearly_records(), order)
    return findings_of(data_dir / "warehouse.db")


def test_years_loaded_in_any_order_leave_the_same_findings(tmp_path: Path) -> None:
    in_order = loaded(tmp_path, "in-order", list(YEARS))
    cross_year = {row[3] for row in in_order} & {"CARRY-OVER", "STOCK"}
    assert "CARRY-OVER" in cross_year                  # the comparison has something to compare
    assert not [row for row in in_order if row[0] == 2022 and row[3] == "CARRY-OVER"]
    orders = [list(reversed(YEARS))] + [random.Random(seed).sample(YEARS, len(YEARS)) for seed in (1, 2, 3)]
    for number, order in enumerate(orders):
        assert loaded(tmp_path, f"order-{number}", order) == in_order, f"arrival order {order}"
