"""The document contract (report/document.py): one type and one set of names from the crawl index
through the process stage into the warehouse; a field under any other name is an error, never lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.index import DocumentIndex
from extract import Hints
from report.document import DOCUMENT_FIELDS, DocumentVersion
from warehouse.db import session_scope
from warehouse.load import LoadError, record_document, upsert_source
from warehouse.models import Document

SHA = "a" * 64
URL = "https://www.hongze.gov.cn/nb/2024.pdf"


def crawled(tmp_path: Path) -> DocumentVersion:
    index = DocumentIndex(tmp_path / "index.db")
    index.record(url=URL, sha256=SHA, source_id="hongze", agency="淮安市洪泽区人民政府", size=1234, storage_key="k",
                 run_id="r1", listing_title="洪泽区2024年政府信息公开工作年度报告", year=2024,
                 listing_date="2025-01-20", content_type="application/pdf", etag='"v1"')
    [version] = index.versions()
    index.close()
    return version


def test_the_crawl_index_hands_out_the_contract(tmp_path: Path) -> None:
    version = crawled(tmp_path)
    assert isinstance(version, DocumentVersion)
    assert (version.listing_title, version.listing_date, version.etag) == (
        "洪泽区2024年政府信息公开工作年度报告", "2025-01-20", '"v1"')
    assert DocumentVersion.from_dict(version.as_dict()) == version
    with pytest.raises(ValueError, match="not fields of a document version: title"):
        DocumentIndex(tmp_path / "index.db").record(url=URL, sha256="b" * 64, source_id="hongze", agency="x",
                                                    size=1, storage_key="k", run_id="r2", title="a renamed field")


def test_the_warehouse_records_the_contract_as_it_comes(tmp_path: Path, warehouse_engine) -> None:
    version = crawled(tmp_path)
    with session_scope(warehouse_engine) as session:
        upsert_source(session, id="hongze", name=version.agency, cms="trs", base_url="https://www.hongze.gov.cn/",
                      region_code="320813")
        record_document(session, version)
        row = session.scalar(select(Document).where(Document.url == URL))
        assert row is not None
        assert (row.listing_title, str(row.listing_date), row.agency_name, row.year, row.size, row.etag) == (
            version.listing_title, "2025-01-20", version.agency, 2024, 1234, '"v1"')
        with pytest.raises(LoadError, match="not fields of a document version: published, title"):
            record_document(session, {"url": URL, "sha256": SHA, "title": "x", "published": "2025-01-20"})


def test_an_index_written_with_the_old_names_is_read_with_the_new_ones(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    DocumentIndex(path).close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE documents RENAME COLUMN listing_title TO title")
        db.execute("ALTER TABLE documents RENAME COLUMN listing_date TO listed_date")
        db.execute("INSERT INTO documents (source_id, agency, url, sha256, title, listed_date, size, storage_key, "
                   "first_seen_at, last_checked_at) VALUES ('s', 'a', ?, ?, '旧标题', '2024-01-02', 1, 'k', 't', 't')",
                   (URL, SHA))
    db.close()
    [before] = DocumentIndex(path, readonly=True).versions()            # read-only: read as it is
    [after] = DocumentIndex(path).versions()                            # writable: the columns are renamed
    assert before == after and (after.listing_title, after.listing_date) == ("旧标题", "2024-01-02")


def test_every_contract_name_reaches_the_extractor_or_fails_loudly() -> None:
    assert {"listing_title", "listing_date", "url", "sha256", "source_id", "content_type"} <= set(DOCUMENT_FIELDS)
    assert Hints(listing_date="2025-01-20").listing_date == "2025-01-20"
    with pytest.raises(ValueError, match="published"):
        Hints(published="2025-01-20")  # type: ignore[call-arg]
