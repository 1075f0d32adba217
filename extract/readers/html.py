"""HTML → rows: find the report body in a portal page, expand rowspan/colspan into a grid."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import lxml.html
from charset_normalizer import from_bytes
from lxml import etree

from extract.findings import Findings
from extract.model import Cell, Document, ReaderError, Row
from report.filetypes import prints_a_challenge

# Report-body containers of the common CMS families, most specific first.
BODY_SELECTORS = (
    "#zoom", ".TRS_Editor", ".xxgk_content", ".article-content", "#UCAP-CONTENT", ".bt_content",
    ".view.TRS_UEDITOR", ".TRS_UEDITOR", "#content", ".content", ".article", ".main-txt", "article",
)
_DROP = ("script", "style", "noscript", "iframe", "form", "button", "select", "input", "nav", "header", "footer")
_BLOCKS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "article",
                     "blockquote", "pre", "dl", "dt", "dd", "center", "tr", "caption", "figure", "hr"})
# A portal page's source line: 来源：某局　发布时间：… / 发布机构：某局 / 信息来源：某局
_SOURCE_LINE = re.compile(
    r"(?:信息来源|文章来源|来源|发布机构|发布单位|发文机关|发文单位)\s*[:：]\s*"
    r"([^\s|｜:：]{2,40}?)(?=\s|$|[|｜]|发布|时间|日期|浏览|点击|作者|字号|【)")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)


def decode_html(data: bytes) -> str:
    """Decode with the declared charset (GBK and GB2312 read as their superset GB18030)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    declared = _CHARSET.search(data[:4096])
    candidates = []
    if declared:
        name = declared.group(1).decode("ascii", "ignore").lower()
        candidates.append("gb18030" if name in ("gbk", "gb2312", "gb18030", "x-gbk", "cp936") else name)
    candidates += ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def read_html(data: bytes, *, page: int = 1, space_prefix: str = "html") -> Document:
    text = decode_html(data)
    tree = parse_html(text.encode("utf-8"))
    document = Document(reader="html", pages=1, meta_title=_title(tree))
    if is_challenge_page(text, tree):
        raise ReaderError(Findings.CHALLENGE_PAGE, "网站返回了反爬虫验证页面，而不是报告",
                          "the site answered with a bot-challenge page instead of the document")
    document.source_line = source_line(tree)
    body = find_body(tree)
    walker = _Walker(page, space_prefix)
    walker.walk(body)
    walker.flush()
    document.rows = walker.rows
    return document


def parse_html(data: bytes) -> lxml.html.HtmlElement:
    """The whole page as a tree, or ReaderError broken-html: libxml2 stops at a fatal error
    (markup nested deeper than it allows) and silently drops the rest of the page."""
    # huge_tree lifts the nesting limit from 256 to libxml2's hard limit of 2048 levels
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        tree = lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ReaderError(Findings.BROKEN_HTML, f"HTML 无法解析：{exc}", f"the HTML cannot be parsed: {exc}") from exc
    fatal = [error for error in parser.error_log if error.level >= etree.ErrorLevels.FATAL]
    if fatal:
        reason = f"{fatal[0].message.strip()} (line {fatal[0].line})"
        raise ReaderError(Findings.BROKEN_HTML, f"HTML 无法完整解析，其后内容丢失：{reason}",
                          f"the HTML cannot be read to its end, the rest would be lost: {reason}")
    return tree


def read_flipbook(directory: Path) -> Document:
    """A report published as a directory of HTML pages, read in file-name order."""
    pages = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in (".html", ".htm"))
    return read_html_pages([page.read_bytes() for page in pages])


def read_html_pages(pages: Sequence[bytes]) -> Document:
    """One report over several HTML pages, in reading order (a flipbook, an article with 下一页 …):
    the rows of every page as one document; each row's provenance names its page (part), 1-based."""
    if not pages:
        raise ReaderError(Findings.EMPTY_FILE, "没有 HTML 页面", "no HTML pages to read")
    document = Document(reader="html-pages", pages=len(pages))
    for number, data in enumerate(pages, start=1):
        part = read_html(data, page=number, space_prefix=f"p{number}")
        document.meta_title = document.meta_title or part.meta_title
        document.source_line = document.source_line or part.source_line
        document.rows.extend(part.rows)
    return document


def source_line(tree: lxml.html.HtmlElement) -> str | None:
    """What the page's source line (来源：…) names, before the body is cut out of the page."""
    body = tree.find("body")
    texts = body.xpath(".//text()[not(ancestor::script or ancestor::style)]") if body is not None else []
    match = _SOURCE_LINE.search("\n".join(texts))
    return match.group(1) if match else None


def is_challenge_page(text: str, tree: lxml.html.HtmlElement) -> bool:
    """A WAF's JavaScript/cookie challenge served with status 200: scripts and almost no text."""
    body = tree.find("body")
    shown = body.xpath(".//text()[not(ancestor::script or ancestor::style)]") if body is not None else []
    visible = "".join("".join(shown).split())
    return len(visible) < 200 and prints_a_challenge(text)


def _title(tree: lxml.html.HtmlElement) -> str | None:
    for xpath in ('//meta[@name="ArticleTitle"]/@content', "//h1//text()", "//title//text()"):
        found = [t.strip() for t in tree.xpath(xpath) if t and t.strip()]
        if found:
            return "".join(found) if xpath.startswith("//h1") else found[0]
    return None


def find_body(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    for tag in _DROP:
        for element in tree.iter(tag):
            element.drop_tree()
    for selector in BODY_SELECTORS:
        try:
            found = tree.cssselect(selector)
        except Exception:  # an unsupported selector in this lxml build
            continue
        for element in found:
            if len(element.text_content().strip()) > 50:
                return element
    body = tree.find("body")
    return body if body is not None else tree


class _Walker:
    """Depth-first walk that turns block elements into lines and tables into grid rows."""

    def __init__(self, page: int, space_prefix: str) -> None:
        self.rows: list[Row] = []
        self.line: list[str] = []
        self.page = page
        self.prefix = space_prefix
        self.tables = 0

    def flush(self) -> None:
        text = "".join(self.line).strip()
        self.line = []
        if text:
            self.rows.append(Row([Cell(text)], self.page))

    def walk(self, root: lxml.html.HtmlElement) -> None:
        # iterative: markup may be nested far deeper than Python's recursion limit
        walker = etree.iterwalk(root, events=("start", "end"))
        for event, element in walker:
            tag = element.tag if isinstance(element.tag, str) else ""
            if event == "start" and tag == "table" and not _has_nested_table(element):
                self.flush()
                self._table(element)
                walker.skip_subtree()
            elif event == "start":
                if tag == "br" or tag in _BLOCKS:
                    self.flush()
                if tag and element.text and tag not in ("table", "tbody", "thead", "tr"):
                    self.line.append(element.text)
            else:
                if tag in _BLOCKS or tag in ("td", "th"):
                    self.flush()
                if element is not root and element.tail:
                    self.line.append(element.tail)

    def _table(self, table: lxml.html.HtmlElement) -> None:
        self.tables += 1
        space = f"{self.prefix}-t{self.tables}"
        taken: dict[tuple[int, int], bool] = {}
        for r, tr in enumerate(table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")):
            cells: list[Cell] = []
            c = 0
            for td in tr.xpath("./td|./th"):
                while taken.get((r, c)):
                    c += 1
                colspan = _span(td.get("colspan"))
                rowspan = _span(td.get("rowspan"))
                for dr in range(rowspan):
                    for dc in range(colspan):
                        taken[(r + dr, c + dc)] = True
                cells.append(Cell(_cell_text(td), float(c), float(c + colspan), y0=float(r), y1=float(r + rowspan)))
                c += colspan
            if any(cell.text for cell in cells):
                self.rows.append(Row(cells, self.page, space, gridded=True, table=self.tables))


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(str(value).strip()), 200))
    except (TypeError, ValueError):
        return 1


def _cell_text(td: lxml.html.HtmlElement) -> str:
    parts = []
    for node in td.iter():
        if node.tag == "br":
            parts.append("\n")
        if isinstance(node.tag, str) and node.tag in ("p", "div") and parts:
            parts.append("\n")
        if node.text and isinstance(node.tag, str):
            parts.append(node.text)
        if node is not td and node.tail:
            parts.append(node.tail)
    return re.sub(r"[ \t\r\f\v\u3000\xa0]+", " ", "".join(parts)).strip()


def _has_nested_table(table: lxml.html.HtmlElement) -> bool:
    return bool(table.xpath(".//table"))
