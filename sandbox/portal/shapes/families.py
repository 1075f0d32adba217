"""One sandbox family per list or document shape of issue 11, each drawing its spelling from
the site's seeded random generator.

Every list page carries a side-nav link to the column itself (`政府信息公开年报`): it is not a report.
"""

from __future__ import annotations

import base64
import json
import math
import random
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlsplit

from sandbox.portal.families.base import Family, attr, esc, page_shell
from sandbox.portal.shapes.spelling import Spelling
from sandbox.portal.site import Response

if TYPE_CHECKING:
    from sandbox.portal.documents import Item
    from sandbox.portal.site import Site

COLUMN = "/xxgk/ndbg/"


class ShapeFamily(Family):
    """A list shape: where its pages are, how rows and pagers are written."""

    name = "shape"
    list_leaf = "index.html"
    # A list page may declare `<base href>` (the site's root) and write its rows relative to it, as
    # some CMS templates do; only shapes whose every other URL on the page is site-rooted may, since
    # a browser resolves every relative URL of the page (a script's pager, a form's action) against it.
    may_declare_base = False

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.spelling = Spelling.draw(rng)
        # from the spelling's own seed: one more draw would shift every later choice of the portal
        self.declares_base = self.may_declare_base and self.spelling.seed % 3 == 0

    # ------------------------------------------------------------ placing items
    @property
    def list_path(self) -> str:
        return COLUMN + self.list_leaf

    def place(self, site: Site, item: Item) -> None:
        item.article_url = f"{site.prefix}{COLUMN}{item.published:%Y%m}/t{item.published:%Y%m%d}_{item.id}.html"
        if not item.document.is_html:
            item.attachment_url = f"{site.prefix}/uploadfiles/{item.published:%Y%m}/{item.id}{item.document.extension}"

    # ------------------------------------------------------------ markup
    def row(self, site: Site, item: Item) -> str:
        return self.spelling.row(self.row_href(site, item.article_url), item.title, item.published)

    def row_href(self, site: Site, url: str) -> str:
        """A row's link as the page writes it: site-rooted, or relative to its `<base href>`."""
        return url.removeprefix(f"{site.prefix}/") if self.declares_base else url

    def page(self, site: Site, title: str, content: str, script: str = "", head: str = "") -> Response:
        nav = (f'<div class="side-nav"><a href="{attr(site.prefix + self.list_path)}">政府信息公开年报</a>'
               f'<a href="{site.prefix}/xxgk/zn/">政府信息公开指南</a></div>')
        return Response.html(page_shell(site, title, nav + content, script, head), site.last_modified())

    def list_page(self, site: Site, items: list[Item], pager: str = "", script: str = "") -> Response:
        rows = self.spelling.rows([self.row(site, item) for item in items])
        content = f'<div class="column"><h2>政府信息公开年报</h2>{rows}<div class="pager">{pager}</div></div>'
        head = f'<base href="{attr(site.prefix)}/">' if self.declares_base else ""
        return self.page(site, "政府信息公开年报", content, script, head)

    def pages_of(self, site: Site) -> list[list[Item]]:
        return site.pages()

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        raise NotImplementedError


def _js(value: str, quote_char: str) -> str:
    if quote_char == '"':
        return json.dumps(value, ensure_ascii=False)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# ---------------------------------------------------------------- pagers of static pages
class NumberedPages(ShapeFamily):
    """Pages at `index.html`, `index_N.html` (TRS numbering: the second page is index_1)."""

    first_index = 1        # the number of the second page's file

    def page_path(self, site: Site, number: int) -> str:
        """The path of page `number` (0-based)."""
        stem, ext = self.list_leaf.rsplit(".", 1)
        base = f"{site.prefix}{COLUMN}"
        return base + self.list_leaf if number == 0 else f"{base}{stem}_{number - 1 + self.first_index}.{ext}"

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        if method not in ("GET", "HEAD"):
            return None
        pages = self.pages_of(site)
        for number in range(len(pages)):
            if path in (self.page_path(site, number), self.first_page_alias(site, number)):
                return self.list_page(site, pages[number], self.pager(site, number, len(pages)),
                                      self.script(site, number, len(pages)))
        return None

    def first_page_alias(self, site: Site, number: int) -> str | None:
        """The first page also answers under its number (`?page=1`), as servers do."""
        first, second = self.page_path(site, 0), self.page_path(site, 1) if number == 0 else ""
        return second.replace("=2", "=1") if "?" in second and "?" not in first else None

    def pager(self, site: Site, number: int, count: int) -> str:
        return ""

    def script(self, site: Site, number: int, count: int) -> str:
        return ""


class TrsPager(NumberedPages):
    """`createPageHTML(count, current, "index", "html")`: the pager is written by script."""

    name = "trs"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.variables = rng.random() < 0.5
        self.ext = rng.choice(("html", "shtml", "htm"))
        self.list_leaf = f"index.{self.ext}"

    def script(self, site: Site, number: int, count: int) -> str:
        if self.variables:
            return (f'<script type="text/javascript">var countPage = {count}//共多少页\n'
                    f"var currentPage = {number};//当前页\n"
                    f'createPageHTML(countPage, currentPage, "index", "{self.ext}");</script>')
        return f"<script>createPageHTML({count}, {number}, 'index', '{self.ext}');</script>"


class WcmPager(NumberedPages):
    """`var pagecount = N; var pagename = "index"; var pageext = "html"` and no pager links."""

    name = "wcm"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.ext = rng.choice(("html", "shtml"))
        self.list_leaf = f"index.{self.ext}"
        self.order = rng.sample(["pagecount", "pagename", "pageext", "pageindex"], 4)
        self.keyword = rng.choice(("var ", ""))

    def script(self, site: Site, number: int, count: int) -> str:
        quote_char = self.spelling.quote
        values = {"pagecount": str(count), "pagename": _js("index", quote_char), "pageext": _js(self.ext, quote_char),
                  "pageindex": str(number)}
        lines = "\n".join(f"{self.keyword}{name} = {values[name]};" for name in self.order)
        return f'<div id="pagenav"></div><script language="javascript">\n{lines}\nwriteNav(pagecount);\n</script>'


class LinkPager(NumberedPages):
    """Numbered links (`index_N.html`, `?page=N`, `list.jsp?pageNo=N`) and 首页/上一页/下一页/尾页."""

    name = "numbered"
    first_index = 2
    may_declare_base = True   # its pager links, and those of its subclasses, are site-rooted or scripts

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.scheme = rng.choice(("index_N", "page", "pageNo"))
        self.window = rng.choice((2, 3, 10))

    def page_path(self, site: Site, number: int) -> str:
        base = f"{site.prefix}{COLUMN}"
        if self.scheme == "page":
            return base + "index.html" if number == 0 else f"{base}index.html?page={number + 1}"
        if self.scheme == "pageNo":
            return f"{base}list.jsp?pageNo={number + 1}"
        return super().page_path(site, number)

    @property
    def list_path(self) -> str:
        return COLUMN + ("list.jsp?pageNo=1" if self.scheme == "pageNo" else "index.html")

    def pager(self, site: Site, number: int, count: int) -> str:
        def link(target: int, label: str) -> str:
            return f'<a{self.spelling.attributes([("href", self.page_path(site, target))])}>{label}</a>'

        parts = [link(0, "首页")]
        if number > 0:
            parts.append(link(number - 1, "上一页"))
        for target in range(max(0, number - self.window), min(count, number + self.window + 1)):
            parts.append(f"<b>{target + 1}</b>" if target == number else link(target, str(target + 1)))
        if number + 1 < count:
            parts.append(link(number + 1, "下一页"))
        parts.append(link(count - 1, "尾页"))
        return " ".join(parts)


class NextLastPager(LinkPager):
    """Only 下一页 and 末页/尾页 links, in one of several wordings."""

    name = "nextlast"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.next_word = rng.choice(("下一页", "下页", "&gt;", "下一頁"))
        self.last_word = rng.choice(("末页", "尾页", "最后一页"))

    def pager(self, site: Site, number: int, count: int) -> str:
        parts = [f"<span>第{number + 1}页</span>"]
        if number + 1 < count:
            parts.append(f'<a href="{attr(self.page_path(site, number + 1))}">{self.next_word}</a>')
            parts.append(f'<a href="{attr(self.page_path(site, count - 1))}">{self.last_word}</a>')
        return " ".join(parts)


class ScriptPager(LinkPager):
    """Pager links that call a page function building the URL (`javascript:goPage(3)`), or none at all
    beside a printed total (`共N页`) and a page selector that calls the same function."""

    name = "jspager"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.function = rng.choice(("goPage", "turnPage", "toPage", "gotoPage", "jumpPage"))
        self.parameter = rng.choice(("n", "page", "p", "num"))
        self.with_links = rng.random() < 0.5
        self.total_words = rng.choice(("共{n}页", "页次：1/{n}", "共 {n} 页"))
        self.scheme = rng.choice(("page", "list_N"))

    def page_path(self, site: Site, number: int) -> str:
        base = f"{site.prefix}{COLUMN}"
        if self.scheme == "list_N":
            return base + "index.html" if number == 0 else f"{base}list_{number + 1}.html"
        return base + "index.html" if number == 0 else f"{base}index.html?page={number + 1}"

    def pager(self, site: Site, number: int, count: int) -> str:
        total = f"<span>{self.total_words.format(n=count)}</span>"
        if not self.with_links:
            options = "".join(f'<option value="{n + 1}">{n + 1}</option>' for n in range(count))
            return f'{total} <select onchange="{self.function}(this.value)">{options}</select>'
        links = [f'<a href="javascript:{self.function}({n + 1})">{n + 1}</a>' if self.rng.random() < 0.5 else
                 f'<a href="#" onclick="{self.function}({n + 1});return false;">{n + 1}</a>' for n in range(count)]
        return total + " " + " ".join(links)

    def script(self, site: Site, number: int, count: int) -> str:
        base = f"{site.prefix}{COLUMN}"
        target = (f"'{base}list_' + {self.parameter} + '.html'" if self.scheme == "list_N"
                  else f"'{base}index.html?page=' + {self.parameter}")
        return (f"<script>\nfunction {self.function}({self.parameter}) {{\n"
                f"  if ({self.parameter} == 1) {{ location.href = '{base}index.html'; return; }}\n"
                f"  window.location.href = {target};\n}}\n</script>")


class PostBackPager(ShapeFamily):
    """ASP.NET AspNetPager: `javascript:__doPostBack('AspNetPager1','N')`, reached only by a POST of
    the form with its `__VIEWSTATE`; a POST without a valid view state is refused."""

    name = "aspnet"
    list_leaf = "List.aspx"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.pager_id = rng.choice(("AspNetPager1", "ctl00$ContentPlaceHolder1$AspNetPager1", "Pager"))
        self.leaf = rng.choice(("List.aspx", "NewsList.aspx", "xxgk.aspx"))
        self.list_leaf = self.leaf + "?ClassID=" + str(rng.randrange(10, 99))

    def view_state(self, number: int) -> str:
        return base64.b64encode(f"/wEPDwUKMTU0OTkz|page={number}|{self.spelling.seed}".encode()).decode()

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        if path.split("?", 1)[0] != f"{site.prefix}{COLUMN}{self.leaf}":
            return None
        pages = self.pages_of(site)
        number = 0
        if method == "POST":
            fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            states = {self.view_state(n) for n in range(len(pages))}
            if fields.get("__VIEWSTATE") not in states or fields.get("__EVENTTARGET") != self.pager_id:
                return Response.html("<html><body><h1>Validation of viewstate MAC failed.</h1></body></html>",
                                     status=500)
            try:
                number = int(fields.get("__EVENTARGUMENT", "1")) - 1
            except ValueError:
                return Response.html("<html><body>bad argument</body></html>", status=400)
        elif method not in ("GET", "HEAD"):
            return None
        if not 0 <= number < len(pages):
            return None
        return self.form_page(site, pages[number], number, len(pages))

    def form_page(self, site: Site, items: list[Item], number: int, count: int) -> Response:
        rows = self.spelling.rows([self.row(site, item) for item in items])
        form = (f'<form name="aspnetForm" method="post" action="./{attr(self.list_leaf)}" id="aspnetForm">\n'
                '<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />\n'
                '<input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="" />\n'
                f'<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{self.view_state(number)}" />\n'
                f'<div class="column">{rows}<div id="AspNetPager1">{self.pager(number, count)}</div></div></form>'
                "<script>function __doPostBack(eventTarget, eventArgument) { var theForm = document.forms['aspnetForm'];"
                " theForm.__EVENTTARGET.value = eventTarget; theForm.__EVENTARGUMENT.value = eventArgument;"
                " theForm.submit(); }</script>")
        return self.page(site, "政府信息公开年报", form)

    def pager(self, number: int, count: int) -> str:
        def link(target: int, label: str) -> str:
            return f"<a href=\"javascript:__doPostBack('{self.pager_id}','{target + 1}')\">{label}</a>"

        parts = [link(0, "首页"), *(link(n, str(n + 1)) for n in range(max(0, number - 3), min(count, number + 4))
                                    if n != number), link(count - 1, "尾页")]
        if number + 1 < count:
            parts.insert(-1, link(number + 1, "下一页"))
        return f"共{count}页 " + " ".join(parts)


# ---------------------------------------------------------------- lists built by script
class AjaxList(ShapeFamily):
    """A shell page whose script asks a JSON API for the rows, by channel id and page number."""

    name = "ajax"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.style = rng.choice(("jquery-post", "jquery-getjson", "fetch", "xhr"))
        self.channel = rng.randrange(1000, 9999)
        self.endpoint = rng.choice(("/api/list", "/common/search/list.do", "/interface/getDocs"))
        self.answer_shape = rng.choice(("flat", "nested", "rows"))
        self.keys = rng.choice((("title", "url", "date"), ("docTitle", "docUrl", "pubDate"),
                                ("TITLE", "LINKURL", "PUBDATE"), ("name", "link", "publishTime")))
        self.millis = rng.random() < 0.4

    def script(self, site: Site) -> str:
        endpoint = site.prefix + self.endpoint
        if self.style == "jquery-post":
            call = (f'$.ajax({{url: "{endpoint}", type: "POST", dataType: "json",\n'
                    f"  data: {{channelId: {self.channel}, page: 1, pageSize: {site.spec.page_size}}},\n"
                    "  success: function (res) { render(res); }\n});")
        elif self.style == "jquery-getjson":
            call = (f"var channelId = '{self.channel}';\nvar pageNo = 1;\n"
                    f"$.getJSON('{endpoint}?channelId=' + channelId + '&pageNo=' + pageNo"
                    f" + '&pageSize={site.spec.page_size}', function (res) {{ render(res); }});")
        elif self.style == "fetch":
            call = (f"const cid = {self.channel};\nfunction load(page) {{\n"
                    f"  fetch(`{endpoint}?channelId=${{cid}}&page=${{page}}&size={site.spec.page_size}`)"
                    ".then(r => r.json()).then(render);\n}\nload(1);")
        else:
            call = (f"var cid = {self.channel};\nfunction loadPage(curPage) {{\n  var xhr = new XMLHttpRequest();\n"
                    f"  xhr.open('GET', '{endpoint}?channelId=' + cid + '&curPage=' + curPage, true);\n"
                    "  xhr.onload = function () { render(JSON.parse(xhr.responseText)); };\n  xhr.send();\n}\n"
                    "loadPage(1);")
        return f'<script src="/js/jquery.min.js"></script>\n<script type="text/javascript">\n{call}\n</script>'

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        parts = urlsplit(path)
        if parts.path == site.prefix + self.list_path and method in ("GET", "HEAD"):
            shell = f'<div class="{self.spelling.list_class}" id="listBox"></div><div id="pageBar"></div>'
            return self.page(site, "政府信息公开年报", shell, self.script(site))
        if parts.path != site.prefix + self.endpoint:
            return None
        fields = {k: v[0] for k, v in (parse_qs(parts.query) | parse_qs(body.decode("utf-8", "replace"))).items()}
        if fields.get("channelId") != str(self.channel):
            return Response(200, b'{"code": 1, "msg": "channel not found"}', "application/json; charset=utf-8")
        size = int(fields.get("pageSize") or fields.get("size") or site.spec.page_size)
        number = int(fields.get("page") or fields.get("pageNo") or fields.get("curPage") or 1)
        listed = site.listed()
        chunk = listed[(number - 1) * size: number * size]
        return Response(200, json.dumps(self.payload(chunk, len(listed), size), ensure_ascii=False).encode(),
                        "application/json; charset=utf-8", modified=site.last_modified())

    def payload(self, items: list[Item], total: int, size: int) -> dict:
        title, url, day = self.keys
        rows = [{"id": item.id, title: item.title, url: item.article_url,
                 day: (int(item.modified.timestamp() * 1000) if self.millis else item.published.isoformat())}
                for item in items]
        if self.answer_shape == "flat":
            return {"total": total, "data": rows}
        if self.answer_shape == "nested":
            return {"code": 0, "result": {"pageCount": max(1, math.ceil(total / size)), "list": rows}}
        return {"rows": rows, "totalCount": total, "pageSize": size}


class ScriptArrayList(ShapeFamily):
    """The whole list as a JS array literal, inline or in an external script; the pager is computed in JS."""

    name = "jsarray"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.external = rng.random() < 0.5
        self.script_name = rng.choice(("list_data.js", "column_list.js", "data.js"))
        self.variable = rng.choice(("listData", "docs", "arr", "dataList"))
        self.strict_json = rng.random() < 0.5
        self.keys = rng.choice((("title", "url", "date"), ("t", "href", "time"), ("docTitle", "link", "pubDate")))

    def literal(self, site: Site) -> str:
        title, url, day = self.keys
        if self.strict_json:
            rows = [{title: item.title, url: item.article_url, day: item.published.isoformat()} for item in site.listed()]
            return json.dumps(rows, ensure_ascii=False, indent=1)
        return "[\n" + ",\n".join(
            f"  {{{title}: {_js(item.title, chr(39))}, {url}: {_js(item.article_url, chr(39))},"
            f" {day}: '{item.published.isoformat()}'}}" for item in site.listed()) + "\n]"

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        if method not in ("GET", "HEAD"):
            return None
        data = f"var {self.variable} = {self.literal(site)};\n"
        pager = (f"var pageSize = {site.spec.page_size};\nfunction show(n) {{ var rows = {self.variable}"
                 ".slice((n - 1) * pageSize, n * pageSize); render(rows); }\nshow(1);")
        if path == f"{site.prefix}/js/{self.script_name}" and self.external:
            return Response(200, data.encode(), "application/javascript; charset=utf-8", modified=site.last_modified())
        if path != site.prefix + self.list_path:
            return None
        if self.external:
            script = f'<script src="{site.prefix}/js/{self.script_name}"></script>\n<script>{pager}</script>'
        else:
            script = f"<script>\n{data}{pager}\n</script>"
        return self.page(site, "政府信息公开年报", '<ul id="list"></ul><div id="pages"></div>', script)


# ---------------------------------------------------------------- lists elsewhere
class FrameList(LinkPager):
    """The column page only holds an <iframe> whose document (and its pages) carries the rows."""

    name = "iframe"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.frame_dir = rng.choice(("frame/", "gkml/", "content/"))
        self.frame_tag = rng.choice(("iframe", "iframe-scrolling"))
        self.scheme = "index_N"

    def page_path(self, site: Site, number: int) -> str:
        base = f"{site.prefix}{COLUMN}{self.frame_dir}"
        return base + "index.html" if number == 0 else f"{base}index_{number + 1}.html"

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        if method in ("GET", "HEAD") and path == site.prefix + self.list_path:
            extra = ' scrolling="no" frameborder="0"' if self.frame_tag == "iframe-scrolling" else ""
            frame = (f'<div class="main"><iframe{self.spelling.attributes([("src", "./" + self.frame_dir + "index.html")])}'
                     f' width="100%" height="800"{extra} name="listFrame"></iframe></div>')
            return self.page(site, "政府信息公开年报", frame)
        return super().answer(site, method, path, body)


class YearIndex(ShapeFamily):
    """An annual-report column linking to one sub-column per year (`2019年度` …), each a list, some paged."""

    name = "years"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.label = rng.choice(("{y}年度", "{y}年", "【{y}年度】", "{y}"))
        self.per_page = rng.choice((2, 3))

    def year_of(self, item: Item) -> int:
        return item.document.year or item.published.year - 1

    def years(self, site: Site) -> dict[int, list[Item]]:
        grouped: dict[int, list[Item]] = {}
        for item in site.listed():
            grouped.setdefault(self.year_of(item), []).append(item)
        return dict(sorted(grouped.items(), reverse=True))

    def year_path(self, site: Site, year: int, number: int) -> str:
        base = f"{site.prefix}{COLUMN}{year}/"
        return base + "index.html" if number == 0 else f"{base}index_{number}.html"

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        if method not in ("GET", "HEAD"):
            return None
        years = self.years(site)
        if path == site.prefix + self.list_path:
            links = "".join(f'<li><a href="{attr(self.year_path(site, year, 0))}">{self.label.format(y=year)}</a></li>'
                            for year in years)
            return self.page(site, "政府信息公开年报", f'<ul class="year-nav">{links}</ul>')
        for year, items in years.items():
            pages = [items[start:start + self.per_page] for start in range(0, len(items), self.per_page)]
            for number, chunk in enumerate(pages):
                if path == self.year_path(site, year, number):
                    script = f'<script>createPageHTML({len(pages)}, {number}, "index", "html");</script>'
                    return self.list_page(site, chunk, "", script if len(pages) > 1 else "")
        return None


# ---------------------------------------------------------------- lists only a browser can read
_DECODE = "function d(s){return new TextDecoder().decode(Uint8Array.from(atob(s),function(c){return c.charCodeAt(0);}));}"


class RenderedList(ShapeFamily):
    """A list that only a running script builds, so that no static reading finds it: each page's rows
    and pager written by code that is itself base64 and eval'd; rows from an answer the script decodes
    (base64 JSON served as text); or rows bound to click handlers, from JSON at a URL the script
    assembles from char codes.
    """

    name = "rendered"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.style = rng.choice(("eval", "decoded", "bound"))
        self.endpoint = rng.choice(("/api/gk/list", "/site/data/nb", "/front/doc/query"))
        self.keys = rng.choice((("title", "url", "date"), ("docTitle", "docUrl", "pubDate"), ("bt", "link", "fbrq")))

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        if method not in ("GET", "HEAD"):
            return None
        shell = f'<div class="{self.spelling.list_class}" id="listBox"></div>'
        if self.style == "eval":   # paged: each page's rows and pager are in its eval'd code
            pages = self.pages_of(site)
            for number, chunk in enumerate(pages):
                if path == self.page_path(site, number):
                    code = self.eval_code(site, chunk, number, len(pages))
                    return self.page(site, "政府信息公开年报", shell, f"<script>\n{code}\n</script>")
            return None
        if path == site.prefix + self.list_path:
            return self.page(site, "政府信息公开年报", shell, f"<script>\n{self.script(site)}\n</script>")
        if path == site.prefix + self.endpoint:
            rows = json.dumps(self.rows(site), ensure_ascii=False)
            if self.style == "decoded":
                return Response(200, base64.b64encode(rows.encode()), "text/plain; charset=utf-8",
                                modified=site.last_modified())
            return Response(200, rows.encode(), "application/json; charset=utf-8", modified=site.last_modified())
        return None

    def page_path(self, site: Site, number: int) -> str:
        return f"{site.prefix}{COLUMN}" + ("index.html" if number == 0 else f"index_{number}.html")

    def rows(self, site: Site) -> list[dict[str, str]]:
        title, url, day = self.keys
        return [{title: item.title, url: item.article_url, day: item.published.isoformat()} for item in site.listed()]

    def eval_code(self, site: Site, items: list[Item], number: int, count: int) -> str:
        """Code that writes one page's rows and its pager, itself base64 and eval'd."""
        links = [f'<a href="{attr(self.page_path(site, n))}">{n + 1}</a>' for n in range(count) if n != number]
        if number + 1 < count:
            links.append(f'<a href="{attr(self.page_path(site, number + 1))}">下一页</a>')
        pager = f'<div class="pager">{" ".join(links)}</div>'
        markup = self.spelling.rows([self.row(site, item) for item in items]) + pager
        code = f"document.getElementById('listBox').innerHTML = {json.dumps(markup, ensure_ascii=False)};"
        return f"{_DECODE}\neval(d('{base64.b64encode(code.encode()).decode()}'));"

    def script(self, site: Site) -> str:
        """The decoded and bound styles' script: one fetch, then the rows written or bound."""
        codes = ",".join(str(ord(c)) for c in site.prefix + self.endpoint)
        title, url, day = self.keys
        if self.style == "decoded":
            write = (f"var rows = JSON.parse(d(text)); var html = ''; rows.forEach(function(r){{ html += '<li><a href=\"'"
                     f" + r.{url} + '\">' + r.{title} + '</a><span>' + r.{day} + '</span></li>'; }});"
                     " document.getElementById('listBox').innerHTML = '<ul>' + html + '</ul>';")
            return (f"{_DECODE}\nvar u = String.fromCharCode({codes});\n"
                    f"fetch(u).then(function(r){{return r.text();}}).then(function(text){{ {write} }});")
        write = ("var box = document.getElementById('listBox'); rows.forEach(function(r){"
                 " var row = document.createElement('div'); row.className = 'item';"
                 f" row.textContent = r.{title} + ' ' + r.{day};"
                 f" row.addEventListener('click', function(){{ location.href = r.{url}; }}); box.appendChild(row); }});")
        return (f"var u = String.fromCharCode({codes});\n"
                f"fetch(u).then(function(r){{return r.json();}}).then(function(rows){{ {write} }});")


# ---------------------------------------------------------------- documents reached by script
class ScriptDocuments(LinkPager):
    """Article pages whose document is reached by script: `downloadFile('123')` through the page's own
    function, a pdf.js viewer whose src a script sets, an <embed> or an <object>; downloads named in
    Content-Disposition in GBK or %-encoding."""

    name = "scriptdocs"

    def place(self, site: Site, item: Item) -> None:
        super().place(site, item)
        style = self.document_style(item)
        if not item.document.is_html and style == "download":
            item.attachment_url = f"{site.prefix}/download.jsp?fileId={item.id}"

    def document_style(self, item: Item) -> str:
        return random.Random(self.spelling.seed + item.id).choice(("download", "viewer", "embed", "object"))

    def article_page(self, site: Site, item: Item) -> str:
        style, url = self.document_style(item), item.attachment_url or ""
        if style == "download":
            function = random.Random(item.id).choice(("downloadFile", "downLoad", "fileDown"))
            body = (f'<p>附件：<a href="javascript:void(0)" onclick="{function}(\'{item.id}\')">'
                    f"{esc(item.document.published_name)}</a></p>"
                    f"<script>var downUrl = '{site.prefix}/download.jsp?fileId=';\n"
                    f"function {function}(id) {{ window.location.href = downUrl + id; }}</script>")
        elif style == "viewer":
            body = (f'<iframe id="pdfViewer" width="100%" height="900"></iframe>\n<script>var path = "{url}";\n'
                    f"document.getElementById('pdfViewer').src = '{site.prefix}/pdfjs/web/viewer.html?file='"
                    " + encodeURIComponent(path);</script>")
        elif style == "embed":
            body = f'<embed src="{attr(url)}" type="application/pdf" width="100%" height="900">'
        else:
            body = f'<object data="{attr(url)}" type="application/pdf" width="100%" height="900"></object>'
        content = (f'<div class="article"><h1>{esc(item.title)}</h1>'
                   f'<div class="info">发布日期：{item.published.isoformat()}</div><div class="content">{body}</div></div>')
        return page_shell(site, item.title, content)

    def attachment_headers(self, site: Site, item: Item) -> dict[str, str]:
        name = item.document.published_name
        style = random.Random(item.id + 7).choice(("gbk-percent", "gbk-raw", "utf8-percent", "rfc5987"))
        if style == "gbk-raw":   # the header's bytes are GBK (http.server writes headers as latin-1)
            return {"Content-Disposition": f'attachment; filename="{name.encode("gb18030").decode("latin-1")}"'}
        if style == "gbk-percent":
            return {"Content-Disposition": f"attachment; filename={quote(name.encode('gb18030'))}"}
        if style == "utf8-percent":
            return {"Content-Disposition": f'attachment; filename="{quote(name)}"'}
        return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}


SHAPE_FAMILIES: dict[str, type[ShapeFamily]] = {
    family.name: family for family in (TrsPager, WcmPager, LinkPager, NextLastPager, ScriptPager, PostBackPager,
                                       AjaxList, ScriptArrayList, FrameList, YearIndex, ScriptDocuments,
                                       RenderedList)
}
