"""A list page nested deep (a sloppy CMS template) is read with every link, or refused
as unparsable with the reason — never a page that silently yields fewer links."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.families import adapter_for
from crawler.limits import PARSER_DEPTH_LIMIT, SourceLimits, Unparsable
from crawler.registry import Source

URL = "http://www.example.gov.cn/xxgk/nb/index.html"
DEPTHS_READ = (100, 255, 257, 1000)
DEPTHS_REFUSED = (5000, 100000)


def deep_list_page(depth: int) -> HtmlResponse:
    """Two reports: one listed before the deep wrapper, one inside it."""
    item = '<li><a href="/xxgk/nb/{0}.html">2{0}年政府信息公开工作年度报告</a><span>2025-01-20</span></li>'
    body = ("<html><body><ul>" + item.format("023") + "</ul>" + "<div>" * depth + "<ul>" + item.format("024")
            + "</ul>" + "</div>" * depth + "</body></html>")
    return HtmlResponse(URL, body=body.encode(), encoding="utf-8")


def through_the_middleware(response: HtmlResponse) -> HtmlResponse:
    limits = SourceLimits(get_crawler(settings_dict={"DOWNLOAD_MAXSIZE": 0}))
    request = Request(URL, meta={"role": "list", "source_id": "fixture-generic"})
    return limits.process_response(request, response)  # type: ignore[return-value]


def listed(response: HtmlResponse) -> list[str]:
    source = Source(id="fixture-generic", agency="测试机关", region_code="110000", level="department",
                    kind="department", family="generic", list_urls=[URL], first_year=2020)
    return sorted(listing.url.rsplit("/", 1)[1] for listing in adapter_for(source).parse_list(response).listings)


@pytest.mark.parametrize("depth", DEPTHS_READ)
def test_a_deep_list_page_is_read_with_every_link(depth: int) -> None:
    response = through_the_middleware(deep_list_page(depth))
    assert listed(response) == ["023.html", "024.html"]


@pytest.mark.parametrize("depth", DEPTHS_REFUSED)
def test_a_list_page_deeper_than_the_parser_reads_is_refused_with_the_reason(depth: int) -> None:
    response = deep_list_page(depth)
    assert listed(response) == ["023.html"]            # what the parser alone would silently give
    with pytest.raises(Unparsable, match="levels deep"):
        through_the_middleware(response)


def test_a_page_just_past_the_limit_with_its_closing_tags_left_out_is_refused() -> None:
    # the fewest "<" a page this deep can have: one per element, no closing tags
    body = "<html><body>" + "<div>" * (PARSER_DEPTH_LIMIT + 2) + "<a href='/x.html'>2024年政府信息公开工作年度报告</a>"
    with pytest.raises(Unparsable, match="levels deep"):
        through_the_middleware(HtmlResponse(URL, body=body.encode(), encoding="utf-8"))
