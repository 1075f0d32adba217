"""One report, one record: a report paginated over several HTML pages — a flipbook's page list,
or an article paginated in place with any of the sandbox's pager spellings — is crawled into one
multipart document version, extracted into one record with every cell, and loaded as one
accepted report whose cells name the page they came from. A re-crawl keeps it (same sha256, no
new version, every page answered 304); a changed page makes a new version."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from crawler.index import DocumentIndex
from crawler.store import RawStore
from nianbao.stages.context import StageContext
from nianbao.stages.process import process
from report.document import parts_digest
from sandbox.agencies import Publication
from sandbox.corpus import CORPUS_DIR, Truth
from sandbox.generate.form_paged_html import SPELLINGS, write_pages
from sandbox.portal import Document
from tests.test_crawler_e2e import crawl, write_sources

pytestmark = pytest.mark.slow
SITE = "guangdong"
BOOK = "guangdong-2021-flipbook"
PAGINATIONS = [*sorted(SPELLINGS), "flipbook"]


def published(tmp_path: Path, pagination: str) -> tuple[Document, Truth]:
    """The 广东 2021 report as a flipbook (the corpus's) or an article paginated with `pagination`."""
    if pagination == "flipbook":
        folder = shutil.copytree(CORPUS_DIR / BOOK, tmp_path / "pages" / BOOK)
        truth = Truth.model_validate_json((CORPUS_DIR / f"{BOOK}.truth.json").read_text(encoding="utf-8"))
    else:
        truth = write_pages(Publication(SITE, 2021, "paged-html", published="2022-03-15"), tmp_path / "pages",
                            pagination)
        folder = tmp_path / "pages" / truth.file
    document = Document(title=truth.title or "", content=folder, site=SITE, name=truth.name, form=truth.form,
                        media_type="text/html", published=truth.published or "2022-03-15", year=truth.year)
    return document, truth


def reading_order(item) -> list[str]:
    """The report's pages as the portal serves them, first the article, then in file-name order."""
    return [item.article_url, *sorted(item.page_urls, key=lambda url: item.page_urls[url].name)]


def stage_context(work: Path, portal_url: str) -> StageContext:
    data = work / "data"
    return StageContext(data_dir=data, warehouse_url=f"sqlite:///{data / 'warehouse.db'}", raw_store=str(data / "raw"),
                        sources_dir=work / "sources", sandbox_url=portal_url)


@pytest.mark.parametrize("pagination", PAGINATIONS)
def test_a_paginated_report_is_one_document_one_record_one_accepted_report(
        pagination: str, sandbox_portal_factory, tmp_path: Path) -> None:
    document, truth = published(tmp_path, pagination)
    portal = sandbox_portal_factory(sites=[SITE], fillers=0, documents=[document])
    (item,) = portal.items(SITE)
    write_sources(tmp_path / "sources", [SITE])

    first = crawl(portal.url, tmp_path)
    index = DocumentIndex(tmp_path / "data" / "warehouse.db")
    (version,) = index.versions()
    assert version.url == portal.url + item.article_url
    assert [part.url for part in version.parts] == [portal.url + url for url in reading_order(item)]
    store = RawStore(str(tmp_path / "data" / "raw"))
    for part, path in zip(version.parts, reading_order(item), strict=True):
        served = (item.article_file if path == item.article_url else item.page_urls[path]).read_bytes()
        assert store.get(part.sha256) == served and part.sha256 == hashlib.sha256(served).hexdigest()
    assert version.sha256 == parts_digest(version.parts) and first["documents"]["new"] == 1

    context = stage_context(tmp_path, portal.url)
    summary = process(context, jobs=1)
    assert (summary.documents, summary.accepted) == (1, 1), summary.problems
    assert truth.record is not None
    with sqlite3.connect(tmp_path / "data" / "warehouse.db") as db:
        (report_id, status), = db.execute("SELECT id, status FROM reports WHERE is_current").fetchall()
        cells = dict(db.execute("SELECT key, value FROM cells WHERE report_id = ?", (report_id,)).fetchall())
        pages = dict(db.execute("SELECT key, page FROM cell_sources WHERE report_id = ?", (report_id,)).fetchall())
    assert status == "accepted"
    assert {key: str(value) for key, value in cells.items()} == \
        {key: str(value) for key, value in truth.record.cells.items() if value is not None}
    # each cell names the page it was printed on: 表二 before 表三's cut, its rest and 表四 after it
    assert pages["t2.rules.issued"] < pages["t3.new.total"] < pages["t3.result_total.total"] <= pages["t4.review.total"]
    assert max(pages.values()) <= len(version.parts)

    again = crawl(portal.url, tmp_path, "--recheck-interval", "0")
    assert again["documents"]["new"] == again["documents"]["changed"] == 0
    assert again["document_bytes"] == 0                      # every page answered 304
    assert [v.sha256 for v in index.versions()] == [version.sha256]

    changed_page = item.page_urls[reading_order(item)[2]]
    changed_page.write_bytes(changed_page.read_bytes().replace(b"</body>", "<!-- 更正 --></body>".encode()))
    corrected = crawl(portal.url, tmp_path, "--recheck-interval", "0")
    assert corrected["documents"]["changed"] == 1
    old, new = index.versions()
    assert old.sha256 == version.sha256 and new.sha256 != version.sha256 and new.url == version.url
    assert [a.sha256 == b.sha256 for a, b in zip(old.parts, new.parts, strict=True)] == \
        [True, True, False, *[True] * (len(old.parts) - 3)]
    index.close()
