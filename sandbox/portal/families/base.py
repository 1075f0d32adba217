"""What every CMS family shares: the page shell, list entries, article pages, flipbooks."""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.portal.documents import Item
    from sandbox.portal.site import Response, Site


class Family:
    """A CMS family: where it puts documents, and how its lists and articles look."""

    name = "base"

    def place(self, site: Site, item: Item) -> None:
        """Give the item its article URL (and attachment or page URLs)."""
        raise NotImplementedError

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        """List pages and the family's own endpoints; None when the path is not one of them."""
        raise NotImplementedError

    def attachment_markup(self, site: Site, item: Item) -> str:
        return f'<a href="{attr(item.attachment_url or "")}">{esc(item.document.published_name)}</a>'

    def attachment_headers(self, site: Site, item: Item) -> dict[str, str]:
        return {}

    def article_page(self, site: Site, item: Item) -> str:
        """The article that carries an attachment (or a flipbook) rather than being the report."""
        if item.page_urls:
            links = "".join(f'<li><a href="{attr(url)}">第{number}页</a></li>'
                            for number, url in enumerate(sorted(item.page_urls), 1))
            attachment = f'<div class="flipbook"><p>在线阅读：</p><ul>{links}</ul></div>'
        else:
            attachment = f'<div class="attachment"><p>附件：</p><p>{self.attachment_markup(site, item)}</p></div>'
        content = (f'<div class="article"><h1 class="title">{esc(item.title)}</h1>'
                   f'<div class="info">发布时间：{item.published.isoformat()}　来源：{esc(site.spec.name)}</div>'
                   f'<div class="content"><p>现将《{esc(item.title)}》予以公布。</p>{attachment}</div></div>')
        return page_shell(site, item.title, content)

    def place_pages(self, site: Site, item: Item) -> None:
        """A document of several pages (a flipbook, an article paginated in place), one URL each,
        below the site's flipbook (or pages) folder.

        A book with its own index.html is listed by that page (its page links are relative), an
        article paginated in place by its first page (its pager links the others); otherwise the
        family's article page links every page.
        """
        paged = item.document.form == "paged-html"
        folder = f"{site.prefix}/{'pages' if paged else 'flipbook'}/{item.id}/"
        pages = sorted(page for page in item.document.content.iterdir() if page.is_file())  # type: ignore[union-attr]
        first = pages[0] if paged else next((page for page in pages if page.name == "index.html"), None)
        for page in pages:
            if page == first:
                item.article_url, item.article_file = folder + page.name, page
            else:
                item.page_urls[folder + page.name] = page


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def page_shell(site: Site, title: str, content: str, script: str = "", head: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}_{esc(site.spec.name)}</title>{head}</head>\n<body>\n"
        f'<div class="header"><a href="{site.prefix}/">{esc(site.spec.name)}</a>'
        f' <a href="{site.prefix}/search/?q=%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A">站内搜索</a></div>\n'
        f"{content}\n{script}\n"
        '<div class="footer">主办单位：' + esc(site.spec.name) + "</div>\n</body></html>\n"
    )


def list_entry(href: str, item: Item) -> str:
    return (f'<li><a href="{attr(href)}" target="_blank" title="{attr(item.title)}">{esc(item.title)}</a>'
            f"<span>{item.published.isoformat()}</span></li>")


def column_dir(list_path: str) -> str:
    """/a/b/index.html → /a/b/ ; /a/b/ → /a/b/"""
    return list_path.rsplit("/", 1)[0] + "/"


def relative_to(base_dir: str, url: str) -> str:
    """A ./relative link when the target is below base_dir, else the absolute path."""
    return "./" + url[len(base_dir):] if url.startswith(base_dir) else url


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d")
