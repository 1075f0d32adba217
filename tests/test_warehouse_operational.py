"""Operational records: crawl runs, documents' extraction attempts, alerts (one open per cause)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from report.record import OcrPage, Provenance
from tests.fixtures.warehouse import register_agency
from warehouse.db import session_scope
from warehouse.load import LoadError, record_document, upsert_source
from warehouse.models import Alert, CrawlRun, Document, ExtractionAttempt, Source
from warehouse.operational import (
    finish_crawl_run,
    mark_alert_notified,
    open_alert,
    open_alerts,
    record_extraction_attempt,
    resolve_alert,
    start_crawl_run,
)

URL, SHA = "https://www.hongze.gov.cn/2024.pdf", "e" * 64


def test_crawl_run_and_its_documents(warehouse_engine: Engine) -> None:
    with session_scope(warehouse_engine) as session:
        upsert_source(session, id="hongze", name="洪泽区人民政府", cms="trs", base_url="https://www.hongze.gov.cn",
                      region_code="320813", config={"list_path": "/xxgk/xxgknb/index.html"})
        upsert_source(session, id="hongze", name="洪泽区人民政府门户网站", cms="trs")
        run = start_crawl_run(session, "hongze")
        record_document(session, {"url": URL, "sha256": SHA, "source_id": "hongze", "crawl_run_id": run.id,
                                  "content_type": "application/pdf", "size": 2048})
        finish_crawl_run(session, run.id, stats={"pages": 3, "documents": 1}, finish_reason="finished")
    with session_scope(warehouse_engine) as session:
        source = session.get(Source, "hongze")
        stored = session.scalars(select(CrawlRun)).one()
        document = session.scalars(select(Document)).one()
        assert source is not None and source.name == "洪泽区人民政府门户网站"
        assert stored.stats == {"pages": 3, "documents": 1} and stored.finish_reason == "finished"
        assert stored.finished_at is not None and document.crawl_run_id == stored.id
        with pytest.raises(LoadError):
            finish_crawl_run(session, 999)


def test_extraction_attempts_take_what_the_provenance_says(warehouse_engine: Engine) -> None:
    with session_scope(warehouse_engine) as session:
        document = record_document(session, {"url": URL, "sha256": SHA})
        provenance = Provenance(reader="pdf", pages=5, extractor_version="0.3.1", duration_ms=812.5,
                                ocr_pages=[OcrPage(page=4, confidence=0.91), OcrPage(page=5, confidence=0.88)])
        ocr = record_extraction_attempt(session, url=URL, sha256=SHA, outcome="ok", provenance=provenance)
        failed = record_extraction_attempt(session, document_id=document.id, outcome="failed",
                                           reader="docx", error="zip file is truncated")
        with pytest.raises(LoadError, match="unknown document"):
            record_extraction_attempt(session, url=URL, sha256="0" * 64, outcome="ok")
        assert (ocr.reader, ocr.pages, ocr.ocr_used, ocr.ocr_pages, ocr.duration_ms) == ("pdf", 5, True, 2, 812.5)
        assert (failed.reader, failed.ocr_used, failed.error) == ("docx", False, "zip file is truncated")
    with warehouse_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ExtractionAttempt)) == 2


def test_one_open_alert_per_cause(warehouse_engine: Engine) -> None:
    agency_id = register_agency(warehouse_engine)
    cause = "missing:hongze:2024"
    with session_scope(warehouse_engine) as session:
        first, created = open_alert(session, kind="missing", cause_key=cause, severity="warning",
                                    message="2024年报告未找到", agency_id=agency_id, year=2024,
                                    details={"deadline": "2025-03-31"})
        again, created_again = open_alert(session, kind="missing", cause_key=cause, severity="warning",
                                          message="2024年报告仍未找到", agency_id=agency_id, year=2024)
        assert created and not created_again and again.id == first.id
        assert again.message == "2024年报告仍未找到"
        mark_alert_notified(session, first.id)
        assert [a.id for a in open_alerts(session)] == [first.id]
    with session_scope(warehouse_engine) as session:
        assert resolve_alert(session, cause) and not resolve_alert(session, cause)
        reopened, created = open_alert(session, kind="missing", cause_key=cause, severity="warning",
                                       message="又一次未找到")
        assert created and reopened.id != first.id
        assert session.scalar(select(func.count()).select_from(Alert)) == 2
        with pytest.raises(LoadError, match="severity"):
            open_alert(session, kind="x", cause_key="y", severity="fatal", message="?")
    with pytest.raises(IntegrityError), session_scope(warehouse_engine) as session:  # the database agrees
        session.add(Alert(kind="missing", cause_key=cause, severity="warning", message="duplicate"))
        session.flush()


def test_moments_keep_their_zone(warehouse_engine: Engine) -> None:
    """08:00 in Beijing is 00:00 UTC on both backends (SQLite keeps no zone of its own)."""
    import datetime as dt

    beijing = dt.timezone(dt.timedelta(hours=8))
    with session_scope(warehouse_engine) as session:
        run_id = start_crawl_run(session).id
        session.get(CrawlRun, run_id).started_at = dt.datetime(2025, 4, 15, 8, 0, tzinfo=beijing)
    with session_scope(warehouse_engine) as session:
        started = session.get(CrawlRun, run_id).started_at
    assert started.utcoffset() == dt.timedelta(0)
    assert started == dt.datetime(2025, 4, 15, 0, 0, tzinfo=dt.UTC)
