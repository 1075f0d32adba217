"""What the crawl tells the health check: a first list page that shows more pages which the
adapter could not reach is a `pager_unfollowed` failure of the list; list-page failures are
counted by kind, and the kinds that break a source become flags."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from crawler.extensions import RunSummary
from crawler.families.base import Adapter, Listing, ListPage
from crawler.items import Failed
from crawler.probe import START_META
from crawler.registry import Source
from crawler.spiders.reports import ReportsSpider

URL = "http://127.0.0.1/col/nb/index.html"
REPORT = '<li><a href="/col/nb/2024.pdf">测试局2024年政府信息公开工作年度报告</a></li>'


class OnePageAdapter(Adapter):
    """An adapter that reads the rows of a page but none of its pager (as a wrong family would)."""

    follows: list[Request] = []

    def parse_list(self, response):
        return ListPage(listings=[Listing(response.urljoin("/col/nb/2024.pdf"), "测试局2024年政府信息公开工作年度报告")],
                        next_pages=list(self.follows))


def spider_for(adapter_type: type[Adapter] = OnePageAdapter) -> ReportsSpider:
    source = Source(id="t", agency="测试局", region_code="110000", level="department", kind="department",
                    family="plain", list_urls=[URL], first_year=2020)
    spider = object.__new__(ReportsSpider)
    stats = MemoryStatsCollector(SimpleNamespace(settings=Settings({"STATS_DUMP": False})))   # type: ignore[arg-type]
    spider.__dict__.update(plan=SimpleNamespace(sources={"t": source}), adapters={"t": adapter_type(source)},
                           crawler=SimpleNamespace(stats=stats), list_pages_queued=defaultdict(set),
                           reports_seen=defaultdict(set), probe=True, index=None)
    return spider


def list_page(pager: str, *, start: bool = True) -> HtmlResponse:
    body = f"<html><body><ul>{REPORT}</ul><div class='page'>{pager}</div></body></html>".encode()
    request = Request(URL, meta={"source_id": "t", "role": "list", **({START_META: True} if start else {})})
    return HtmlResponse(URL, body=body, request=request, headers={"Content-Type": "text/html; charset=utf-8"})


def failures(spider: ReportsSpider, response: HtmlResponse) -> list[Failed]:
    return [item for item in spider.parse_list(response) if isinstance(item, Failed)]


@pytest.mark.parametrize("pager", ["共3页 当前第1页", '<a href="javascript:goPage(2)">下一页</a>',
                                   '<a href="index_1.html">尾页</a>', "页次：1/5"])
def test_a_pager_the_adapter_cannot_follow_is_a_list_failure(pager: str) -> None:
    [failed] = failures(spider_for(), list_page(pager))
    assert (failed.kind, failed.list_page, failed.source_id) == ("pager_unfollowed", True, "t")
    assert "no other page could be reached" in failed.detail


@pytest.mark.parametrize("pager", ["共1页", "<a>下一页</a>", '<a href="javascript:void(0)">下一页</a>',
                                   '<a href="#">尾页</a>', "<script>var t = '共3页';</script>"])
def test_a_single_page_list_is_no_failure(pager: str) -> None:
    assert failures(spider_for(), list_page(pager)) == []


def test_only_the_first_list_page_is_judged_and_a_followed_pager_is_fine() -> None:
    assert failures(spider_for(), list_page("共3页", start=False)) == []   # the last page of a followed pager

    class Following(OnePageAdapter):
        follows = [Request("http://127.0.0.1/col/nb/index_1.html")]

    assert failures(spider_for(Following), list_page("共3页")) == []


def test_list_page_failures_are_counted_by_kind_and_flag_the_source() -> None:
    summary = RunSummary(SimpleNamespace(spider=None))   # type: ignore[arg-type]
    for kind in ("pager_unfollowed", "needs_browser", "http_404"):
        summary.item_scraped(Failed("t", URL, kind, "", list_page=True), spider=None)   # type: ignore[arg-type]
    summary.item_scraped(Failed("t", URL + "x.pdf", "http_404", ""), spider=None)   # type: ignore[arg-type]
    assert dict(summary.list_errors["t"]) == {"pager_unfollowed": 1, "needs_browser": 1, "http_404": 1}
    assert dict(summary.errors["t"]) == {"pager_unfollowed": 1, "needs_browser": 1, "http_404": 2}
    assert summary.flags["t"] == {"pager_unfollowed", "needs_browser", "list_page_error"}
