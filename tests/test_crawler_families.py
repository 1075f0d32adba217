"""Per-family fixture tests: saved list pages → listings, recognised reports, next list pages.

Each case of tests/fixtures/crawler/cases.yaml is compared with its reviewed expected
output in tests/fixtures/crawler/expected/<name>.json. After a deliberate change, rewrite
them with NIANBAO_REGENERATE=1 and review the diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from scrapy.http import HtmlResponse, TextResponse

from crawler.attachments import attachments, body_text
from crawler.families import adapter_for
from crawler.recognise import recognise
from crawler.registry import Source
from crawler.sniff import is_report_text

FIXTURES = Path(__file__).parent / "fixtures" / "crawler"
CASES = yaml.safe_load((FIXTURES / "cases.yaml").read_text(encoding="utf-8"))


def source_for(family: str, url: str, overrides: dict | None = None) -> Source:
    return Source(id=f"fixture-{family}", agency="测试机关", region_code="110000", level="department",
                  kind="department", family=family, list_urls=[url], first_year=2020, overrides=overrides or {})


def response_for(case: dict) -> TextResponse:
    body = (FIXTURES / case["file"]).read_bytes()
    content_type = case.get("content_type", "text/html; charset=utf-8")
    cls = HtmlResponse if "html" in content_type else TextResponse
    return cls(case["url"], body=body, headers={"Content-Type": content_type})


def observe(case: dict) -> dict:
    page = adapter_for(source_for(case["family"], case["url"], case.get("overrides"))).parse_list(response_for(case))
    reports = []
    for listing in page.listings:
        found = recognise(listing.title, listing.url, listing.listed)
        if found:
            reports.append({"url": listing.url, "title": listing.title, "year": found.year, "version": found.version})
    return {
        "listings": [{"url": item.url, "title": item.title, "listed": item.listed} for item in page.listings],
        "reports": reports,
        "next_pages": [{"method": r.method, "url": r.url, "body": r.body.decode("utf-8")} for r in page.next_pages],
    }


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_family_fixture_matches_reviewed_output(case: dict) -> None:
    expected_path = FIXTURES / "expected" / f"{case['name']}.json"
    observed = observe(case)
    if os.environ.get("NIANBAO_REGENERATE"):
        expected_path.write_text(json.dumps(observed, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert observed == json.loads(expected_path.read_text(encoding="utf-8"))


def test_every_family_has_a_fixture() -> None:
    from crawler.families import ADAPTERS

    assert {case["family"] for case in CASES} == set(ADAPTERS)


def test_trs_pager_lists_every_page_from_the_first() -> None:
    case = next(c for c in CASES if c["name"] == "trs-countpage")
    urls = [page["url"] for page in observe(case)["next_pages"]]
    assert urls == [f"https://www.qiaokou.gov.cn/xxgk/zfxxgknb/bmjdhz/qzfgzjg/qwjj/index_{n}.shtml" for n in (1, 2, 3)]


def test_jcms_asks_dataproxy_for_the_records_after_the_embedded_ones() -> None:
    case = next(c for c in CASES if c["name"] == "jcms-column-real")
    pages = observe(case)["next_pages"]
    assert [p["method"] for p in pages] == ["POST"]   # 35 records, 3 embedded, groups of 3 × 15
    assert pages[0]["url"] == "http://www.yw.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=35&perpage=15"
    assert "columnid=1229134232" in pages[0]["body"] and "unitid=6977" in pages[0]["body"]
    assert "webid=3113" in pages[0]["body"]


def test_gkmlpt_asks_for_the_other_pages_only_from_the_first() -> None:
    """Page 10 of the API (its URL holds "page=1…") is a later page: it lists its articles, asks for none."""
    api = "http://www.gd.gov.cn/gkmlpt/api/all/2847"
    adapter = adapter_for(source_for("gkmlpt", "http://www.gd.gov.cn/gkmlpt/index"))

    def answer(page: int) -> list[str]:
        body = json.dumps({"articles": [{"title": f"第{page}页", "url": f"/gkmlpt/content/{page}.html"}],
                           "page": page, "page_size": 1, "total": 12})
        response = TextResponse(f"{api}?page={page}", body=body.encode(), headers={"Content-Type": "application/json"})
        return [request.url for request in adapter.parse_list(response).next_pages]

    assert answer(1) == [f"{api}?page={n}" for n in range(2, 13)]
    assert answer(10) == [] and answer(12) == []


def test_article_attachments_cover_links_viewers_downloads_and_onclick() -> None:
    response = HtmlResponse("http://www.example.gov.cn/xxgk/xxgknb/202501/t20250110_11730171.html",
                            body=(FIXTURES / "generic" / "article_attachments.html").read_bytes(),
                            headers={"Content-Type": "text/html; charset=utf-8"})
    found = [a.url for a in attachments(response.selector, response.url)]
    assert found == [
        "http://www.example.gov.cn/xxgk/guide.pdf",
        "http://www.example.gov.cn/xxgk/xxgknb/202501/P020250110551234567890.pdf",
        "http://www.example.gov.cn/module/download/downfile.jsp?classid=0&filename=2a7cd66f05e8.docx",
        "http://www.example.gov.cn/uploads/2024/report-2024.pdf",
        "http://www.example.gov.cn/attach/download.jsp?id=77",
        "http://www.example.gov.cn/uploads/2024/report-iframe.pdf",
        "http://www.example.gov.cn/uploads/2024/embedded.ofd",
    ]
    assert not is_report_text(body_text(response.selector))


def test_article_whose_body_is_the_report_is_recognised_in_gbk() -> None:
    response = HtmlResponse("http://www.example.gov.cn/a.html",
                            body=(FIXTURES / "generic" / "article_body.html").read_bytes())
    assert is_report_text(body_text(response.selector))
    assert attachments(response.selector, response.url) == []
