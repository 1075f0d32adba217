"""TRS WCM: index.html, index_1.html… paged by createPageHTML(); articles at YYYYMM/tYYYYMMDD_id.html."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sandbox.portal.families.base import (
    Family,
    attr,
    column_dir,
    esc,
    list_entry,
    page_shell,
    relative_to,
)
from sandbox.portal.site import Response

if TYPE_CHECKING:
    from sandbox.portal.documents import Item
    from sandbox.portal.site import Site

CREATE_PAGE_HTML = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
  if(_nPageCount == null || _nPageCount <= 1){ return; }
  var nCurrIndex = _nCurrIndex || 0;
  if(nCurrIndex == 0){ document.write("首页&nbsp;上一页&nbsp;"); }
  else {
    document.write("<a href=\\"" + _sPageName + "." + _sPageExt + "\\">首页</a>&nbsp;");
    var prev = nCurrIndex == 1 ? _sPageName + "." + _sPageExt : _sPageName + "_" + (nCurrIndex - 1) + "." + _sPageExt;
    document.write("<a href=\\"" + prev + "\\">上一页</a>&nbsp;");
  }
  if(nCurrIndex + 1 >= _nPageCount){ document.write("下一页&nbsp;尾页"); }
  else {
    document.write("<a href=\\"" + _sPageName + "_" + (nCurrIndex + 1) + "." + _sPageExt + "\\">下一页</a>&nbsp;");
    document.write("<a href=\\"" + _sPageName + "_" + (_nPageCount - 1) + "." + _sPageExt + "\\">尾页</a>");
  }
}
</script>"""


class Trs(Family):
    name = "trs"

    def place(self, site: Site, item: Item) -> None:
        folder = f"{site.prefix}{column_dir(site.spec.list_path)}{item.published:%Y%m}/"
        item.article_url = f"{folder}t{item.published:%Y%m%d}_{item.id}.html"
        if item.document.is_flipbook:
            self.place_pages(site, item)
        elif not item.document.is_html:
            item.attachment_url = f"{folder}P0{item.published:%Y%m%d}{item.id}{item.id % 97:02d}{item.document.extension}"

    def attachment_markup(self, site: Site, item: Item) -> str:
        assert item.attachment_url
        name = item.attachment_url.rsplit("/", 1)[1]
        return (f'<a href="./{attr(name)}" OLDSRC="/protect/{attr(name)}">'
                f"{esc(item.document.published_name)}</a>")

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        index = self.page_index(site, path)
        if index is None or method not in ("GET", "HEAD"):
            return None
        pages = site.pages()
        if index >= len(pages):
            return None
        folder = site.prefix + column_dir(site.spec.list_path)
        entries = "\n".join(list_entry(relative_to(folder, item.article_url), item) for item in pages[index])
        content = (f'{CREATE_PAGE_HTML}\n<div class="list"><h2>政府信息公开年报</h2><ul>\n{entries}\n</ul></div>\n'
                   f'<div class="page"><script type="text/javascript">{self.pager_call(site, len(pages), index)}'
                   "</script></div>")
        return Response.html(page_shell(site, "政府信息公开年报", content), site.last_modified())

    @staticmethod
    def pager_call(site: Site, count: int, index: int) -> str:
        """Some TRS templates pass the numbers literally, others through page variables."""
        if site.spec.style == "variables":
            return (f"var countPage = {count}//共多少页\nvar currentPage = {index}//当前页\n"
                    'createPageHTML(countPage, currentPage, "index", "html");')
        return f'createPageHTML({count}, {index}, "index", "html");'

    def page_index(self, site: Site, path: str) -> int | None:
        folder = site.prefix + column_dir(site.spec.list_path)
        bare = path.split("?", 1)[0]
        if bare in (site.list_url, folder, folder + "index.html"):
            return 0
        match = re.fullmatch(re.escape(folder) + r"index_(\d+)\.html", bare)
        return int(match.group(1)) if match and int(match.group(1)) > 0 else None
