"""Each CMS family's lists, pagination and attachments; every document reachable from its site's list."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest

from sandbox.agencies import AGENCIES
from sandbox.portal import Document, PortalServer, SiteSpec
from tests.fixtures.portal import fetch

HREF = re.compile(r"""(?:href|src)="([^"#]+)""")
WINDOW_OPEN = re.compile(r"window\.open\('([^']+)'\)")
VIEWER_FILE = re.compile(r"viewer\.html\?file=([^\"&]+)")
CREATE_PAGE = re.compile(r'createPageHTML\((\w+),\s*(\w+),\s*"(\w+)",\s*"(\w+)"\)')
RECORD = re.compile(r"<record><!\[CDATA\[(.*?)\]\]></record>", re.S)
JPAGE = re.compile(r"perPage: (\d+), totalRecord: (\d+).*?columnid: (\d+)", re.S)
GKMLPT_API = re.compile(r'"API": "([^"]+)"')
GO_PAGE = re.compile(r"goPage\((\d+)\)")


def links_in(text: str) -> list[str]:
    return [html.unescape(link) for pattern in (HREF, WINDOW_OPEN, VIEWER_FILE) for link in pattern.findall(text)]


def walk(portal: PortalServer, slug: str, limit: int = 400) -> set[str]:
    """A reference crawler: every path of the site reachable from its list page with status 200."""
    prefix, fetched, queue, ok = f"/{slug}/", set(), [portal.list_url(slug)], set()
    while queue and len(fetched) < limit:
        url = queue.pop()
        if url in fetched:
            continue
        fetched.add(url)
        status, headers, body = fetch(url)
        if status != 200:
            continue
        path = url[len(portal.url):]
        ok.add(path)
        kind = headers["content-type"]
        found: list[str] = []
        if kind.startswith("application/json"):
            found = gkmlpt_links(json.loads(body), url)
        elif kind.startswith("text/html"):
            text = body.decode("gbk" if "gb" in kind else "utf-8", "replace")
            found = (links_in(text) + trs_pages(text) + jcms_records(portal, url, text) + gkmlpt_api(text)
                     + go_pages(url, text))
        for link in found:
            absolute = urljoin(url, link)
            link_path = urlsplit(absolute).path
            if absolute.startswith(portal.url) and link_path.startswith(prefix) and "/search/" not in link_path:
                queue.append(absolute)
    return ok


def go_pages(url: str, text: str) -> list[str]:
    """A goPage(N) pager (mingshan-health): pages counted from 0, goPage(N) is ?page=N+1 of the list page."""
    return [f"{url.split('?')[0]}?page={int(n) + 1}" for n in GO_PAGE.findall(text)]


def trs_pages(text: str) -> list[str]:
    match = CREATE_PAGE.search(text)
    if not match:
        return []
    count, name, ext = match[1], match[3], match[4]
    count = int(count) if count.isdigit() else int(re.search(rf"var {count} = (\d+)", text)[1])
    return [f"{name}.{ext}"] + [f"{name}_{n}.{ext}" for n in range(1, count)]


def jcms_records(portal: PortalServer, url: str, text: str) -> list[str]:
    links = [link for record in RECORD.findall(text) for link in links_in(record)]
    match = JPAGE.search(text)
    if match:
        per_page, total, column = (int(group) for group in match.groups())
        for start in range(per_page + 1, total + 1, per_page):
            proxy = urljoin(url, f"../../module/web/jpage/dataproxy.jsp?startrecord={start}"
                                 f"&endrecord={start + per_page - 1}&perpage={per_page}")
            status, _, body = fetch(proxy, "POST", {"Content-Type": "application/x-www-form-urlencoded"},
                                    f"columnid={column}&col=1&appid=1".encode())
            assert status == 200, proxy
            links += [link for record in RECORD.findall(body.decode()) for link in links_in(record)]
    return links


def gkmlpt_api(text: str) -> list[str]:
    match = GKMLPT_API.search(text)
    return [match[1] + "?page=1"] if match else []


def gkmlpt_links(payload: dict, url: str) -> list[str]:
    links = [a["url"] for a in payload["articles"]] + [f["url"] for a in payload["articles"] for f in a["attachment"]]
    if payload["page"] == 1:
        pages = -(-payload["total"] // payload["page_size"])
        links += [url.replace("page=1", f"page={n}") for n in range(2, pages + 1)]
    return links


def expected_paths(portal: PortalServer, slug: str) -> set[str]:
    paths = set()
    for item in portal.items(slug):
        paths.add(item.article_url)
        paths.update([item.attachment_url] if item.attachment_url else [])
        paths.update(item.page_urls)
    return paths


@pytest.mark.parametrize("slug", [agency.slug for agency in AGENCIES])
def test_every_document_is_reachable_from_the_list(sandbox_portal: PortalServer, slug: str) -> None:
    reached = walk(sandbox_portal, slug)
    expected = expected_paths(sandbox_portal, slug)
    assert len(sandbox_portal.items(slug)) > sandbox_portal.config.page_size, "the list must need pagination"
    assert expected - reached == set()


def pdf(label: str) -> bytes:
    return b"%PDF-1.4\n% " + label.encode() + b"\n%%EOF\n"


def documents(slug: str, reports: int = 7, others: int = 4) -> list[Document]:
    """Reports (PDF attachments) and news (HTML articles), one published per month."""
    made = []
    for index in range(reports):
        made.append(Document(title=f"测试局{2010 + index}年政府信息公开工作年度报告", content=pdf(f"{slug}-{index}"),
                             site=slug, name=f"{slug}-report-{index}", year=2010 + index,
                             published=f"{2011 + index}-01-{10 + index:02d}"))
    for index in range(others):
        made.append(Document(title=f"测试局通知{index}", site=slug, name=f"{slug}-news-{index}", form="html",
                             kind="not-report", media_type="text/html", published=f"2015-{index + 2:02d}-01",
                             content=f"<html><body>通知{index}</body></html>".encode()))
    return made


@pytest.fixture
def trs(sandbox_portal_factory) -> PortalServer:
    return sandbox_portal_factory(sites=["hongze"], fillers=0, documents=documents("hongze"))


def test_trs_pages_by_create_page_html(trs: PortalServer) -> None:
    listed = [item.title for item in trs.items("hongze")]
    seen = []
    for index, name in enumerate(["index.html", "index_1.html", "index_2.html"]):
        status, headers, body = fetch(f"{trs.url}/hongze/xxgk/xxgknb/{name}")
        text = body.decode()
        assert status == 200
        assert f'createPageHTML(3, {index}, "index", "html");' in text
        seen += re.findall(r'title="([^"]+)"', text)[:5]
        assert re.search(r'href="\./\d{6}/t\d{8}_\d+\.html"', text)
    assert seen == listed
    assert fetch(f"{trs.url}/hongze/xxgk/xxgknb/index_3.html")[0] == 404


def test_trs_pager_through_page_variables(sandbox_portal_factory) -> None:
    portal = sandbox_portal_factory(sites=["jlp-erlang"], fillers=0, documents=documents("jlp-erlang"))
    text = fetch(portal.list_url("jlp-erlang").replace("index.html", "index_2.html"))[2].decode()
    assert "var countPage = 3" in text and "var currentPage = 2" in text
    assert 'createPageHTML(countPage, currentPage, "index", "html");' in text


def test_trs_attachment_is_a_relative_p0_link(trs: PortalServer) -> None:
    report = next(item for item in trs.items("hongze") if item.document.kind == "report")
    text = fetch(trs.url + report.article_url)[2].decode()
    name = report.attachment_url.rsplit("/", 1)[1]
    assert re.fullmatch(r"P0\d{8}\d+\.pdf", name)
    assert f'href="./{name}"' in text
    status, headers, body = fetch(urljoin(trs.url + report.article_url, f"./{name}"))
    assert (status, headers["content-type"], body) == (200, "application/pdf", report.body())


@pytest.fixture
def jcms(sandbox_portal_factory) -> PortalServer:
    return sandbox_portal_factory(sites=["huaian"], fillers=0, documents=documents("huaian"))


def dataproxy(url: str, query: str, form: str, path: str = "/huaian/module/web/jpage/dataproxy.jsp"):
    return fetch(f"{url}{path}?{query}", "POST", {"Content-Type": "application/x-www-form-urlencoded"},
                 form.encode())


def test_jcms_column_page_embeds_the_first_records_only(jcms: PortalServer) -> None:
    text = fetch(jcms.list_url("huaian"))[2].decode()
    titles = [re.search(r'title="([^"]+)"', record)[1] for record in RECORD.findall(text)]
    assert titles == [item.title for item in jcms.items("huaian")[:5]]
    assert "<datastore>" in text and "totalRecord: 11" in text and "columnid: 16813" in text


def test_jcms_dataproxy_returns_the_asked_records(jcms: PortalServer) -> None:
    status, headers, body = dataproxy(jcms.url, "startrecord=6&endrecord=10&perpage=5", "columnid=16813&col=1")
    text = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/xml")
    assert "<totalrecord>11</totalrecord>" in text and "<totalpage>3</totalpage>" in text
    titles = [re.search(r'title="([^"]+)"', record)[1] for record in RECORD.findall(text)]
    assert titles == [item.title for item in jcms.items("huaian")[5:10]]
    root = dataproxy(jcms.url, "startrecord=11&endrecord=15&perpage=5", "columnid=16813",
                     path="/module/web/jpage/dataproxy.jsp")
    assert root[0] == 200 and len(RECORD.findall(root[2].decode())) == 1


def test_jcms_dataproxy_refuses_get_and_needs_the_column(jcms: PortalServer) -> None:
    assert fetch(f"{jcms.url}/huaian/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=5")[0] == 405
    assert dataproxy(jcms.url, "startrecord=1&endrecord=5&perpage=5", "col=1")[0] == 400
    other = dataproxy(jcms.url, "startrecord=1&endrecord=5&perpage=5", "columnid=999")[2].decode()
    assert "<totalrecord>0</totalrecord>" in other and not RECORD.findall(other)


def test_jcms_attachment_has_a_chinese_content_disposition(jcms: PortalServer) -> None:
    report = next(item for item in jcms.items("huaian") if item.document.kind == "report")
    assert "/module/download/downfile.jsp?classid=0&filename=" in report.attachment_url
    assert html.escape(report.attachment_url) in fetch(jcms.url + report.article_url)[2].decode()
    status, headers, body = fetch(jcms.url + report.attachment_url)
    disposition = headers["content-disposition"]
    assert status == 200 and body == report.body()
    assert disposition.startswith('attachment; filename="')
    assert f"filename*=UTF-8''{quote(report.title + '.pdf', safe='')}" in disposition
    assert unquote(disposition.split("''", 1)[1]) == report.title + ".pdf"


@pytest.fixture
def gkmlpt(sandbox_portal_factory) -> PortalServer:
    return sandbox_portal_factory(sites=["guangdong"], fillers=0, documents=documents("guangdong"))


def test_gkmlpt_shell_names_the_json_api(gkmlpt: PortalServer) -> None:
    text = fetch(gkmlpt.list_url("guangdong"))[2].decode()
    assert GKMLPT_API.search(text)[1] == "/guangdong/gkmlpt/api/all/2847"


def test_gkmlpt_api_pages(gkmlpt: PortalServer) -> None:
    listed = gkmlpt.items("guangdong")
    got = []
    for page in (1, 2, 3):
        status, headers, body = fetch(f"{gkmlpt.url}/guangdong/gkmlpt/api/all/2847?page={page}")
        payload = json.loads(body)
        assert status == 200 and headers["content-type"].startswith("application/json")
        assert payload["total"] == 11
        got += payload["articles"]
    assert [a["title"] for a in got] == [item.title for item in listed]
    report = next(a for a in got if "年度报告" in a["title"])
    assert isinstance(report["first_publish_time"], int) and report["first_publish_time"] > 1_200_000_000
    assert report["attachment"] and report["attachment"][0]["url"].endswith(".pdf")
    assert json.loads(fetch(f"{gkmlpt.url}/guangdong/gkmlpt/api/all/2847?page=4")[2])["articles"] == []
    assert fetch(f"{gkmlpt.url}/gkmlpt/api/all/2847?page=2")[2] == fetch(
        f"{gkmlpt.url}/guangdong/gkmlpt/api/all/2847?page=2")[2]


def test_plain_numbered_pages(sandbox_portal_factory) -> None:
    portal = sandbox_portal_factory(sites=["chanhe-industry"], fillers=0, documents=documents("chanhe-industry"))
    titles = []
    for page in (1, 2, 3):
        text = fetch(f"{portal.url}/chanhe-industry/zfxxgk/xxgknb/{page}.html")[2].decode()
        titles += re.findall(r'title="([^"]+)"', text)
        assert ('href="' + f"{page + 1}.html" + '">下一页') in text or page == 3
    assert titles == [item.title for item in portal.items("chanhe-industry")]
    assert fetch(f"{portal.url}/chanhe-industry/zfxxgk/xxgknb/4.html")[0] == 404


def test_plain_query_pages(sandbox_portal_factory) -> None:
    portal = sandbox_portal_factory(sites=["lueyang-land"], fillers=0, documents=documents("lueyang-land"))
    base = f"{portal.url}/lueyang-land/lyxzf/lyzwgk/xxgknb/list"
    first = fetch(base + "?page=1")[2].decode()
    assert 'href="list?page=2">下一页' in first
    assert fetch(base)[2] == first.encode()
    assert len(re.findall(r'title="', fetch(base + "?page=3")[2].decode())) == 1
    assert fetch(base + "?page=4")[0] == 404


def test_generic_viewer_site_embeds_pdfjs(sandbox_portal_factory) -> None:
    portal = sandbox_portal_factory(sites=["changchun-health"], fillers=0, documents=documents("changchun-health"))
    first = fetch(portal.list_url("changchun-health"))[2].decode()
    assert ">下一页</a>" in first and ">尾页</a>" in first and "?page=3" in first
    report = next(item for item in portal.items("changchun-health") if item.document.kind == "report")
    article = fetch(portal.url + report.article_url)[2].decode()
    assert f'<iframe src="/changchun-health/pdfjs/web/viewer.html?file={report.attachment_url}"' in article
    assert report.attachment_url not in article.replace(f"file={report.attachment_url}", "")
    assert fetch(f"{portal.url}/changchun-health/pdfjs/web/viewer.html?file=x.pdf")[0] == 200
    assert fetch(portal.url + report.attachment_url)[2] == report.body()


def test_generic_downfile_site(sandbox_portal_factory) -> None:
    portal = sandbox_portal_factory(sites=["mingshan-health"], fillers=0, documents=documents("mingshan-health"))
    last = fetch(portal.list_url("mingshan-health") + "?page=3")[2].decode()
    assert "<span>下一页</span>" in last and "3/3" in last
    report = next(item for item in portal.items("mingshan-health") if item.document.kind == "report")
    assert re.fullmatch(r"/mingshan-health/downfile\.jsp\?fileid=\d+", report.attachment_url)
    article = fetch(portal.url + report.article_url)[2].decode()
    assert f"onclick=\"window.open('{report.attachment_url}')\"" in article
    headers = fetch(portal.url + report.attachment_url)[1]
    assert headers["content-disposition"].endswith("''" + quote(report.title + ".pdf", safe=""))


GBK_PAGE = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            "<title>某局2020年政府信息公开工作年度报告</title></head><body>一、总体情况</body></html>").encode("gbk")


@pytest.mark.parametrize(("slug", "content_type"), [("hongze", "text/html; charset=gb2312"),
                                                    ("huaian", "text/html")])
def test_gbk_html_report_is_served_as_is_with_a_gbk_or_no_charset(sandbox_portal_factory, slug, content_type):
    document = Document(title="某局2020年政府信息公开工作年度报告", content=GBK_PAGE, site=slug, form="html",
                        media_type="text/html")
    portal = sandbox_portal_factory(sites=[slug], fillers=0, documents=[document])
    item = portal.items(slug)[0]
    assert item.attachment_url is None
    status, headers, body = fetch(portal.url + item.article_url)
    assert (status, headers["content-type"], body) == (200, content_type, GBK_PAGE)


def test_flipbook_pages_are_served_and_linked(sandbox_portal_factory, tmp_path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    for number in (1, 2, 3):
        (book / f"page-{number:03d}.html").write_text(f"<html><body>第{number}页</body></html>", encoding="utf-8")
    document = Document(title="广东省2021年政府信息公开工作年度报告", content=book, site="guangdong", form="flipbook",
                        media_type="text/html")
    portal = sandbox_portal_factory(sites=["guangdong"], fillers=0, documents=[document])
    item = portal.items("guangdong")[0]
    article = fetch(portal.url + item.article_url)[2].decode()
    assert len(item.page_urls) == 3
    for url, page in item.page_urls.items():
        assert f'href="{url}"' in article
        assert fetch(portal.url + url)[2] == page.read_bytes()


def test_a_site_can_be_made_from_a_spec(sandbox_portal_factory) -> None:
    spec = SiteSpec(slug="test-trs", name="测试局", family="trs", list_path="/nb/index.html", page_size=2)
    portal = sandbox_portal_factory(sites=[spec], fillers=0, documents=documents("test-trs", 3, 0))
    assert 'createPageHTML(2, 0, "index", "html")' in fetch(portal.list_url("test-trs"))[2].decode()
    with pytest.raises(ValueError, match="unknown family"):
        SiteSpec(slug="x", name="x", family="wordpress", list_path="/")


def test_a_flipbook_with_an_index_is_listed_by_its_index(sandbox_portal_factory, tmp_path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / "index.html").write_text('<a href="page-1.html">1</a><a href="page-2.html">2</a>', encoding="utf-8")
    for number in (1, 2):
        (book / f"page-{number}.html").write_text(f"第{number}页", encoding="utf-8")
    document = Document(title="广东省2021年政府信息公开工作年度报告", content=book, site="guangdong", form="flipbook",
                        media_type="text/html")
    portal = sandbox_portal_factory(sites=["guangdong"], fillers=0, documents=[document])
    item = portal.items("guangdong")[0]
    assert item.article_url.endswith("/index.html")
    assert fetch(portal.url + item.article_url)[2] == (book / "index.html").read_bytes()
    assert fetch(urljoin(portal.url + item.article_url, "page-2.html"))[2] == "第2页".encode()
    assert walk(portal, "guangdong") >= {item.article_url, *item.page_urls}


def test_hostile_corpus_entries_get_a_report_title_and_their_status(sandbox_portal_factory, tmp_path) -> None:
    from sandbox.corpus import load_corpus

    (tmp_path / "huaian-2024-odd.html").write_text("<html>challenge</html>", encoding="utf-8")
    (tmp_path / "huaian-2024-odd.truth.json").write_text(json.dumps({
        "name": "huaian-2024-odd", "file": "huaian-2024-odd.html", "form": "hostile", "kind": "broken",
        "media_type": "text/html", "agency": "淮安市人民政府", "site": "huaian", "status": 200}), encoding="utf-8")
    portal = sandbox_portal_factory(sites=["huaian"], fillers=0, documents=load_corpus(tmp_path))
    item = portal.items("huaian")[0]
    assert item.title == "淮安市人民政府2024年政府信息公开工作年度报告"
    assert item.published.year == 2025
    assert fetch(portal.url + item.article_url)[:3:2] == (200, b"<html>challenge</html>")
