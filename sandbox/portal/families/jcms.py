"""大汉 jcms: /col/colNNN/index.html with an embedded <datastore>; more pages only by POST to dataproxy.jsp."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlsplit

from sandbox.portal.families.base import Family, esc, list_entry, page_shell
from sandbox.portal.site import Response, content_disposition

if TYPE_CHECKING:
    from sandbox.portal.documents import Item
    from sandbox.portal.site import Site

DATAPROXY = "/module/web/jpage/dataproxy.jsp"
DOWNFILE = "/module/download/downfile.jsp"


class Jcms(Family):
    name = "jcms"

    def column_id(self, site: Site) -> str:
        return self.column_id_of(site.spec.list_path)

    @staticmethod
    def column_id_of(list_path: str) -> str:
        match = re.search(r"col(\d+)", list_path)
        return match.group(1) if match else "1"

    def place(self, site: Site, item: Item) -> None:
        day = item.published
        item.article_url = (f"{site.prefix}/art/{day.year}/{day.month}/{day.day}/"
                            f"art_{self.column_id(site)}_{item.id}.html")
        if item.document.is_flipbook:
            self.place_pages(site, item)
        elif not item.document.is_html:
            item.attachment_url = (f"{site.prefix}{DOWNFILE}?classid=0&filename="
                                   f"{item.digest[:20]}{item.document.extension}")

    def attachment_headers(self, site: Site, item: Item) -> dict[str, str]:
        return {"Content-Disposition": content_disposition(item.document.published_name)}

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        bare = path.split("?", 1)[0]
        if bare == site.prefix + DATAPROXY:
            if method != "POST":
                return Response(405, b"dataproxy.jsp answers POST only", "text/plain; charset=utf-8",
                                {"Allow": "POST"})
            return self.dataproxy(site, path, body)
        folder = site.list_url.rsplit("/", 1)[0] + "/"
        if method in ("GET", "HEAD") and bare in (site.list_url, folder, folder + "index.html"):
            return Response.html(self.column_page(site), site.last_modified())
        return None

    def record(self, site: Site, item: Item) -> str:
        return f"<record><![CDATA[\n{list_entry(item.article_url, item)}\n]]></record>"

    def column_page(self, site: Site) -> str:
        column, listed = self.column_id(site), site.listed()
        first = listed[: site.spec.page_size]
        records = "\n".join(self.record(site, item) for item in first)
        unit = str(400000 + int(column) % 100000)
        params = (f"col=1&amp;appid=1&amp;webid=1&amp;path=%2F&amp;columnid={column}&amp;sourceContentType=1"
                  f"&amp;unitid={unit}&amp;webname={quote(site.spec.name)}&amp;permissiontype=0")
        content = (
            f'<div class="list"><h2>政府信息公开年报</h2>\n<div id="{unit}">\n'
            '<script type="text/xml"><datastore>\n'
            f"<nextgroup><![CDATA[<a href=\"{site.prefix}{DATAPROXY}?page=1&amp;{params}\"></a>]]></nextgroup>\n"
            f"<recordset>\n{records}\n</recordset></datastore></script>\n</div></div>\n"
            f'<script type="text/javascript" src="{site.prefix}/module/web/jpage/jpage.js"></script>\n'
            '<script type="text/javascript">\n'
            f"$(document).ready(function(){{ $('#{unit}').jpage({{ dataStore: '#{unit} datastore',"
            f" perPage: {site.spec.page_size}, totalRecord: {len(listed)}, groupSize: 3,"
            f" proxyUrl: '{site.prefix}{DATAPROXY}', barPosition: 'bottom',"
            f" ajaxParam: {{col: 1, appid: 1, webid: 1, path: '/', columnid: {column}, sourceContentType: 1,"
            f" unitid: '{unit}', webname: '{esc(site.spec.name)}', permissiontype: 0}} }}); }});\n"
            "</script>")
        return page_shell(site, "政府信息公开年报", content)

    def dataproxy(self, site: Site, path: str, body: bytes) -> Response:
        """startrecord/endrecord (1-based, inclusive) and perpage, from the query or the form body."""
        fields = parse_qs(urlsplit(path).query)
        fields.update(parse_qs(body.decode("utf-8", "replace")))
        try:
            perpage = int(fields.get("perpage", [site.spec.page_size])[0])
            start = int(fields.get("startrecord", ["1"])[0])
            end = int(fields.get("endrecord", [str(start + perpage * 3 - 1)])[0])
        except ValueError:
            return Response(400, b"startrecord, endrecord and perpage must be integers", "text/plain")
        if "columnid" not in fields:
            return Response(400, b"missing columnid", "text/plain")
        listed = site.listed() if fields["columnid"][0] == self.column_id(site) else []
        chosen = listed[max(start, 1) - 1: max(end, 0)]
        records = "\n".join(self.record(site, item) for item in chosen)
        total_pages = -(-len(listed) // max(perpage, 1))
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n'
               f"<totalrecord>{len(listed)}</totalrecord>\n<totalpage>{total_pages}</totalpage>\n"
               f"<recordset>\n{records}\n</recordset>\n</datastore>\n")
        return Response(200, xml.encode("utf-8"), "text/xml;charset=UTF-8")
