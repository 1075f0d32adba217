"""The check stage on a real warehouse (SQLite and PostgreSQL): facts → alerts, one open alert
per cause, resolution when the cause goes, delivery once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nianbao.alerts.messages import Message
from nianbao.alerts.notifiers import NotifyError
from nianbao.stages import StageContext, check
from nianbao.stages.check import list_alerts
from sandbox.agencies import seed_for
from tests.fixtures.warehouse import make_record, register_agency

TODAY = date(2025, 4, 15)
DEPT = ("bx-health", "本溪市明山区卫生健康局", "210504", "department", "department")
GOV = ("weishan", "微山县人民政府", "370826", "county", "government")


@pytest.fixture
def context(warehouse_engine, warehouse_url, tmp_path) -> StageContext:
    for slug, name, region, level, kind in (DEPT, GOV):
        register_agency(warehouse_engine, slug=slug, name=name, region_code=region, level=level, kind=kind,
                        first_year=2023)
    return StageContext(data_dir=tmp_path / "var", warehouse_url=warehouse_url, raw_store=str(tmp_path / "raw"),
                        sources_dir=Path("sources"))


def publish(engine, who: tuple, year: int, published: str, *, seed: int | None = None, errors: int = 0) -> str:
    from warehouse.db import session_scope
    from warehouse.load import load_report, record_document

    slug, name = who[0], who[1]
    record = make_record(seed if seed is not None else seed_for(slug, year) % 10_000, agency=name, year=year,
                         errors=errors)
    sha = f"{slug}-{year}-{seed}".encode().hex().ljust(64, "0")[:64]
    url = f"http://127.0.0.1/{slug}/{year}.pdf"
    record.provenance.sha256, record.provenance.url = sha, url
    with session_scope(engine) as session:
        record_document(session, {"url": url, "sha256": sha, "listing_date": published, "year": year})
        load_report(session, record, agency_id=slug, document_sha256=sha, document_url=url)
    return sha


def cause(engine, kind: str, who: tuple, year: int) -> str:
    """A missing/late cause key: by the agency's warehouse id (two agencies may share a name)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        agency_id = conn.scalar(text("SELECT id FROM agencies WHERE slug = :slug"), {"slug": who[0]})
    return f"{kind}:{agency_id}:{year}"


def alert_rows(context: StageContext) -> list[tuple]:
    return sorted((a["cause_key"], a["message"], a["resolved_at"] is None) for a in list_alerts(context))


def test_publication_alerts_are_opened_once_and_resolved_when_the_cause_goes(context, warehouse_engine) -> None:
    late_and_broken = publish(warehouse_engine, DEPT, 2023, "2024-06-12", errors=1)
    early = publish(warehouse_engine, DEPT, 2024, "2024-12-20")
    publish(warehouse_engine, GOV, 2023, "2024-03-01")

    first = check(context, today=TODAY, notifiers=[])
    assert sorted(first.opened) == sorted([
        f"early:{early}", cause(warehouse_engine, "late", DEPT, 2023), f"malformed:{late_and_broken}", cause(warehouse_engine, "missing", GOV, 2024)])
    assert first.open_by_kind == {"early": 1, "late": 1, "malformed": 1, "missing": 1}
    late = next(a for a in list_alerts(context) if a["kind"] == "late")
    assert late["details"]["delay_days"] == 133 and late["details"]["deadline"] == "2024-01-31"

    before = alert_rows(context)
    again = check(context, today=TODAY, notifiers=[])
    assert again.opened == [] and again.resolved == []
    assert alert_rows(context) == before

    publish(warehouse_engine, GOV, 2024, "2025-03-20")
    after = check(context, today=TODAY, notifiers=[])
    assert after.resolved == [cause(warehouse_engine, "missing", GOV, 2024)] and after.opened == []
    assert {a["cause_key"] for a in list_alerts(context, open_only=True)} == set(first.opened) - set(after.resolved)


def test_nothing_is_missing_before_the_deadline(context, warehouse_engine) -> None:
    publish(warehouse_engine, DEPT, 2023, "2024-01-20")
    publish(warehouse_engine, GOV, 2023, "2024-03-20")
    assert check(context, today=date(2025, 1, 31), notifiers=[]).opened == []
    feb = check(context, today=date(2025, 2, 1), notifiers=[])
    assert feb.opened == [cause(warehouse_engine, "missing", DEPT, 2024)]       # departments first; governments have until 31 Mar


def test_a_copied_report_is_a_duplicate(context, warehouse_engine) -> None:
    original = publish(warehouse_engine, GOV, 2024, "2025-03-01", seed=7)
    copy = publish(warehouse_engine, DEPT, 2024, "2025-01-10", seed=7)   # same figures, same prose
    publish(warehouse_engine, GOV, 2023, "2024-03-01", seed=8)
    publish(warehouse_engine, DEPT, 2023, "2024-01-10", seed=9)
    summary = check(context, today=TODAY, notifiers=[])
    duplicates = [key for key in summary.opened if key.startswith("duplicate:")]
    assert len(duplicates) == 1 and {original, copy} == set(duplicates[0].split(":")[1:])


def test_a_site_that_stops_listing_reports_is_broken_until_it_lists_them_again(context, warehouse_engine) -> None:
    from warehouse.db import session_scope
    from warehouse.load import upsert_source
    from warehouse.operational import finish_crawl_run, start_crawl_run

    def crawl(source_id: str, listed: int, **stats: object) -> None:
        with session_scope(warehouse_engine) as session:
            upsert_source(session, id=source_id, name=source_id)
            run = start_crawl_run(session, source_id)
            finish_crawl_run(session, run.id, stats={"reports_listed": listed, "list_pages": 2, **stats},
                             finish_reason="finished")

    crawl("sandbox-weishan", 5)
    crawl("sandbox-other", 3)
    assert not [k for k in check(context, today=TODAY, notifiers=[]).opened if k.startswith("site_broken")]
    crawl("sandbox-weishan", 0)
    crawl("sandbox-other", 3, errors={"challenge": 2})
    opened = check(context, today=TODAY, notifiers=[]).opened
    assert {k for k in opened if k.startswith("site_broken")} == {"site_broken:sandbox-weishan",
                                                                 "site_broken:sandbox-other"}
    crawl("sandbox-weishan", 5)
    crawl("sandbox-other", 3)
    scoped = check(context, today=TODAY, sources=["sandbox-weishan"], notifiers=[])
    assert scoped.resolved == ["site_broken:sandbox-weishan"]   # a check of one source resolves only its own
    everything = check(context, today=TODAY, notifiers=[])
    assert everything.resolved == ["site_broken:sandbox-other"]


class Recorder:
    """A notifier that keeps what it is given (or refuses, to test redelivery)."""

    name = "recorder"

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.sent: list[tuple[list[str], int]] = []

    def send(self, message: Message) -> None:
        if self.refuse:
            raise NotifyError("refused")
        self.sent.append(([a.key for a in message.alerts], message.resolved))


def test_alerts_are_delivered_once_and_again_after_a_failed_delivery(context, warehouse_engine) -> None:
    publish(warehouse_engine, DEPT, 2023, "2024-06-12")
    publish(warehouse_engine, GOV, 2023, "2024-03-01")
    refusing = Recorder(refuse=True)
    first = check(context, today=TODAY, notifiers=[refusing])
    assert first.notify_failed == ["recorder"]
    assert all(a["notified_at"] is None for a in list_alerts(context))

    recorder = Recorder()
    second = check(context, today=TODAY, notifiers=[recorder])
    assert second.opened == [] and second.notified == ["recorder"]
    assert recorder.sent == [(sorted(first.opened), 0)]
    assert all(a["notified_at"] is not None for a in list_alerts(context))
    check(context, today=TODAY, notifiers=[recorder])
    assert len(recorder.sent) == 1


class Named(Recorder):
    def __init__(self, name: str, refuse: bool = False) -> None:
        super().__init__(refuse)
        self.name = name


def deliveries(context: StageContext) -> dict[str, tuple[int, int, bool]]:
    """notifier → (alerts delivered, attempts of the last one, any error kept)."""
    from warehouse.operational import delivery_listing
    from warehouse.session import warehouse_session

    with warehouse_session(context.warehouse_url) as session:
        rows = delivery_listing(session)
    return {name: (sum(r["delivered_at"] is not None for r in rows if r["notifier"] == name),
                   max(r["attempts"] for r in rows if r["notifier"] == name),
                   any(r["last_error"] for r in rows if r["notifier"] == name))
            for name in {r["notifier"] for r in rows}}


def test_one_failing_notifier_does_not_make_the_others_send_again(context, warehouse_engine) -> None:
    publish(warehouse_engine, DEPT, 2023, "2024-06-12")
    dingtalk, email = Named("dingtalk"), Named("email", refuse=True)
    first = check(context, today=TODAY, notifiers=[dingtalk, email])
    assert first.notified == ["dingtalk"] and first.notify_failed == ["email"]
    assert "refused" in first.notify_errors["email"]
    check(context, today=TODAY, notifiers=[dingtalk, email])
    assert len(dingtalk.sent) == 1                        # told once, although e-mail failed twice
    assert deliveries(context) == {"dingtalk": (len(first.opened), 1, False), "email": (0, 2, True)}
    assert all(a["notified_at"] is None for a in list_alerts(context))   # not everyone was told yet

    email.refuse = False
    third = check(context, today=TODAY, notifiers=[dingtalk, email])
    assert third.notified == ["email"] and third.notify_failed == []
    assert email.sent == [(sorted(first.opened), 0)] and len(dingtalk.sent) == 1
    assert all(a["notified_at"] is not None for a in list_alerts(context))


def test_a_missing_reports_delay_is_computed_when_shown(context, warehouse_engine) -> None:
    from nianbao.alerts.messages import alert_message
    from nianbao.stages.check import as_alert

    publish(warehouse_engine, DEPT, 2023, "2024-01-20")
    publish(warehouse_engine, GOV, 2023, "2024-03-20")
    check(context, today=date(2025, 2, 10), notifiers=[])
    later = check(context, today=date(2025, 4, 15), notifiers=[])
    [stored] = [a for a in list_alerts(context, open_only=True) if a["kind"] == "missing" and "2024" in a["message"]
                and DEPT[1] in a["message"]]
    assert "天" not in stored["message"] and later.opened == [cause(warehouse_engine, "missing", GOV, 2024)]

    class Row:   # the stored alert as check reads it back
        kind, cause_key, severity, message, year = (stored["kind"], stored["cause_key"], stored["severity"],
                                                    stored["message"], stored["year"])
        details, agency_id = stored["details"], None

    shown = alert_message([as_alert(Row())], today=date(2025, 4, 15)).lines[0].text
    assert shown.endswith("（截止2025-01-31，已逾期74天）")
    assert alert_message([as_alert(Row())], today=date(2025, 2, 10)).lines[0].text.endswith("已逾期10天）")
