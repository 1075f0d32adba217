"""File signatures, bot-challenge marks and section headings: one table (report/filetypes.py,
report/catalogue.py) behind the crawler's and the extractor's verdicts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawler.sniff import is_challenge, is_report_text, real_kind
from extract.api import extract_bytes
from extract.sniff import sniff
from report.catalogue import SECTION_KEYS, sections_named
from report.filetypes import CHALLENGE, CHALLENGE_WORDS, prints_a_challenge, signature
from tests.fixtures.documents import zip_with

ROOT = Path(__file__).resolve().parents[1]


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
SAMPLES = [  # bytes, the crawler's kind, the extractor's kind
    (b"%PDF-1.7\n...", "pdf", "pdf"),
    (b"\r\n\r\n%PDF-1.4 after junk", "pdf", "pdf"),
    (zip_with("word/document.xml"), "zip", "docx"),
    (zip_with("xl/workbook.xml"), "zip", "xlsx"),
    (zip_with("a.txt"), "zip", "zip"),
    (OLE + "WordDocument".encode("utf-16-le"), "ole", "doc"),
    (OLE + "Workbook".encode("utf-16-le"), "ole", "xls"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image", "image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image", "image"),
    (b"GIF89a\x01\x00", "image", "image"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image", "image"),
    (b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00", "image", "image"),
    (b"\xef\xbb\xbf<!DOCTYPE html><html><body>x</body></html>", "html", "html"),
    (b"  <div class='zoom'><p>x</p></div>", "html", "html"),
    ("某局2024年政府信息公开工作年度报告\n一、总体情况".encode(), "text", "text"),
    (b"BMW annual figures, plain text", "text", "text"),
    (b"   \n\t", "empty", "empty"),
]
# The extractor's kinds inside each container the crawler names.
INSIDE = {"zip": {"docx", "xlsx", "zip"}, "ole": {"doc", "xls", "wps"}}


@pytest.mark.parametrize(("data", "crawler", "extractor"), SAMPLES)
def test_the_crawler_and_the_extractor_read_the_same_signatures(data: bytes, crawler: str, extractor: str) -> None:
    assert real_kind(data) == crawler
    assert sniff(data) == extractor
    assert extractor in INSIDE.get(crawler, {crawler})


def test_every_challenge_alternative_contains_a_prefilter_word() -> None:
    # prints_a_challenge skips the regex unless one of CHALLENGE_WORDS is in the page
    for alternative in CHALLENGE.pattern.split("|"):
        literal = re.sub(r"\\s[*+]|\\b", " ", alternative).casefold()
        assert any(word in literal for word in CHALLENGE_WORDS), alternative


def _challenge_pages() -> list[tuple[str, bytes]]:
    from sandbox.portal.faults import CHALLENGE_PAGE

    return [
        ("portal fault (加速乐)", CHALLENGE_PAGE.encode()),
        ("corpus (瑞数 $_ts)", (ROOT / "sandbox/corpus/lg-health-2024-challenge.html").read_bytes()),
        ("阿里云", b"<html><script>var arg1='x';document.cookie='acw_sc__v2='+x;location.reload()</script></html>"),
        ("Cloudflare", b"<html><head><title>Just a moment...</title></head><body><div id='cf-challenge-running'>"
                       b"Checking your browser before accessing</div></body></html>"),
        ("notice", "<html><body><noscript>请开启浏览器的JavaScript功能后访问</noscript></body></html>".encode()),
    ]


@pytest.mark.parametrize(("name", "page"), _challenge_pages(), ids=[n for n, _ in _challenge_pages()])
def test_the_crawler_and_the_html_reader_name_the_same_challenge_pages(name: str, page: bytes) -> None:
    assert is_challenge(page), name
    assert "challenge-page" in {f.rule for f in extract_bytes(page).findings}, name


@pytest.mark.parametrize("page", [
    "<html><body><a href='/a.pdf'>某局2024年政府信息公开工作年度报告</a><script>go()</script></body></html>",
    "<html><body><form>用户名 密码 <input name='code'> 验证码</form><a>2024年度报告</a></body></html>",
])
def test_ordinary_pages_are_no_challenge_for_either(page: str) -> None:
    assert not is_challenge(page.encode()) and not prints_a_challenge(page)
    assert "challenge-page" not in {f.rule for f in extract_bytes(page.encode()).findings}


def test_a_report_page_that_mentions_a_firewall_is_no_challenge() -> None:
    page = "<html><body>一、总体情况 本机关部署网络防火墙。二、主动公开政府信息情况 …</body></html>"
    assert prints_a_challenge(page) and not is_challenge(page.encode())


def test_section_headings_come_from_the_catalogue() -> None:
    text = "一、 总体情况\n二、主动公开政府信息情况\n四、政府信息公开行政复议和行政诉讼情况\n六、其他需要报告的事项"
    assert sections_named(text) == {"overview", "proactive", "review_litigation", "other"}
    assert sections_named("") == set() and set(sections_named(text)) <= set(SECTION_KEYS)
    assert is_report_text(text) and not is_report_text("一、总体情况 只有一个标题")


def test_signature_names_no_kind_for_text() -> None:
    assert signature(b"plain words") is None and signature(b"{\\rtf1 x}") == "rtf"
