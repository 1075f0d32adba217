"""Article pages as each CMS family renders them: header, navigation, breadcrumb, the
report inside the family's content container, related links and footer.

Containers: TRS `#zoom > .TRS_Editor`; 大汉 jcms `.bt_content > #zoom` inside a
layout table; gkmlpt `.xxgk_content > .article-content` below a 索引号 metadata
table; plain `.xxgk_content`; generic `#content`. Links point at the site's own
report column (the portal serves it); nothing points outside the sandbox.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from sandbox.agencies import Agency

NAV = ("首页", "走进{short}", "政务公开", "政务服务", "互动交流", "专题专栏")


@dataclass(frozen=True)
class Page:
    agency: Agency
    title: str
    published: str           # ISO date
    body: str                # the report's HTML (prose and tables)
    related: tuple[str, ...] = ()  # titles of the site's other articles
    charset: str = "utf-8"
    charset_meta: str = "both"     # both | meta | http-equiv


def short_name(agency: Agency) -> str:
    for suffix in ("人民政府", "办事处"):
        if agency.name.endswith(suffix):
            return agency.name[: -len(suffix)]
    return agency.name


def column_href(agency: Agency) -> str:
    return f"/{agency.slug}{agency.list_path}"


def _head(page: Page, extra_meta: str = "") -> str:
    metas = []
    if page.charset_meta in ("both", "http-equiv"):
        metas.append(f'<meta http-equiv="Content-Type" content="text/html; charset={page.charset}" />')
    if page.charset_meta in ("both", "meta"):
        metas.append(f'<meta charset="{page.charset}" />')
    return (f"<head>\n{chr(10).join(metas)}\n<title>{html.escape(page.title)}_{html.escape(page.agency.name)}</title>\n"
            f'<meta name="viewport" content="width=device-width, initial-scale=1" />\n{extra_meta}'
            '<link rel="stylesheet" href="/static/css/common.css" />\n'
            '<script type="text/javascript" src="/static/js/jquery.min.js"></script>\n</head>')


def _nav(page: Page) -> str:
    items = "".join(f'<li><a href="/{page.agency.slug}/">{item.format(short=short_name(page.agency))}</a></li>'
                    for item in NAV)
    return (f'<div class="header"><div class="logo"><a href="/{page.agency.slug}/">{html.escape(page.agency.name)}</a>'
            '</div><div class="search"><form action="/search" method="get"><input type="text" name="q" '
            'placeholder="请输入关键词" /><button type="submit">搜索</button></form></div></div>\n'
            f'<div class="nav"><ul>{items}</ul></div>')


def _breadcrumb(page: Page, separator: str = " &gt; ") -> str:
    crumbs = [f'<a href="/{page.agency.slug}/">首页</a>', f'<a href="/{page.agency.slug}/">政务公开</a>',
              f'<a href="{column_href(page.agency)}">政府信息公开年报</a>']
    return f'<div class="location">当前位置：{separator.join(crumbs)}</div>'


def _related(page: Page, heading: str = "相关链接") -> str:
    if not page.related:
        return ""
    items = "".join(f'<li><a href="{column_href(page.agency)}">{html.escape(title)}</a></li>' for title in page.related)
    return f'<div class="related"><h4>{heading}</h4><ul>{items}</ul></div>'


def _footer(page: Page) -> str:
    return ('<div class="footer"><p><a href="#">网站地图</a> | <a href="#">联系我们</a> | <a href="#">隐私声明</a></p>'
            f"<p>主办单位：{html.escape(page.agency.name)}　网站标识码：{page.agency.region_code}0001　"
            f"ICP备案号：京ICP备{page.agency.region_code}号</p></div>")


def _tools() -> str:
    return ('<div class="tools">【字体：<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> '
            '<a href="javascript:doZoom(14)">小</a>】 <a href="javascript:window.print()">打印本页</a> '
            '<a href="javascript:window.close()">关闭窗口</a></div>')


def _document(page: Page, head: str, body: str) -> str:
    return ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            f'<html xmlns="http://www.w3.org/1999/xhtml">\n{head}\n<body>\n{body}\n</body>\n</html>\n')


def _article_meta(page: Page) -> str:
    return (f'<meta name="SiteName" content="{html.escape(page.agency.name)}" />\n'
            '<meta name="ColumnName" content="政府信息公开年报" />\n'
            f'<meta name="ArticleTitle" content="{html.escape(page.title)}" />\n'
            f'<meta name="PubDate" content="{page.published} 09:30" />\n'
            f'<meta name="ContentSource" content="{html.escape(page.agency.name)}" />\n')


def trs(page: Page) -> str:
    body = (f"{_nav(page)}\n{_breadcrumb(page)}\n<div class=\"article\">\n"
            f'<h1 class="title">{html.escape(page.title)}</h1>\n'
            f'<div class="info">发布时间：{page.published} 09:30　来源：{html.escape(page.agency.name)}　'
            f'浏览次数：<span id="hits"></span></div>\n{_tools()}\n'
            '<div id="zoom"><div class="TRS_Editor"><style type="text/css">.TRS_Editor P{margin-top:0;'
            'margin-bottom:12px;line-height:1.8;font-family:宋体;font-size:12pt;}</style>\n'
            f'<div class="Custom_UnionStyle">\n{page.body}\n</div></div></div>\n'
            f"{_related(page)}\n</div>\n{_footer(page)}")
    return _document(page, _head(page, _article_meta(page)), body)


def jcms(page: Page) -> str:
    article = (f'<table width="100%" border="0" cellspacing="0" cellpadding="0"><tr><td class="title" align="center">'
               f"{html.escape(page.title)}</td></tr>\n"
               f'<tr><td class="info" align="center">发布日期：{page.published}　信息来源：{html.escape(page.agency.name)}'
               '　【<a href="javascript:window.print()">打印</a>】</td></tr>\n'
               '<tr><td class="bt_content"><div id="zoom"><!--<$[信息内容]>begin-->\n'
               f"{page.body}\n<!--<$[信息内容]>end--></div></td></tr></table>")
    body = (f"{_nav(page)}\n"
            '<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0"><tr>'
            f'<td class="bt_link">{_breadcrumb(page, " &raquo; ")}</td></tr>\n<tr><td>{article}</td></tr>\n'
            f"<tr><td>{_related(page, '相关信息')}</td></tr></table>\n{_footer(page)}")
    return _document(page, _head(page, _article_meta(page)), body)


def gkmlpt(page: Page) -> str:
    index_number = f"1{page.agency.region_code}MB2C{page.published.replace('-', '')[:6]}"
    classify = ('<div class="classify"><table class="table-info">'
                f"<tr><td>索引号：</td><td>{index_number}/2025-00012</td><td>分类：</td><td>政府信息公开年报</td></tr>"
                f"<tr><td>发布机构：</td><td>{html.escape(page.agency.name)}</td><td>成文日期：</td>"
                f"<td>{page.published}</td></tr>"
                f"<tr><td>名称：</td><td colspan=\"3\">{html.escape(page.title)}</td></tr>"
                f"<tr><td>文号：</td><td></td><td>发布日期：</td><td>{page.published}</td></tr></table></div>")
    body = (f"{_nav(page)}\n{_breadcrumb(page)}\n<div class=\"xxgk_content\">\n{classify}\n"
            f'<h1 class="content-title">{html.escape(page.title)}</h1>\n'
            f'<div class="article-content">\n{page.body}\n</div>\n{_tools()}\n{_related(page, "相关文章")}\n</div>\n'
            f"{_footer(page)}")
    return _document(page, _head(page), body)


def plain(page: Page) -> str:
    year, month, day = page.published.split("-")
    body = (f"{_nav(page)}\n{_breadcrumb(page)}\n<div class=\"xxgk_content\">\n"
            f"<h2>{html.escape(page.title)}</h2>\n<div class=\"date\">发布日期：{year}年{month}月{day}日</div>\n"
            f"{page.body}\n</div>\n{_related(page)}\n{_footer(page)}")
    return _document(page, _head(page), body)


def generic(page: Page) -> str:
    body = (f"{_nav(page)}\n{_breadcrumb(page, ' / ')}\n<div class=\"main\"><div class=\"left\">{_related(page, '最新信息')}"
            f'</div><div class="right"><div class="content-title">{html.escape(page.title)}</div>\n'
            f'<div class="content-info">时间：{page.published.replace("-", "/")}　来源：本站</div>\n'
            f'<div id="content">\n{page.body}\n</div></div></div>\n{_footer(page)}')
    return _document(page, _head(page), body)


RENDERERS = {render.__name__: render for render in (trs, jcms, gkmlpt, plain, generic)}   # by CMS family


def render_page(page: Page) -> str:
    return RENDERERS[page.agency.family](page)


def encode_page(page: Page) -> bytes:
    """The page's bytes in its declared charset; GBK pages must be truly GBK."""
    codec = "gbk" if page.charset.lower() in ("gbk", "gb2312") else page.charset
    return render_page(page).encode(codec)
