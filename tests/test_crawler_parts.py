"""The next page of a report paginated in place (crawler.parts), the multipart document's one
sha256, and the crawl index keeping its parts (also in an index created before parts existed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from parsel import Selector

from crawler.index import DocumentIndex
from crawler.parts import next_part
from report.document import DocumentVersion, Part, parts_digest

BASE = "http://example.gov.cn/art/2022/3/15/"


def page(links: str) -> Selector:
    return Selector(text=f"<html><body><div class='content'>……</div><div>{links}</div></body></html>")


@pytest.mark.parametrize(("url", "position", "links", "expected"), [
    (BASE + "art_1_5.html", 1, '<a href="art_1_5_2.html">下一页</a>', "art_1_5_2.html"),
    (BASE + "art_1_5.html", 1, '<a href="x.html">第1页</a> <a href="y.html">第2页</a>', "y.html"),
    (BASE + "art_1_5.html", 1, '<a href="x.html">[1]</a> <a href="y.html">[2]</a>', "y.html"),
    (BASE + "index.html", 1, '<a href="index_1.html"><img src="n.gif"></a>', "index_1.html"),
    (BASE + "index_1.html", 2, '<a href="index.html"><img></a> <a href="index_2.html"><img></a>', "index_2.html"),
    (BASE + "page-1.html", 1, '<a href="page-2.html"><img src="next.gif"></a>', "page-2.html"),
    (BASE + "page-2.html", 2, '<a href="page-1.html">上一页</a><a href="page-3.html">›</a>', "page-3.html"),
])
def test_the_next_page_is_found_in_every_spelling(url: str, position: int, links: str, expected: str) -> None:
    assert next_part(page(links), url, position, {url}) == BASE + expected


@pytest.mark.parametrize(("url", "links"), [
    (BASE + "t20220315_12.html", '<a href="t20220315_13.html">关于印发……的通知</a>'),   # another article's id
    (BASE + "art_1_5.html", '<a href="art_1_6.html">下一篇</a>'),                   # the next article
    (BASE + "page-2.html", '<a href="page-1.html">下一页</a>'),                     # a page already read
    (BASE + "art_1_5.html", '<a href="http://other.gov.cn/a_2.html">下一页</a>'),   # another host
    (BASE + "art_1_5.html", '<a href="javascript:void(0)">下一页</a>'),             # greyed out
    (BASE + "art_1_5.html", '<a href="/col/col1/index_2.html"><img></a>'),          # the list's pager
])
def test_what_is_not_the_next_page(url: str, links: str) -> None:
    assert next_part(page(links), url, 2 if "page-2" in url else 1, {url, BASE + "page-1.html"}) is None


def test_one_sha256_over_the_parts_in_order() -> None:
    a, b = Part("http://x/1.html", "a" * 64), Part("http://x/2.html", "b" * 64)
    assert parts_digest([a, b]) == parts_digest([Part("http://y/1.html", "a" * 64), b])   # the bytes, not the URLs
    assert len({parts_digest([a, b]), parts_digest([b, a]), parts_digest([a]), parts_digest([a, b, b])}) == 4
    version = DocumentVersion.from_dict({"source_id": "s", "agency": "a", "url": a.url, "sha256": parts_digest([a, b]),
                                         "parts": [{"url": a.url, "sha256": a.sha256}, {"url": b.url, "sha256": b.sha256}]})
    assert version.parts == (a, b) and version.raw_keys == (a.sha256, b.sha256)
    assert DocumentVersion.from_dict(version.as_dict()) == version
    single = DocumentVersion(source_id="s", agency="a", url=a.url, sha256="c" * 64)
    assert single.parts == () and single.raw_keys == ("c" * 64,)


def test_the_crawl_index_keeps_the_parts_even_in_an_index_made_before_them(tmp_path: Path) -> None:
    database = tmp_path / "index.db"
    DocumentIndex(database).close()
    with sqlite3.connect(database) as db:            # an index as an earlier crawler created it
        db.execute("ALTER TABLE crawl_index_documents DROP COLUMN parts")
    index = DocumentIndex(database)
    parts = [Part("http://x/index.html", "a" * 64, 10, '"e1"', None), Part("http://x/index_1.html", "b" * 64, 20)]
    common = {"source_id": "s", "agency": "a", "size": 30, "storage_key": "k", "run_id": "r"}
    assert index.record(url=parts[0].url, sha256=parts_digest(parts), parts=parts, **common) == "new"
    assert index.record(url=parts[0].url, sha256=parts_digest(parts), parts=parts, **common) == "unchanged"
    assert index.latest(parts[0].url).parts == tuple(parts)                        # type: ignore[union-attr]
    assert index.record(url="http://x/a.pdf", sha256="c" * 64, **common) == "new"
    assert index.latest("http://x/a.pdf").parts == ()                             # type: ignore[union-attr]
    index.close()
