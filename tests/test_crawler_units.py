"""Report recognition, byte checks, the raw store, the crawl index and the safety middlewares."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urljoin

import pytest

from crawler.families.base import absolute_url
from crawler.index import DocumentIndex
from crawler.middlewares import GuardedResolver, _refusal, is_public, retry_after_seconds
from crawler.recognise import infer_year, recognise
from crawler.sniff import check, is_challenge, real_kind
from crawler.store import RawStore

REPORT_TITLES = [
    ("淮安市洪泽区人民政府2024年政府信息公开工作年度报告", 2024, None),
    ("武汉市硚口区卫生健康局2023年度政府信息公开工作报告", 2023, None),
    ("某局关于2022年政府信息公开工作情况的报告", 2022, None),
    ("舟山市民政局信息公开工作年度报告(2020年度)", 2020, None),
    ("某街道政府信息公开工作年度报告（2021年度）", 2021, None),
    ("汉台区教育体育局政府信息公开工作2022年度报告", 2022, None),
    ("某局2023年政府信息公开工作年度报告（图片版）", 2023, "图片版"),
    ("某局2023年政府信息公开工作年度报告（超链版）", 2023, "超链版"),
    ("某區2020年政府信息公開工作年度報告", 2020, None),
]
LOOKALIKES = [
    "图解：淮安市洪泽区人民政府2024年政府信息公开工作年度报告",
    "一图读懂2023年政府信息公开工作年度报告",
    "《2022年政府信息公开工作年度报告》解读",
    "2024年上半年政府信息公开工作情况统计",
    "2024年度政府信息公开申请办理情况统计",
    "关于做好2024年政府信息公开工作年度报告编制和发布工作的通知",
    "关于印发2024年政务公开工作要点的通知",
    "某区人民政府2024年法治政府建设年度报告",
    "2024年政府工作报告",
    "政府信息公开指南",
]


@pytest.mark.parametrize(("title", "year", "version"), REPORT_TITLES)
def test_report_titles_are_recognised_with_their_year(title: str, year: int, version: str | None) -> None:
    found = recognise(title)
    assert found is not None, title
    assert (found.year, found.version) == (year, version)


@pytest.mark.parametrize("title", LOOKALIKES)
def test_lookalikes_are_not_reports(title: str) -> None:
    assert recognise(title) is None


def test_year_without_title_year_comes_from_listing_date_then_url() -> None:
    assert infer_year("政府信息公开工作年度报告", listed="2021-01-25") == (2020, "listing-date")
    assert infer_year("政府信息公开工作年度报告", url="http://x.gov.cn/a/202301/t20230130_1.html") == (2022, "url")
    assert infer_year("政府信息公开工作年度报告", url="http://x.gov.cn/xxgknb/2021n/a.html") == (2021, "url")
    assert infer_year("政府信息公开工作年度报告") == (None, "none")


def test_byte_checks() -> None:
    assert check(b"%PDF-1.7 ...", "http://x/a.pdf").ok
    assert check(b"", "http://x/a.pdf").problem == "empty"
    mismatch = check(b"<html><body>404</body></html>", "http://x/a.pdf", "application/pdf")
    assert (mismatch.problem, mismatch.kind) == ("type_mismatch", "html")
    challenge = "<html><title>安全验证</title><script>document.cookie='__jsl_clearance_s=1'</script></html>"
    assert check(challenge.encode(), "http://x/a.html", "text/html").problem == "challenge"
    assert check(b"PK\x03\x04rest", "http://x/a.docx").ok
    assert check(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "http://x/a.doc").ok
    assert check(b"PK\x03\x04rest", "http://x/downfile.jsp?id=1", filename="报告.docx").ok
    assert check(b"\x89PNG....", "http://x/downfile.jsp", filename="报告.pdf").problem == "type_mismatch"
    report = "<html><body>一、总体情况 二、主动公开政府信息情况 验证码</body></html>"
    assert check(report.encode(), "http://x/a.html", "text/html").ok
    assert real_kind(b"   \n") == "empty"


def test_raw_store_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = RawStore(str(tmp_path / "raw"))
    data = b"%PDF-1.4 report bytes"
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "raw" / "sha256" / sha[:2] / sha[2:4] / sha).read_bytes() == data
    assert store.put(data) == sha and store.exists(sha) and store.get(sha) == data
    assert RawStore(str(tmp_path / "raw")).put(data) == sha   # another store, its folders already there
    assert not list((tmp_path / "raw").rglob("*.part"))
    assert not store.exists(hashlib.sha256(b"other").hexdigest())


def test_a_store_prepared_for_writing_makes_only_each_files_own_folder(tmp_path: Path, monkeypatch) -> None:
    store = RawStore(str(tmp_path / "raw"))
    store.prepare_for_writing()
    assert len(list((tmp_path / "raw" / "sha256").iterdir())) == 256
    made: list[str] = []
    real_mkdir = os.mkdir
    monkeypatch.setattr("crawler.store.os.mkdir", lambda path, *a: (made.append(path), real_mkdir(path, *a))[1])
    shas = [store.put(f"document {n}".encode()) for n in range(20)]
    assert len(made) == len({sha[:4] for sha in shas})      # one second-level folder per new one, no first
    again = RawStore(str(tmp_path / "raw"))
    made.clear()
    again.prepare_for_writing()                             # a store that has them: one look, nothing made
    assert made == []
    empty = next(f"{n:02x}" for n in range(256) if f"{n:02x}" not in {sha[:2] for sha in shas})
    (tmp_path / "raw" / "sha256" / empty).rmdir()           # a first folder removed by hand since
    data = next(d for d in (f"x{n}".encode() for n in range(100_000)) if hashlib.sha256(d).hexdigest()[:2] == empty)
    assert store.get(store.put(data)) == data


def test_raw_store_works_over_any_fsspec_url() -> None:
    store = RawStore("memory://nianbao-test/raw")
    sha = store.put(b"bytes in memory")
    assert store.get(sha) == b"bytes in memory"
    assert store.location(sha).startswith("memory://")


def test_index_versions_new_changed_unchanged(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path / "index.db")
    common = {"source_id": "s", "agency": "某局", "size": 3, "storage_key": "k", "run_id": "r1"}
    before = datetime.now(UTC) - timedelta(seconds=5)
    assert index.record(url="http://x/a.pdf", sha256="1" * 64, listing_title="t", year=2024, **common) == "new"
    assert index.record(url="http://x/a.pdf", sha256="1" * 64, **common) == "unchanged"
    assert index.record(url="http://x/a.pdf", sha256="2" * 64, etag='"v2"', **common) == "changed"
    versions = index.versions(since=before)
    assert [v.sha256 for v in versions] == ["1" * 64, "2" * 64]
    assert versions[0].year == 2024 and versions[1].etag == '"v2"'
    assert index.latest("http://x/a.pdf").sha256 == "2" * 64
    index.record(url="http://x/b.pdf", sha256="3" * 64, **common)
    assert [(v.url, v.sha256[0]) for v in index.current()] == [("http://x/a.pdf", "2"), ("http://x/b.pdf", "3")]
    assert index.current(source_id="other") == []
    assert index.versions(since=datetime.now(UTC) + timedelta(days=1)) == []
    assert [v.sha256[0] for v in index.versions(after_id=versions[0].id)] == ["2", "3"]
    index.record_failure("r1", "s", "http://x/b.pdf", "type_mismatch", "claims PDF")
    assert [f.kind for f in index.failures("r1")] == ["type_mismatch"]
    index.close()
    reader = DocumentIndex(f"sqlite:///{tmp_path / 'index.db'}")
    assert len(reader.versions(source_id="s")) == 3


def test_index_records_a_first_version_without_asking_for_an_earlier_one(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path / "index.db")
    common = {"source_id": "s", "agency": "某局", "size": 3, "storage_key": "k", "run_id": "r1"}
    assert index.record(url="http://x/a.pdf", sha256="1" * 64, first=True, **common) == "new"
    assert index.record(url="http://x/a.pdf", sha256="1" * 64, first=True, **common) == "unchanged"
    assert index.record(url="http://x/a.pdf", sha256="2" * 64, **common) == "changed"
    index.close()


def test_public_and_private_addresses() -> None:
    assert is_public("8.8.8.8") and is_public("2001:4860:4860::8888")
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1",
                    "fe80::1", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1"):
        assert not is_public(address), address
    assert asyncio.run(_refusal("localhost", 80))
    assert asyncio.run(_refusal("169.254.169.254", 80))


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= retry_after_seconds(format_datetime(later, usegmt=True)) <= 31
    assert retry_after_seconds("soon") is None


def test_url_helps_where_the_title_is_bare() -> None:
    column = "http://www.x.gov.cn/zwgk/xxgknb/2022/202301/t20230113_1.html"
    assert recognise("2022年度报告", column).year == 2022
    assert recognise("2022年度报告", "http://www.x.gov.cn/news/202301/t20230113_1.html") is None
    assert recognise("2024年法治政府建设年度报告", column) is None
    module = "http://www.weishan.gov.cn/module/xxgk/xxgkAnnualReport.jsp?area=113708260043292687&fbtime=2020"
    found = recognise("两城镇", module)
    assert found is not None and (found.year, found.year_from) == (2020, "url")


def test_resolver_refuses_a_second_answer_that_turned_private() -> None:
    from twisted.internet.error import DNSLookupError

    assert GuardedResolver.checked("93.184.216.34", "example.gov.cn") == "93.184.216.34"
    with pytest.raises(DNSLookupError):
        GuardedResolver.checked("10.0.0.7", "example.gov.cn")
    GuardedResolver.allowed_private = {"sandbox.local"}
    try:
        assert GuardedResolver.checked("127.0.0.1", "sandbox.local") == "127.0.0.1"
    finally:
        GuardedResolver.allowed_private = set()


def test_settings_are_polite_and_safe_by_default() -> None:
    from scrapy.settings import Settings

    from crawler import settings as crawler_settings

    settings = Settings()
    settings.setmodule(crawler_settings)
    assert settings.getbool("ROBOTSTXT_OBEY") and settings.getbool("AUTOTHROTTLE_ENABLED")
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1 and settings.getfloat("DOWNLOAD_DELAY") >= 1
    assert 0 < settings.getint("DOWNLOAD_MAXSIZE") <= 256 * 1024 * 1024
    assert not settings.getbool("TELNETCONSOLE_ENABLED") and not settings.getbool("REMOTE_CONTROL_ENABLED")
    extensions = settings.getdict("EXTENSIONS")
    assert extensions["scrapy.extensions.telnet.TelnetConsole"] is None
    assert extensions["scrapy.extensions.remote_control.RemoteControl"] is None
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["crawler.middlewares.PrivateAddressGuard"] < 100   # before robots.txt is asked
    assert middlewares["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert "crawler.middlewares.BackoffRetryMiddleware" in middlewares
    assert settings.get("TWISTED_DNS_RESOLVER") == "crawler.middlewares.GuardedResolver"
    assert 429 in settings.getlist("RETRY_HTTP_CODES") or "429" in settings.getlist("RETRY_HTTP_CODES")


@pytest.mark.parametrize(("page", "expected"), [
    ("<html><body>请开启 JavaScript 后访问</body></html>", True),
    ("<html><body>Please ENABLE  javascript to continue</body></html>", True),
    ("<html><script>var acw_sc__v2 = 1</script></html>", True),
    ("<html><script type='text/javascript'>go()</script><a>2024年报告</a></html>", False),
])
def test_challenge_pages_still_recognised(page: str, expected: bool) -> None:
    assert is_challenge(page.encode("utf-8")) is expected


JOIN_BASES = ["http://x.gov.cn", "http://x.gov.cn/", "http://x.gov.cn/a/b/", "http://x.gov.cn/a/b.html?page=2#top",
              "https://X.gov.cn:8443/a/b.html", "http://x.gov.cn/a/./b.html", "http://x.gov.cn//a/b.html",
              "http://x.gov.cn/a/../b.html", "http://x.gov.cn/a;p/b.html", "http://x.gov.cn/.well/b", "http://x.gov.cn/a/b/."]
JOIN_HREFS = ["c.html", "./c.html", "c.html?page=3", "?page=3", "/d/e.html", "../c.html", "//y.gov.cn/c.html", "c d.html"]


@pytest.mark.parametrize("base", JOIN_BASES)
def test_absolute_url_is_urljoin(base: str) -> None:
    assert [absolute_url(base, href) for href in JOIN_HREFS] == [urljoin(base, href) for href in JOIN_HREFS]


def test_the_crawls_duplicate_filter_keeps_one_request_per_method_url_and_body() -> None:
    from scrapy import Request
    from scrapy.dupefilters import RFPDupeFilter
    from scrapy.utils.test import get_crawler

    from crawler import settings as crawler_settings

    settings = {name: getattr(crawler_settings, name) for name in dir(crawler_settings) if name.isupper()}
    crawler = get_crawler(settings_dict=settings)
    seen = RFPDupeFilter.from_crawler(crawler)
    page = "http://gov.example/xxgk/ndbg/index_2.html"
    assert not seen.request_seen(Request(page))
    assert seen.request_seen(Request(page + "#top"))                  # a fragment never reaches the server
    assert seen.request_seen(Request("http://gov.example/xxgk/ndbg/index_2.html"))
    assert not seen.request_seen(Request(page, method="POST", body=b"__EVENTARGUMENT=2"))
    assert seen.request_seen(Request(page, method="POST", body=b"__EVENTARGUMENT=2"))
    assert not seen.request_seen(Request(page, method="POST", body=b"__EVENTARGUMENT=3"))
    assert not seen.request_seen(Request("http://gov.example/xxgk/ndbg/index_3.html"))
    assert not seen.request_seen(Request("http://gov.example/xxgk/ndbg/报告.pdf"))
    assert seen.request_seen(Request("http://gov.example/xxgk/ndbg/%E6%8A%A5%E5%91%8A.pdf"))   # one safe form


def test_a_pages_requests_carry_the_referrer_scrapys_policy_gives() -> None:
    from scrapy import Request
    from scrapy.http import HtmlResponse
    from scrapy.spidermiddlewares.referer import RefererMiddleware
    from scrapy.utils.test import get_crawler

    from crawler.middlewares import PageReferer

    crawler = get_crawler()
    ours, scrapys = PageReferer.from_crawler(crawler), RefererMiddleware.from_crawler(crawler)
    pages = [HtmlResponse("https://user:pw@gov.example/xxgk/index.html#list", body=b"<html></html>"),
             HtmlResponse("http://gov.example/xxgk/index_2.html", body=b"<html></html>"),
             HtmlResponse("https://gov.example/a.html", body=b"<html></html>",
                          headers={"Referrer-Policy": "same-origin"})]
    targets = ["https://gov.example/t1.html", "http://gov.example/t2.pdf", "https://other.example/t3.pdf",
               "https://gov.example/t4.html"]
    sent = []
    for page in pages:
        for url in targets:
            for meta in ({}, {"referrer_policy": "no-referrer"}):
                mine, theirs = Request(url, meta=dict(meta)), Request(url, meta=dict(meta))
                ours.get_processed_request(mine, page)
                scrapys.get_processed_request(theirs, page)
                assert mine.headers.get("Referer") == theirs.headers.get("Referer"), (page.url, url, meta)
                sent.append(mine.headers.get("Referer"))
    assert sent[0] == b"https://gov.example/xxgk/index.html"      # credentials and fragment stripped
    assert sent[1] is None and sent[2] is None                     # no-referrer; a downgrade to http
    assert sent[8] == b"http://gov.example/xxgk/index_2.html"
    assert sent[16] == b"https://gov.example/a.html" and sent[20] is None   # same-origin: other.example gets none


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_batchs_article_pages_are_written_with_it_or_not_at_all(backend: str, tmp_path: Path,
                                                                   request: pytest.FixtureRequest) -> None:
    where = tmp_path / "index.db" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    index = DocumentIndex(where)
    child = [{"url": "http://x/a.pdf", "title": "附件"}]
    with index.batch():
        index.record_page("http://x/1.html", "s", '"e1"', None, [])
        index.record_page("http://x/2.html", "s", None, "Mon, 01 Jan 2024 00:00:00 GMT", child)
        index.record_page("http://x/1.html", "s", '"e2"', None, child)     # the later row of a URL wins
        assert index.page("http://x/1.html") is None                       # not before the batch ends
    assert index.page("http://x/1.html")["etag"] == '"e2"' and index.page("http://x/1.html")["children"] == child
    assert index.page("http://x/2.html")["last_modified"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    with pytest.raises(RuntimeError), index.batch():
        index.record_page("http://x/3.html", "s", None, None, [])
        raise RuntimeError("the group failed")
    assert index.page("http://x/3.html") is None
    index.record_page("http://x/3.html", "s", None, None, child)               # outside a batch: at once
    assert index.page("http://x/3.html")["children"] == child
    index.close()
