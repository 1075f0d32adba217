"""Loading: idempotent, superseding with history, one transaction per report; registry rows."""

from __future__ import annotations

from sqlalchemy import Engine, func, select, text

from tests.fixtures.warehouse import make_record, register_agency
from warehouse.db import session_scope
from warehouse.load import (
    LoadError,
    LoadItem,
    bulk_load,
    load_report,
    record_document,
    upsert_agency,
)
from warehouse.models import Base, Document, Region, Report

SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64
URL = "https://www.hongze.gov.cn/xxgk/2024.pdf"


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with engine.connect() as conn:
        return {table.name: [tuple(row) for row in conn.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


def wide_row(engine: Engine, agency_id: int, year: int) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM report_wide WHERE agency_id = :a AND year = :y"),
                            {"a": agency_id, "y": year}).mappings().all()
    assert len(rows) == 1
    return dict(rows[0])


def test_load_twice_leaves_identical_state(warehouse_engine: Engine) -> None:
    agency_id = register_agency(warehouse_engine)
    record = make_record(1, warnings=1)
    first = load_report(warehouse_engine, record, agency_id=agency_id, document_sha256=SHA_A, document_url=URL)
    before = snapshot(warehouse_engine)
    again = load_report(warehouse_engine, record.model_copy(deep=True), agency_id="hongze",
                        document_sha256=SHA_A, document_url=URL)
    assert first.changed and not again.changed
    assert again.report_id == first.report_id
    assert snapshot(warehouse_engine) == before
    assert len(before["cells"]) == len(record.cells) and len(before["findings"]) == 1


def test_cells_keep_value_raw_and_why_empty(warehouse_engine: Engine) -> None:
    agency_id = register_agency(warehouse_engine)
    record = make_record(2)
    record.cells["t3.new.commercial"], record.raw["t3.new.commercial"] = None, "增98"
    record.cells["t3.new.research"], record.raw["t3.new.research"] = None, "/"
    result = load_report(warehouse_engine, record, agency_id=agency_id, document_sha256=SHA_A, document_url=URL)
    with warehouse_engine.connect() as conn:
        rows = {key: (value, raw, reason) for key, value, raw, reason in conn.execute(text(
            "SELECT key, value, raw, null_reason FROM cells WHERE report_id = :r"), {"r": result.report_id})}
        labelled = conn.execute(text("SELECT label, unit FROM cells_labelled WHERE key = 't3.new.commercial'")).one()
    assert rows["t3.new.commercial"] == (None, "增98", "text")
    assert rows["t3.new.research"] == (None, "/", "empty")
    value, raw, reason = rows["t2.fees.amount"]
    assert float(value) == float(record.cells["t2.fees.amount"]) and reason is None
    assert labelled == ("一、本年新收政府信息公开申请数量 × 商业企业", "件")


def test_status_follows_the_findings_unless_given(warehouse_engine: Engine) -> None:
    register_agency(warehouse_engine)
    register_agency(warehouse_engine, slug="huaian", name="淮安市人民政府", region_code="320800", level="prefecture")
    warned = load_report(warehouse_engine, make_record(3, warnings=2), agency_id="hongze", document_sha256=SHA_A)
    broken = load_report(warehouse_engine, make_record(4, agency="淮安市人民政府", errors=1), agency_id="huaian",
                         document_sha256=SHA_B)
    forced = load_report(warehouse_engine, make_record(5, year=2023), agency_id="hongze", document_sha256=SHA_C,
                         status="quarantined")
    assert (warned.status, broken.status, forced.status) == ("accepted", "quarantined", "quarantined")
    with warehouse_engine.connect() as conn:
        labelled = conn.execute(text("SELECT agency, rule, rule_label, severity FROM findings_labelled "
                                     "WHERE severity = 'error'")).all()
    assert labelled == [("淮安市人民政府", "T4-SUM", "表四 每组总计等于结果维持、结果纠正、其他结果、尚未审结之和", "error")]


def test_new_document_version_supersedes_and_keeps_history(warehouse_engine: Engine) -> None:
    agency_id = register_agency(warehouse_engine)
    old_record, new_record = make_record(10), make_record(11)
    old = load_report(warehouse_engine, old_record, agency_id=agency_id, document_sha256=SHA_A, document_url=URL)
    new = load_report(warehouse_engine, new_record, agency_id=agency_id, document_sha256=SHA_B, document_url=URL)
    assert new.is_current and new.report_id != old.report_id
    assert wide_row(warehouse_engine, agency_id, 2024)["t3_new_total"] == new_record.cells["t3.new.total"]

    # Loading the old version again is a no-op: it does not come back as current.
    again = load_report(warehouse_engine, old_record, agency_id=agency_id, document_sha256=SHA_A, document_url=URL)
    assert not again.changed and not again.is_current
    with session_scope(warehouse_engine) as session:
        reports = {r.id: r for r in session.scalars(select(Report))}
        old_cells = session.execute(text("SELECT count(*) FROM cells WHERE report_id = :r"),
                                    {"r": old.report_id}).scalar()
    assert reports[old.report_id].is_current is False
    assert reports[old.report_id].superseded_by_id == new.report_id
    assert reports[new.report_id].is_current is True
    assert old_cells == len(old_record.cells)  # history stays queryable
    assert wide_row(warehouse_engine, agency_id, 2024)["report_id"] == new.report_id


def test_reextracted_document_is_rewritten_in_place(warehouse_engine: Engine) -> None:
    agency_id = register_agency(warehouse_engine)
    record = make_record(20, errors=1)
    first = load_report(warehouse_engine, record, agency_id=agency_id, document_sha256=SHA_A, document_url=URL)
    fixed = record.model_copy(deep=True)
    fixed.findings = []
    fixed.cells["t3.new.total"] = 12345
    second = load_report(warehouse_engine, fixed, agency_id=agency_id, document_sha256=SHA_A, document_url=URL)
    assert second.changed and second.replaced and second.report_id == first.report_id
    assert (first.status, second.status) == ("quarantined", "accepted")
    state = snapshot(warehouse_engine)
    assert len(state["reports"]) == 1 and state["findings"] == []
    assert wide_row(warehouse_engine, agency_id, 2024)["t3_new_total"] == 12345


def test_bulk_load_matches_load_report_and_is_idempotent(warehouse_engine: Engine) -> None:
    slugs = [f"dept-{n}" for n in range(12)]
    for n, slug in enumerate(slugs):
        register_agency(warehouse_engine, slug=slug, name=f"部门{n}", level="department", kind="department")
    records = [make_record(100 + n, agency=f"部门{n}", errors=n % 3 == 0) for n in range(12)]
    items = [LoadItem(record, slug, f"{n:064x}", f"https://example.gov.cn/{n}.pdf")
             for n, (record, slug) in enumerate(zip(records, slugs, strict=True))]
    result = bulk_load(warehouse_engine, items, batch_size=5)
    assert (result.loaded, result.unchanged, result.cells) == (12, 0, sum(len(r.cells) for r in records))
    before = snapshot(warehouse_engine)
    assert bulk_load(warehouse_engine, items, batch_size=7).unchanged == 12
    assert snapshot(warehouse_engine) == before
    repeated = bulk_load(warehouse_engine, [items[0], items[1], items[0]], batch_size=10)
    assert (repeated.loaded, repeated.unchanged) == (0, 3)
    assert snapshot(warehouse_engine) == before
    one = load_report(warehouse_engine, records[4], agency_id=slugs[4], document_sha256=f"{4:064x}",
                      document_url="https://example.gov.cn/4.pdf")
    assert not one.changed and one.report_id == result.report_ids[4]
    with warehouse_engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT a.slug, r.status FROM reports r "
                                          "JOIN agencies a ON a.id = r.agency_id")).all())
        seventh = conn.execute(text("SELECT t3_new_total FROM report_wide WHERE agency_slug = 'dept-7'")).scalar()
    assert [slug for slug, status in sorted(statuses.items()) if status == "quarantined"] \
        == ["dept-0", "dept-3", "dept-6", "dept-9"]
    assert seventh == records[7].cells["t3.new.total"]


def test_bulk_load_supersedes_within_and_across_batches(warehouse_engine: Engine) -> None:
    register_agency(warehouse_engine)
    versions = [make_record(30 + n) for n in range(3)]
    items = [LoadItem(record, "hongze", sha, URL) for record, sha in zip(versions, (SHA_A, SHA_B, SHA_C), strict=True)]
    bulk_load(warehouse_engine, items[:2])
    bulk_load(warehouse_engine, items[2:])
    with warehouse_engine.connect() as conn:
        current = conn.execute(text("SELECT count(*) FROM reports WHERE is_current")).scalar()
        history = conn.execute(text("SELECT count(*) FROM reports WHERE NOT is_current")).scalar()
    assert (current, history) == (1, 2)
    assert wide_row(warehouse_engine, 1, 2024)["t3_new_total"] == versions[2].cells["t3.new.total"]


def test_bad_input_gets_a_clear_error_and_writes_nothing(warehouse_engine: Engine) -> None:
    import pytest

    register_agency(warehouse_engine)
    no_year = make_record(40)
    no_year.year = None
    with pytest.raises(LoadError, match="no year"):
        load_report(warehouse_engine, no_year, agency_id="hongze", document_sha256=SHA_A)
    with pytest.raises(LoadError, match="unknown agency"):
        load_report(warehouse_engine, make_record(41), agency_id="nobody", document_sha256=SHA_A)
    with pytest.raises(LoadError, match="sha256"):
        load_report(warehouse_engine, make_record(42), agency_id="hongze")
    with pytest.raises(LoadError, match="6 digits"):
        register_agency(warehouse_engine, slug="x", region_code="32")
    assert snapshot(warehouse_engine)["reports"] == []


def test_registry_rows_are_idempotent_and_build_the_region_hierarchy(warehouse_engine: Engine) -> None:
    with session_scope(warehouse_engine) as session:
        for _ in range(2):
            agency = upsert_agency(session, slug="hongze", name="淮安市洪泽区人民政府", region_code="320813",
                                   level="county", kind="government", region_name="洪泽区")
        first = record_document(session, {"url": URL, "sha256": SHA_A, "source_id": None, "agency": "洪泽区",
                                          "listing_title": "2024年政府信息公开工作年度报告", "year": 2024,
                                          "listing_date": "2025年1月20日", "size": 1234})
        seen = first.first_seen_at
        again = record_document(session, {"url": URL, "sha256": SHA_A, "etag": "W/1"})
        assert again.id == first.id and again.first_seen_at == seen and again.etag == "W/1"
        assert str(first.listing_date) == "2025-01-20"
        regions = {r.code: (r.level, r.parent_code, r.name) for r in session.scalars(select(Region))}
        assert session.scalar(select(func.count()).select_from(Document)) == 1
        assert agency.deadline(2024).isoformat() == "2025-03-31"
    assert regions == {"320000": ("province", None, "江苏省"), "320800": ("prefecture", "320000", "淮安市"),
                       "320813": ("county", "320800", "洪泽区")}
    assert len(snapshot(warehouse_engine)["agencies"]) == 1


def test_coverage_counts_expected_found_and_missing(warehouse_engine: Engine) -> None:
    register_agency(warehouse_engine)                                                   # reports, accepted
    register_agency(warehouse_engine, slug="hz-health", name="洪泽区卫生健康委员会", level="department",
                    kind="department")                                                  # quarantined
    register_agency(warehouse_engine, slug="hz-edu", name="洪泽区教育局", level="department",
                    kind="department")                                                  # missing
    register_agency(warehouse_engine, slug="hz-old", name="洪泽区旧机构", level="department",
                    kind="department", last_year=2020)                                  # abolished
    register_agency(warehouse_engine, slug="hz-extra", name="洪泽区某中心", level="department",
                    kind="department", expected=False)                                 # unexpected but found
    load_report(warehouse_engine, make_record(50), agency_id="hongze", document_sha256=SHA_A)
    load_report(warehouse_engine, make_record(51, errors=1), agency_id="hz-health", document_sha256=SHA_B)
    load_report(warehouse_engine, make_record(52), agency_id="hz-extra", document_sha256=SHA_C)
    with warehouse_engine.connect() as conn:
        row = conn.execute(text("SELECT province_code, prefecture_code, region_code, year, expected, found, "
                                "accepted, quarantined, missing FROM coverage")).all()
    assert [tuple(r) for r in row] == [("320000", "320800", "320813", 2024, 3, 3, 2, 1, 1)]


def test_load_report_inside_the_callers_session(warehouse_engine: Engine) -> None:
    """In the caller's transaction the report commits or rolls back with the caller's other rows."""
    import pytest
    from sqlalchemy.orm import Session

    record = make_record(60)
    with pytest.raises(RuntimeError), session_scope(warehouse_engine) as session:
        upsert_agency(session, slug="hongze", name="淮安市洪泽区人民政府", region_code="320813",
                      level="county", kind="government")
        record_document(session, {"url": URL, "sha256": SHA_A, "listing_title": "洪泽区2024年报"})
        load_report(session, record, agency_id="hongze", document_sha256=SHA_A, document_url=URL)
        raise RuntimeError("the caller changes its mind")
    seeded = {"cell_dictionary", "rule_labels", "report_years"}
    assert {name: rows for name, rows in snapshot(warehouse_engine).items() if rows and name not in seeded} == {}

    with session_scope(warehouse_engine) as session:
        upsert_agency(session, slug="hongze", name="淮安市洪泽区人民政府", region_code="320813",
                      level="county", kind="government")
        record_document(session, {"url": URL, "sha256": SHA_A, "listing_title": "洪泽区2024年报"})
        inside = load_report(session, record, agency_id="hongze", document_sha256=SHA_A, document_url=URL)
    own = Session(warehouse_engine)  # not in a transaction: load_report commits by itself
    again = load_report(own, record, agency_id="hongze", document_sha256=SHA_A, document_url=URL)
    own.close()
    state = snapshot(warehouse_engine)
    assert inside.changed and not again.changed and again.report_id == inside.report_id
    assert len(state["documents"]) == 1 and len(state["reports"]) == 1  # the recorded document was reused
    with warehouse_engine.connect() as conn:
        assert conn.scalar(select(Document.listing_title)) == "洪泽区2024年报"


def test_bulk_load_with_a_report_twice_in_one_batch(warehouse_engine: Engine) -> None:
    register_agency(warehouse_engine)
    first, newer = make_record(80), make_record(81)
    items = [LoadItem(first, "hongze", SHA_A, URL), LoadItem(newer, "hongze", SHA_B, URL),
             LoadItem(first, "hongze", SHA_A, URL)]
    result = bulk_load(warehouse_engine, items, batch_size=100)
    assert (result.loaded, result.unchanged) == (2, 1)
    assert result.report_ids[0] == result.report_ids[2]
    assert wide_row(warehouse_engine, 1, 2024)["t3_new_total"] == newer.cells["t3.new.total"]


def _load_versions(engine: Engine, agency_id: int, versions: list[tuple[str, str, int]]) -> dict[str, int]:
    """Load each (sha256, first seen, errors) as a version of the agency's 2024 report, in the order given."""
    ids = {}
    for sha256, first_seen, errors in versions:
        url = f"{URL}?agency={agency_id}&v={sha256[0]}"
        with session_scope(engine) as session:
            record_document(session, {"url": url, "sha256": sha256, "first_seen_at": first_seen})
        record = make_record(30 + len(ids), errors=errors)
        ids[sha256] = load_report(engine, record, agency_id=agency_id, document_sha256=sha256, document_url=url).report_id
    return ids


def _current_and_history(engine: Engine, agency_id: int) -> tuple[int, dict[int, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, is_current, superseded_by_id FROM reports WHERE agency_id = :a"),
                            {"a": agency_id}).all()
    [current] = [report_id for report_id, is_current, _ in rows if is_current]
    return current, {report_id: superseded for report_id, is_current, superseded in rows if not is_current}


def test_the_best_version_is_current_whatever_the_arrival_order(warehouse_engine: Engine) -> None:
    # accepted beats quarantined, then the newest document: the same current report in every order
    accepted_old = (SHA_A, "2025-01-10T00:00:00+00:00", 0)
    quarantined_new = (SHA_B, "2025-02-10T00:00:00+00:00", 1)
    accepted_newer = (SHA_C, "2025-03-10T00:00:00+00:00", 0)
    orders = [([accepted_old, quarantined_new], SHA_A), ([quarantined_new, accepted_old], SHA_A),
              ([accepted_old, quarantined_new, accepted_newer], SHA_C),
              ([accepted_newer, quarantined_new, accepted_old], SHA_C)]
    for number, (order, best) in enumerate(orders):
        agency_id = register_agency(warehouse_engine, slug=f"hongze-{number}")
        ids = _load_versions(warehouse_engine, agency_id, order)
        current, history = _current_and_history(warehouse_engine, agency_id)
        assert current == ids[best], f"order {[sha[0] for sha, *_ in order]}"
        assert history == {ids[sha]: current for sha in ids if sha != best}
        assert wide_row(warehouse_engine, agency_id, 2024)["report_id"] == current


def test_a_quarantined_version_is_current_only_while_it_is_the_only_one(warehouse_engine: Engine) -> None:
    agency_id = register_agency(warehouse_engine)
    ids = _load_versions(warehouse_engine, agency_id, [(SHA_B, "2025-02-10T00:00:00+00:00", 1)])
    assert _current_and_history(warehouse_engine, agency_id) == (ids[SHA_B], {})
    older = _load_versions(warehouse_engine, agency_id, [(SHA_A, "2025-01-10T00:00:00+00:00", 0)])
    assert _current_and_history(warehouse_engine, agency_id) == (older[SHA_A], {ids[SHA_B]: older[SHA_A]})
