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


OLD_INDEX = """
CREATE TABLE documents (id INTEGER PRIMARY KEY, source_id TEXT NOT NULL, agency TEXT NOT NULL, url TEXT NOT NULL,
    sha256 TEXT NOT NULL, title TEXT, year INTEGER, listed_date TEXT, content_type TEXT, real_kind TEXT, filename TEXT,
    size INTEGER NOT NULL, etag TEXT, last_modified TEXT, referer TEXT, storage_key TEXT NOT NULL,
    first_seen_at TEXT NOT NULL, last_checked_at TEXT NOT NULL, run_id TEXT, UNIQUE (url, sha256));
CREATE TABLE pages (url TEXT PRIMARY KEY, source_id TEXT NOT NULL, etag TEXT, last_modified TEXT,
    last_checked_at TEXT NOT NULL, children TEXT NOT NULL DEFAULT '[]');
CREATE TABLE quarantine (url TEXT PRIMARY KEY, source_id TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT, sha256 TEXT,
    etag TEXT, last_modified TEXT, last_checked_at TEXT NOT NULL);
"""


def test_an_index_file_of_earlier_versions_is_imported_with_the_new_names(tmp_path: Path) -> None:
    """The crawl index used to be a SQLite file of its own, and before that had other column names."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_INDEX)
        db.execute("INSERT INTO documents (source_id, agency, url, sha256, title, listed_date, size, storage_key, "
                   "first_seen_at, last_checked_at) VALUES ('s', 'a', ?, ?, '旧标题', '2024-01-02', 1, 'k', 't', 't')",
                   (URL, SHA))
        db.execute("INSERT INTO pages VALUES ('http://x/p.html', 's', NULL, NULL, 't', '[]')")
    db.close()
    index = DocumentIndex(tmp_path / "warehouse.db")
    assert index.import_file(path) == 1
    assert index.import_file(path) == 0                               # twice: nothing twice
    [version] = index.versions()
    assert (version.listing_title, version.listing_date, version.url) == ("旧标题", "2024-01-02", URL)
    assert index.page("http://x/p.html") is not None
    index.close()


def test_every_contract_name_reaches_the_extractor_or_fails_loudly() -> None:
    assert {"listing_title", "listing_date", "url", "sha256", "source_id", "content_type"} <= set(DOCUMENT_FIELDS)
    assert Hints(listing_date="2025-01-20").listing_date == "2025-01-20"
    with pytest.raises(ValueError, match="published"):
        Hints(published="2025-01-20")  # type: ignore[call-arg]
