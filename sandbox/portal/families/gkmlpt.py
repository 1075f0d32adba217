"""Guangdong gkmlpt: an HTML shell whose script names a JSON list API, /gkmlpt/api/all/<column>?page=N."""

from __future__ import annotations

import json
import re
from calendar import timegm
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from sandbox.portal.families.base import Family, page_shell
from sandbox.portal.site import Response

if TYPE_CHECKING:
    from sandbox.portal.documents import Item
    from sandbox.portal.site import Site


class Gkmlpt(Family):
    name = "gkmlpt"

    def place(self, site: Site, item: Item) -> None:
        item.article_url = f"{site.prefix}/gkmlpt/content/{item.id // 100000}/{item.id // 1000}/post_{item.id}.html"
        if item.document.is_flipbook:
            self.place_pages(site, item)
        elif not item.document.is_html:
            file_id = 4000000 + item.id
            item.attachment_url = (f"{site.prefix}/attachment/0/{file_id // 1000}/{file_id}/"
                                   f"{file_id}{item.document.extension}")

    def api_path(self, site: Site) -> str:
        return f"{site.prefix}/gkmlpt/api/all/{site.spec.column_id}"

    def answer(self, site: Site, method: str, path: str, body: bytes) -> Response | None:
        if method not in ("GET", "HEAD"):
            return None
        bare = path.split("?", 1)[0]
        if bare == site.list_url:
            return Response.html(self.shell(site), site.last_modified())
        if bare == self.api_path(site):
            return self.api(site, path)
        if re.fullmatch(re.escape(site.prefix) + r"/gkmlpt/api/all/\d+", bare):
            return Response(404, b'{"error":"column not found"}', "application/json; charset=utf-8")
        return None

    def shell(self, site: Site) -> str:
        config = {"SID": site.slug, "COLUMN": site.spec.column_id, "API": self.api_path(site),
                  "PAGE_SIZE": site.spec.page_size}
        script = (f"<script type=\"text/javascript\">window._CONFIG = {json.dumps(config, ensure_ascii=False)};"
                  "</script>\n"
                  f'<script type="text/javascript" src="{site.prefix}/gkmlpt/static/js/app.js"></script>')
        return page_shell(site, "政府信息公开", '<div id="app">正在加载……</div>', script)

    def api(self, site: Site, path: str) -> Response:
        query = parse_qs(urlsplit(path).query)
        try:
            page = int(query.get("page", ["1"])[0])
        except ValueError:
            return Response(400, b'{"error":"page must be an integer"}', "application/json; charset=utf-8")
        pages = site.pages()
        chosen = pages[page - 1] if 1 <= page <= len(pages) else []
        payload = {"articles": [self.article(item) for item in chosen], "total": len(site.items),
                   "page": page, "page_size": site.spec.page_size}
        return Response(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                        "application/json; charset=utf-8", modified=site.last_modified())

    def article(self, item: Item) -> dict:
        attachments = []
        if item.attachment_url:
            attachments.append({"name": item.document.published_name, "url": item.attachment_url})
        published = timegm(item.modified.utctimetuple())
        return {"id": item.id, "title": item.title, "url": item.article_url,
                "first_publish_time": published, "publish_time": published, "attachment": attachments}
