"""Generic CMSs: a 下一页/尾页 pager (?page=N), and attachments behind a pdf.js viewer or downfile.jsp."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from sandbox.portal.families.base import Family, attr, column_dir, esc, list_entry, page_shell
from sandbox.portal.site import Response, content_disposition

if TYPE_CHECKING:
    from sandbox.portal.documents import Item
    from sandbox.portal.site import Site

VIEWER = "/pdfjs/web/viewer.html"
VIEWER_PAGE = """<!DOCTYPE html>
<html dir="ltr"><head><meta charset="utf-8"><title>PDF.js viewer</title>
<link rel="stylesheet" href="viewer.css"><script src="../build/pdf.js"></script><script src="viewer.js"></script>
</head><body tabindex="1"><div id="outerContainer"><div id="viewerContainer"><div id="viewer" class="pdfViewer">
</div></div></div></body></html>
"""


class Generic(Family):
    name = "generic"

    def list_base(self, site: Site) -> str:
        return urlsplit(site.spec.list_path).path

    def place(self, site: Site, item: Item) -> None:
        if site.spec.style == "viewer":
            folder = f"{site.prefix}{column_dir(self.list_base(site))}{item.published:%Y%m}/"
            item.article_url = f"{folder}t{item.published:%Y%m%d}_{item.id}.html"
            attachment = f"{folder}P0{item.published:%Y%m%d}{item.id}{item.document.extension}"
        else:
            item.article_url = f"{site.prefix}{self.list_base(site).rstrip('/')}/{item.id}"
            attachment = f"{site.prefix}/downfile.jsp?fileid={item.id * 10 + 1}"
        if item.document.is_flipbook:
            self.place_pages(site, item)
        elif not item.document.is_html:
            item.attachment_url = attachment

    def attachment_markup(self, site: Site, item: Item) -> str:
        url, name = item.attachment_url or "", esc(item.document.published_name)
        if site.spec.style == "viewer" and item.document.extension == ".pdf":
            return (f'<iframe src="{attr(site.prefix + VIEWER)}?file={attr(url)}" width="100%" height="900"'
                    f' frameborder="0" title="{attr(item.document.published_name)}"></iframe>')
        if site.spec.style == "viewer":
            return f'<a href="{attr(url)}">{name}</a>'
        return f'<a href="javascript:void(0);" onclick="window.open(\'{attr(url)}\')">{name}</a>'

    def attachment_headers(self, site: Site, item: Item) -> dict[str, str]:
        if site.spec.style == "viewer":
            return {}
        return {"Content-Disposition": content_disposition(item.document.published_name)}

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        if method not in ("GET", "HEAD"):
            return None
        parts = urlsplit(path)
        if site.spec.style == "viewer" and parts.path == site.prefix + VIEWER:
            return Response.html(VIEWER_PAGE, site.changed)
        if parts.path != site.prefix + self.list_base(site):
            return None
        try:
            number = int(parse_qs(parts.query).get("page", ["1"])[0])
        except ValueError:
            return None
        pages = site.pages()
        if not 1 <= number <= len(pages):
            return None
        entries = "\n".join(list_entry(item.article_url, item) for item in pages[number - 1])
        content = (f'<div class="news_list"><h2>政府信息公开工作年度报告</h2><ul>\n{entries}\n</ul></div>\n'
                   f'<div class="pager">{self.pager(site, number, len(pages))}</div>')
        return Response.html(page_shell(site, "政府信息公开工作年度报告", content), site.last_modified())

    def pager(self, site: Site, number: int, count: int) -> str:
        base = site.prefix + self.list_base(site)

        def link(target: int, label: str) -> str:
            if site.spec.go_page:
                return f'<a href="javascript:void(0);" onclick="goPage({target - 1})">{label}</a>'
            return f'<a href="{attr(base)}?page={target}">{label}</a>'

        parts = [link(1, "首页")]
        parts.append(link(number - 1, "上一页") if number > 1 else "<span>上一页</span>")
        parts.append(f"<span>{number}/{count}</span>")
        parts.append(link(number + 1, "下一页") if number < count else "<span>下一页</span>")
        parts.append(link(count, "尾页"))
        if site.spec.go_page:
            parts.append(f"<script>function goPage(n) {{ location.href = '{attr(base)}?page=' + (n + 1); }}</script>")   # pages counted from 0
        return " ".join(parts)
