"""crawler.discovery, function by function, over pages of the sandbox shape sites drawn with
several seeds (so over several spellings of each shape), and over hand-written real-looking snippets.

No server: the shape sites answer in-process (`Site.answer`), and `walk` follows what discovery
says the way the spider would (GET, POST with form fields, JSON/JS answers).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parsel import Selector

from crawler.attachments import attachments, document_url
from crawler.discovery.columns import frame_follows, script_follows, year_column_follows
from crawler.discovery.documents import script_documents
from crawler.discovery.lists import discover_page, discover_text, next_page
from crawler.discovery.model import Follow
from crawler.discovery.names import disposition_filename
from crawler.discovery.pagers import link_pager, postback_pager, script_pager, total_pager
from crawler.discovery.records import data_records, js_values, link_records, page_count, row_date
from crawler.discovery.scripts import (
    PAGE,
    balanced,
    data_requests,
    function_definitions,
    markup_calls,
    resolve_call,
    url_functions,
    variables,
)
from crawler.families.base import document_base
from sandbox.portal.shapes import SHAPES, ShapePortalServer
from sandbox.portal.site import Site

FIXTURES = Path(__file__).parent / "fixtures" / "crawler"
HOST = "http://sandbox.test"
SEEDS = range(6)
LIST_SHAPES = [shape for shape in SHAPES if shape != "scriptdocs"] + ["scriptdocs"]


def tree(text: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(text)


def shape_site(shape: str, seed: int) -> Site:
    portal = ShapePortalServer(seed=seed, shapes=(shape,))   # not started: answered in-process
    return next(iter(portal.portal.sites.values()))


def answer(site: Site, follow: Follow) -> tuple[int, str, str]:
    path = follow.url.removeprefix(HOST)
    body = urlencode(list(follow.form)).encode() if follow.method == "POST" else b""
    response = site.answer(follow.method, path, body)
    return response.status, response.content_type, response.body.decode("utf-8")


def walk(site: Site) -> tuple[set[str], list[tuple[str, int]], dict[str, tuple[str, str | None]]]:
    """Follow discovery from the column page to closure: record URLs, failed follows, titles and dates."""
    start = HOST + site.list_url
    queue, seen = [Follow(start)], set()
    urls: set[str] = set()
    failed: list[tuple[str, int]] = []
    listed: dict[str, tuple[str, str | None]] = {}
    while queue:
        follow = queue.pop(0)
        if follow.key in seen:
            continue
        seen.add(follow.key)
        status, content_type, text = answer(site, follow)
        if status != 200:
            failed.append((follow.url, status))
            continue
        if "html" in content_type:
            found = discover_page(tree(text), follow.url, [start], follow)
        else:
            found = discover_text(text, follow.url, follow)
        for record in found.records:
            urls.add(record.url)
            listed.setdefault(record.url, (record.title, record.date))
        queue += found.follows
    return urls, failed, listed


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", LIST_SHAPES)
def test_every_item_of_every_shape_is_reached_with_its_full_title_and_date(shape: str, seed: int) -> None:
    site = shape_site(shape, seed)
    urls, failed, listed = walk(site)
    assert failed == []
    expected = {HOST + item.article_url: item for item in site.items}
    assert expected.keys() <= urls, sorted(expected.keys() - urls)
    for url, item in expected.items():
        title, listed_date = listed[url]
        assert title == item.title                        # the full title, never the truncated text
        assert listed_date == item.published.isoformat()  # the date of the row, wherever it sits


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", LIST_SHAPES)
def test_the_column_linking_to_itself_is_not_a_record(shape: str, seed: int) -> None:
    site = shape_site(shape, seed)
    urls, _, _ = walk(site)
    assert HOST + site.list_url not in urls
    assert not any(url.rstrip("/").endswith("/xxgk/ndbg") for url in urls)


# ---------------------------------------------------------------- links and rows
def test_the_seeds_draw_list_pages_that_declare_a_base_href() -> None:
    # the walk above then reads rows written relative to <base href>, not to the page
    based = [(shape, seed) for shape in LIST_SHAPES for seed in SEEDS if shape_site(shape, seed).family.declares_base]
    assert len(based) >= 3, based
    site = shape_site(*based[0])
    page = answer(site, Follow(HOST + site.list_url))[2]
    assert f'<base href="{site.prefix}/">' in page and 'href="xxgk/ndbg/' in page.replace("'", '"')


@pytest.mark.parametrize(("page", "expected"), [
    ('<head><base href="/site/"></head><a href="x.html">x</a>', "http://h.test/site/"),
    ('<head><base href="../up/"></head>', "http://h.test/col/up/"),
    ('<head><base href="http://cdn.test/a/"></head>', "http://cdn.test/a/"),
    ('<head><base target="_blank"></head>', "http://h.test/col/list/index.html"),   # no href: the page
    ('<head><base href="javascript:void(0)"></head>', "http://h.test/col/list/index.html"),
    ("<p>no base</p>", "http://h.test/col/list/index.html"),
])
def test_the_document_base_is_the_base_href_resolved_against_the_page(page: str, expected: str) -> None:
    assert document_base(tree(page), "http://h.test/col/list/index.html") == expected


def test_list_and_article_links_resolve_against_the_base_href_and_the_page_stays_the_page() -> None:
    page = ('<html><head><base href="/site/"></head><body><ul>'
            '<li><a href="xxgk/ndbg/index.html">政府信息公开年报</a></li>'
            '<li><a href="xxgk/ndbg/2024/t1.html">某某县2023年政府信息公开工作年度报告</a><span>2024-01-05</span></li>'
            '</ul><div class="pager"><a href="/site/xxgk/ndbg/index_2.html">下一页</a></div></body></html>')
    found = discover_page(tree(page), "http://h.test/site/xxgk/ndbg/index.html")
    records = {r.url: r.date for r in found.records}
    assert records["http://h.test/site/xxgk/ndbg/2024/t1.html"] == "2024-01-05"
    assert "http://h.test/site/xxgk/ndbg/index.html" not in records       # the column itself, by the base
    assert [f.url for f in found.follows] == ["http://h.test/site/xxgk/ndbg/index_2.html"]
    article = '<html><head><base href="/up/"></head><body><a href="2024/report.pdf">附件：年度报告</a></body></html>'
    base = document_base(Selector(text=article), "http://h.test/site/xxgk/ndbg/2024/t1.html")
    assert [a.url for a in attachments(Selector(text=article), base)] == ["http://h.test/up/2024/report.pdf"]


def test_row_date_reads_a_sibling_cell_but_never_a_neighbouring_row() -> None:
    root = tree('<div class="list"><div class="row"><div class="t"><a href="/a.html">甲机关2024年政府信息公开工作年度报告</a>'
                '</div><div class="d">2025-01-20</div></div><div class="row"><div class="t">'
                '<a href="/b.html">乙机关关于开展安全生产月活动的通知</a></div></div></div>')
    anchors = list(root.iter("a"))
    dates: dict = {}
    assert row_date(anchors[0], dates) == "2025-01-20"
    assert row_date(anchors[1], dates) is None


def test_link_records_take_the_title_attribute_and_skip_the_column() -> None:
    root = tree('<ul><li><a href="/x/nb/index.html">政府信息公开年报</a></li>'
                '<li><a title="某某县2023年政府信息公开工作年度报告" href="/x/1.html">某某县2023年政府信息公开工作年…</a>'
                '<span>2024/01/05</span></li></ul>')
    records = link_records(root, "http://h.test/x/nb/", skip=["http://h.test/x/nb/index.html"])
    assert [(r.url, r.title, r.date) for r in records] == [
        ("http://h.test/x/1.html", "某某县2023年政府信息公开工作年度报告", "2024-01-05")]


def test_links_that_call_a_page_function_resolve_to_its_url() -> None:
    root = tree("<script>function openDoc(id){ window.open('/art/' + id + '.html'); }</script>"
                "<a href=\"javascript:openDoc('77')\">某局2022年政府信息公开工作年度报告</a>")
    records = link_records(root, "http://h.test/col/", url_functions([root.findtext(".//script")]))
    assert [r.url for r in records] == ["http://h.test/art/77.html"]


# ---------------------------------------------------------------- scripts
@pytest.mark.parametrize(("script", "url", "method", "page_param"), [
    ('$.ajax({url: "/api/list", type: "POST", data: {channelId: 12, page: 1, pageSize: 5}, success: f});',
     "/api/list", "POST", "page"),
    ("var cid = '12'; var pageNo = 1; $.getJSON('/api/list?channelId=' + cid + '&pageNo=' + pageNo, f);",
     "/api/list?channelId=12&pageNo=1", "GET", "pageNo"),
    ("const cid = 12; function load(page) { fetch(`/api/docs?channelId=${cid}&page=${page}`).then(r => r.json()); }",
     f"/api/docs?channelId=12&page={PAGE}", "GET", "page"),
    ("var cid = 12; function go(curPage){ var x = new XMLHttpRequest(); x.open('GET', '/d.do?c=' + cid + "
     "'&curPage=' + curPage, true); }", f"/d.do?c=12&curPage={PAGE}", "GET", "curPage"),
    ("$.post('/list.jsp', {columnid: 5, pageIndex: pageIndex}, render);", "/list.jsp", "POST", "pageIndex"),
])
def test_data_requests_are_read_from_every_script_style(script: str, url: str, method: str, page_param: str) -> None:
    [request] = data_requests([script])
    assert (request.url, request.method, request.page_param) == (url, method, page_param)


def test_a_script_without_requests_or_with_unknown_parts_gives_none() -> None:
    assert data_requests(["var a = 1; console.log(a); $.ajax({url: base + path});"]) == []


def test_variables_and_url_functions_with_a_first_page_branch() -> None:
    scripts = ["var base = '/download.jsp?fileId=';\nfunction downloadFile(id) { location.href = base + id; }\n"
               "function goPage(n) { if (n == 1) { location.href = 'index.html'; return; }\n"
               "  window.location.href = 'index_' + n + '.html'; }"]
    assert variables(scripts) == {"base": "/download.jsp?fileId="}
    functions = url_functions(scripts)
    assert resolve_call(next(markup_calls("downloadFile('123')")), functions) == "/download.jsp?fileId=123"
    assert resolve_call(next(markup_calls("goPage(3)")), functions) == "index_3.html"
    assert resolve_call(next(markup_calls("goPage(1)")), functions) == "index.html"
    assert resolve_call(next(markup_calls("unknown(1)")), functions) is None


@pytest.mark.parametrize(("script", "expected"), [
    ("function goPage(n) {", [("goPage", ["n"])]),
    ("function  go ( a , b ) {", [("go", ["a", "b"])]),
    ("window.goPage = function(n){ location.href = 'index_' + n + '.html'; }", [("window.goPage", ["n"])]),
    ("var $go=function (p){}", [("$go", ["p"])]),
    ("$(x).fn = function(n) {", [("fn", ["n"])]),
    ("a = b = function(n){", [("b", ["n"])]),
    ("f = function\n(n)\n{", [("f", ["n"])]),
    ("var f = (n) => { return n }", [("f", ["n"])]),
    ("g = n => {", [("g", ["n"])]),
    ("obj.fn = (a, b) => {", [("fn", ["a", "b"])]),
    ("q=\n(a)\n=>\n{", [("q", ["a"])]),
    ("k=(  )=>{", [("k", [""])]),
    ("a == function(n){", []), ("x == (y) => {", []), ("myfunction foo(n) {", [("foo", ["n"])]),
    ("var f = function(i){ var g = function(j){} }", [("f", ["i"]), ("g", ["j"])]),
    ("l = async (n) => {", []), ("var s = 'no functions here, just => an arrow in prose';", []),
])
def test_function_definitions_are_read_around_their_keyword_or_arrow(script: str, expected: list) -> None:
    assert [(name, parameters) for name, parameters, _ in function_definitions(script)] == expected


def test_a_pager_function_is_found_in_a_long_inline_script() -> None:
    filler = "$(function(){ $('.nav li').hover(function(){ $(this).addClass('on'); }); var totalCount = 12; });\n"
    script = filler * 800 + "function goPage(n) { location.href = 'list_' + n + '.html'; }\n" + filler * 800
    assert len(script) > 150_000
    functions = url_functions([script])
    assert resolve_call(next(markup_calls("goPage(4)")), functions) == "list_4.html"


def test_balanced_skips_brackets_in_strings_and_escapes() -> None:
    text = "{ a: '}', b: \"\\\"}\", c: `${x}`, d: { e: 1 } } tail"
    assert balanced(text, 1, "{", "}") == text[1:text.rindex("}")]
    assert balanced("(a, (b), ')') rest", 1) == "a, (b), ')'"
    assert balanced("(never closed", 1) == "never closed"


def test_js_literals_and_json_give_records_with_any_key_spelling() -> None:
    script = ("var listData = [{title:'甲2023年政府信息公开工作年度报告', url:'/a/1.html', date:'2024-01-09'},\n"
              " {t: '乙机关2022年度政府信息公开工作报告', href: \"/a/2.html\", time: 1674000000000}];")
    records = [r for value in js_values(script) for r in data_records(value, "http://h.test/col/")]
    assert [(r.url, r.title, r.date) for r in records] == [
        ("http://h.test/a/1.html", "甲2023年政府信息公开工作年度报告", "2024-01-09"),
        ("http://h.test/a/2.html", "乙机关2022年度政府信息公开工作报告", "2023-01-18")]
    nested = {"code": 0, "result": {"pageCount": 4, "list": [{"docTitle": "丙<em>报告</em>", "docUrl": "/b.html"}]}}
    assert [r.title for r in data_records(nested, "http://h.test/")] == ["丙报告"]
    assert data_records({"menu": [{"name": "首页", "id": 1}]}, "http://h.test/") == []


@pytest.mark.parametrize(("answer_", "size", "pages"), [
    ({"total": 11, "data": []}, 5, 3), ({"result": {"pageCount": 4}}, 5, 4),
    ({"rows": [], "totalCount": "20", "pageSize": 10}, 10, 2), ({"data": []}, 5, None),
])
def test_page_count_from_a_count_or_a_total(answer_: dict, size: int, pages: int | None) -> None:
    assert page_count(answer_, size) == pages


def test_paged_json_asks_for_the_other_pages_with_the_same_parameters() -> None:
    first = Follow("http://h.test/api?channelId=1&page=1&size=2", "data", page_param="page", page_size=2)
    text = json.dumps({"total": 5, "data": [{"title": f"标题{n}号文件", "url": f"/{n}.html"} for n in range(2)]})
    found = discover_text(text, first.url, first)
    assert len(found.records) == 2
    assert [f.url for f in found.follows] == ["http://h.test/api?channelId=1&page=2&size=2",
                                              "http://h.test/api?channelId=1&page=3&size=2"]
    posted = next_page(Follow("http://h.test/api", "data", "POST", (("page", "1"), ("c", "9")), "page"), 4)
    assert posted.form == (("page", "4"), ("c", "9"))


# ---------------------------------------------------------------- pagers
@pytest.mark.parametrize("script", [
    'createPageHTML(4, 0, "index", "shtml");',
    "var countPage = 4//共多少页\nvar currentPage = 0;\ncreatePageHTML(countPage, currentPage, 'index', 'shtml');",
    'var pagecount = 4;\nvar pagename = "index";\nvar pageext = "shtml";',
    "pageext = 'shtml'; pagename = 'index'; pagecount = 4;",
])
def test_script_pagers_give_every_page(script: str) -> None:
    assert script_pager([script], "http://h.test/c/index.shtml") == [
        "http://h.test/c/index.shtml", "http://h.test/c/index_1.shtml", "http://h.test/c/index_2.shtml",
        "http://h.test/c/index_3.shtml"]


def test_link_pager_reads_next_last_numbers_and_pager_functions() -> None:
    root = tree('<div><a href="?page=2">2</a><a href="list_9.html">末页</a><a href="/other.html">其他栏目</a>'
                '<a href="javascript:turnPage(5)">5</a></div>'
                "<script>function turnPage(p){ location = '/c/index.html?page=' + p; }</script>")
    functions = url_functions([root.findtext(".//script")])
    assert link_pager(root, "http://h.test/c/index.html", functions) == [
        "http://h.test/c/index.html?page=2", "http://h.test/c/list_9.html", "http://h.test/c/index.html?page=5"]


@pytest.mark.parametrize("printed", ["共3页", "页次：1/3", "共 3 页", "第1/3页"])
def test_a_printed_total_numbers_the_pages_of_the_pager_function(printed: str) -> None:
    root = tree(f'<div><span>{printed}</span><select onchange="toPage(this.value)"></select></div>'
                "<script>function toPage(num) { window.location.href = 'list.jsp?page=' + num; }</script>")
    functions = url_functions([root.findtext(".//script")])
    assert total_pager(root, "http://h.test/c/", functions) == [
        f"http://h.test/c/list.jsp?page={n}" for n in (1, 2, 3)]


def test_a_total_without_a_template_gives_nothing() -> None:
    assert total_pager(tree("<p>共3页</p>"), "http://h.test/c/abc.html", {}) == []


def test_postback_pager_posts_the_form_with_its_view_state() -> None:
    root = tree('<form method="post" action="./List.aspx?ClassID=3" id="aspnetForm">'
                '<input type="hidden" name="__EVENTTARGET" value="" />'
                '<input type="hidden" name="__VIEWSTATE" value="dDwtMTA4O" />'
                "<a href=\"javascript:__doPostBack('AspNetPager1','2')\">2</a>"
                "<a href=\"javascript:__doPostBack('AspNetPager1','2')\">下一页</a></form>")
    [follow] = postback_pager(root, "http://h.test/c/List.aspx?ClassID=3")
    assert follow.method == "POST" and follow.url == "http://h.test/c/List.aspx?ClassID=3"
    assert dict(follow.form) == {"__VIEWSTATE": "dDwtMTA4O", "__EVENTTARGET": "AspNetPager1", "__EVENTARGUMENT": "2"}
    other_state = Follow(follow.url, "page", "POST", (("__VIEWSTATE", "zzz"), *follow.form[1:]))
    assert other_state.key == follow.key     # one page, whatever view state it was reached with


# ---------------------------------------------------------------- frames, year columns, external scripts
def test_frames_year_columns_and_data_scripts_are_followed_and_the_rest_is_not() -> None:
    root = tree('<iframe src="frame/list.html"></iframe><iframe src="/pdfjs/web/viewer.html?file=/a.pdf"></iframe>'
                '<iframe src="http://elsewhere.test/map.html"></iframe><iframe src="/u/a.pdf"></iframe>'
                '<a href="2019/">2019年度</a><a href="./2020/index.html">【2020年】</a>'
                '<a href="/u/r.pdf">2021年度报告</a><a href="/n.html">2021年度工作总结</a>'
                '<script src="/js/jquery.min.js"></script><script src="/js/list_data.js"></script>'
                '<script src="http://cdn.test/js/data.js"></script>')
    url = "http://h.test/nb/index.html"
    assert [(f.url, f.kind) for f in frame_follows(root, url)] == [("http://h.test/nb/frame/list.html", "frame")]
    assert [f.url for f in year_column_follows(root, url)] == ["http://h.test/nb/2019/",
                                                               "http://h.test/nb/2020/index.html"]
    assert [f.url for f in script_follows(root, url)] == ["http://h.test/js/list_data.js"]


# ---------------------------------------------------------------- documents reached by script
@pytest.mark.parametrize("seed", SEEDS)
def test_article_pages_reach_their_document_whatever_the_script(seed: int) -> None:
    site = shape_site("scriptdocs", seed)
    for item in site.items:
        if item.document.kind != "report":   # look-alike articles are never followed (their titles say so)
            continue
        page = site.family.article_page(site, item)
        found = attachments(Selector(text=page), HOST + item.article_url)
        assert [a.url for a in found] == [HOST + item.attachment_url], page


def test_script_documents_reads_viewers_download_functions_and_leaves_prefixes() -> None:
    root = tree("<button onclick=\"downLoad('9')\">下载</button><iframe id='v'></iframe><script>"
                "var downUrl = '/download.jsp?fileId='; function downLoad(id) { location.href = downUrl + id; }\n"
                "var path = \"/up/2024.pdf\"; document.getElementById('v').src = '/pdfjs/web/viewer.html?file=' + "
                "encodeURIComponent(path);</script>")
    urls = [r.url for r in script_documents(root, "http://h.test/art/1.html", document_url)]
    assert urls == ["http://h.test/download.jsp?fileId=9", "http://h.test/up/2024.pdf"]


@pytest.mark.parametrize("header", [
    b"attachment; filename=%C4%EA%B6%C8%B1%A8%B8%E6.pdf",                          # GBK, %-encoded
    'attachment; filename="年度报告.pdf"'.encode("gb18030"),                                  # GBK bytes
    b'attachment; filename="%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf"',              # UTF-8, %-encoded
    b"attachment; filename=\"download.pdf\"; filename*=UTF-8''%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf",
    b"attachment; filename*=GBK''%C4%EA%B6%C8%B1%A8%B8%E6.pdf",
])
def test_disposition_filename_in_every_encoding(header: bytes) -> None:
    assert disposition_filename(header) == "年度报告.pdf"


def test_disposition_without_a_name() -> None:
    assert disposition_filename(b"inline") == "" and disposition_filename(None) == ""


def test_discovery_takes_a_rendered_dom_the_same_way() -> None:
    # what a browser would hand back after running the list script: plain rows, same functions
    rendered = ('<ul id="list"><li><a href="/a/1.html" title="某区2024年政府信息公开工作年度报告">某区2024年…</a>'
                "<span>2025-01-02</span></li></ul>")
    found = discover_page(tree(rendered), "http://h.test/col/index.html")
    assert [(r.url, r.title, r.date) for r in found.records] == [
        ("http://h.test/a/1.html", "某区2024年政府信息公开工作年度报告", "2025-01-02")]
    assert urlsplit(found.records[0].url).netloc == "h.test"


# ---------------------------------------------------------------- bad input
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}[]()'\"`:;,=+ \n\\/abcxyz0123$._-<>页", max_size=80))
def test_script_readers_never_fail_on_any_text(text: str) -> None:
    assert isinstance(list(js_values(text)), list)
    assert isinstance(data_requests([text]), list)
    assert isinstance(url_functions([text]), dict)
    assert isinstance(discover_text(text, "http://h.test/a.json").records, list)


@pytest.mark.parametrize("page", sorted(p for p in FIXTURES.rglob("*.html")), ids=lambda p: p.name)
def test_every_saved_page_of_every_family_is_read_without_error(page: Path) -> None:
    url = "http://127.0.0.1:8000/site/col/index.html"
    found = discover_page(lxml.html.fromstring(page.read_bytes()), url)
    assert all(record.url.startswith(("http://", "https://")) for record in found.records)
    assert all(record.url != url for record in found.records)


def test_a_page_that_lists_its_rows_does_not_follow_its_frames_scripts_or_counters() -> None:
    rows = ('<ul><li><a href="/a/1.html">某区2024年政府信息公开工作年度报告</a><span>2025-01-02</span></li></ul>'
            '<iframe src="/weather.html"></iframe><script src="/js/list_data.js"></script>'
            "<script>$.get('/count.jsp?id=12', function(n){});</script>")
    found = discover_page(tree(rows), "http://h.test/col/index.html")
    assert [r.url for r in found.records] == ["http://h.test/a/1.html"] and found.follows == []
    shell = rows.split("</ul>", 1)[1]
    follows = discover_page(tree("<div>" + shell + "</div>"), "http://h.test/col/index.html").follows
    assert [(f.url, f.kind) for f in follows] == [("http://h.test/weather.html", "frame"),
                                                  ("http://h.test/js/list_data.js", "script")]   # no counter
