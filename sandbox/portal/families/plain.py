"""Plain paginated lists: /1.html, /2.html… (numbered files) or list?page=N (a query parameter)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from sandbox.portal.families.base import Family, attr, column_dir, list_entry, page_shell
from sandbox.portal.site import Response

if TYPE_CHECKING:
    from sandbox.portal.documents import Item
    from sandbox.portal.site import Site


class Plain(Family):
    name = "plain"

    @staticmethod
    def numbered(site: Site) -> bool:
        return re.search(r"/\d+\.html$", site.spec.list_path) is not None

    def place(self, site: Site, item: Item) -> None:
        folder = site.prefix + column_dir(site.spec.list_path)
        if self.numbered(site):
            snowflake = 1_900_000_000_000_000_000 + int(item.digest[:14], 16) % 10**17
            item.article_url = f"{folder}{snowflake}.html"
        else:
            item.article_url = f"{folder}{item.published.year - 1}/zfbm/{item.published:%Y%m}/{item.digest}.shtml"
        if item.document.is_flipbook:
            self.place_pages(site, item)
        elif not item.document.is_html:
            item.attachment_url = (f"{site.prefix}/uploadfile/{item.published:%Y%m}/"
                                   f"{item.digest[:24]}{item.document.extension}")

    def page_href(self, site: Site, number: int) -> str:
        if self.numbered(site):
            return f"{number}.html"
        base = urlsplit(site.spec.list_path).path.rsplit("/", 1)[1]
        return f"{base}?page={number}"

    def page_number(self, site: Site, path: str) -> int | None:
        folder = site.prefix + column_dir(site.spec.list_path)
        if self.numbered(site):
            match = re.fullmatch(re.escape(folder) + r"(\d{1,4})\.html", path.split("?", 1)[0])
            return int(match.group(1)) if match else None
        parts = urlsplit(path)
        if parts.path != site.prefix + urlsplit(site.spec.list_path).path:
            return None
        try:
            return int(parse_qs(parts.query).get("page", ["1"])[0])
        except ValueError:
            return None

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        number = self.page_number(site, path)
        pages = site.pages()
        if number is None or method not in ("GET", "HEAD") or not 1 <= number <= len(pages):
            return None
        entries = "\n".join(list_entry(item.article_url, item) for item in pages[number - 1])
        pager = [f'<a href="{attr(self.page_href(site, 1))}">首页</a>']
        if number > 1:
            pager.append(f'<a href="{attr(self.page_href(site, number - 1))}">上一页</a>')
        pager += [f'<a href="{attr(self.page_href(site, n))}">{n}</a>' if n != number else f"<b>{n}</b>"
                  for n in range(1, len(pages) + 1)]
        if number < len(pages):
            pager.append(f'<a href="{attr(self.page_href(site, number + 1))}">下一页</a>')
        pager.append(f'<a href="{attr(self.page_href(site, len(pages)))}">末页</a> 共{len(pages)}页')
        content = ('<div class="list"><h2>政府信息公开年报</h2>'
                   f'<ul>\n{entries}\n</ul></div>\n<div class="pagination">{" ".join(pager)}</div>')
        return Response.html(page_shell(site, "政府信息公开年报", content), site.last_modified())
