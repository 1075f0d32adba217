"""The other pages of a list, from pagers of every common kind.

- TRS `createPageHTML(count, current, "index", "html")` and the WCM variables
  (`var pagecount = N; var pagename = "index"; var pageext = "html"`), with no pager links;
- ASP.NET AspNetPager links `javascript:__doPostBack('Pager','N')`: a POST of the page's form
  with its hidden fields (`__VIEWSTATE` …), `__EVENTTARGET` and `__EVENTARGUMENT`;
- numbered links of the page's own template (`index_N.html`, `N.html`, `?page=N`, `pageNo=N`),
  下一页/末页/尾页 links, and links that call a page function building the URL (`goPage(3)`);
- a printed total (`共N页`, `页次：1/N`) over the template of the page or of its pager function.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from crawler.discovery.model import Follow
from crawler.discovery.records import PageLink, page_links
from crawler.discovery.scripts import UrlFunction, markup_calls, script_texts, url_functions
from crawler.families.base import LAST_TEXTS, NEXT_TEXTS, absolute_url, node_text, page_template

_CREATE_PAGE = re.compile(r"createPageHTML\(\s*([\w'\"]+)\s*,\s*([\w'\"]+)\s*,\s*['\"]([\w-]+)['\"]\s*,"
                          r"\s*['\"](\w+)['\"]")
_WCM_COUNT = re.compile(r"\b(?:var\s+)?(?:pagecount|countPage|page_count|totalPage)\s*=\s*['\"]?(\d+)", re.IGNORECASE)
_WCM_NAME = re.compile(r"\b(?:var\s+)?(?:pagename|page_name)\s*=\s*['\"]([\w-]+)['\"]", re.IGNORECASE)
_WCM_EXT = re.compile(r"\b(?:var\s+)?(?:pageext|page_ext)\s*=\s*['\"](\w+)['\"]", re.IGNORECASE)
_POSTBACK = re.compile(r"__doPostBack\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]*)['\"]\s*\)")
_TOTAL = re.compile(r"共\s*(\d{1,4})\s*页|页次\s*[:：]?\s*\d+\s*/\s*(\d{1,4})|第\s*\d+\s*/\s*(\d{1,4})\s*页|"
                    r"\b\d+\s*/\s*(\d{1,4})\s*页")
MAX_PAGES = 500
# the elements that can call a page function, found by libxml2 (a Python proxy per element of the
# page was most of the cost of the readers that looked at every one)
_CODE_CARRIERS = etree.XPath("descendant-or-self::*[contains(@href, '(') or contains(@onclick, '(')]")   # calls
_POSTBACK_CARRIERS = etree.XPath("descendant-or-self::*[self::a or self::input or self::span or self::button]"
                                 "[contains(@href, '__doPostBack') or contains(@onclick, '__doPostBack')]")


def pager_follows(root: HtmlElement, page_url: str, scripts: list[str], functions: dict[str, UrlFunction],
                  limit: int = MAX_PAGES, links: list[PageLink] | None = None) -> list[Follow]:
    """Every other page of the list that `root` is one page of."""
    urls = script_pager(scripts, page_url, limit)
    urls += link_pager(root, page_url, functions, links)
    urls += total_pager(root, page_url, functions, limit)
    follows = [Follow(url) for url in dict.fromkeys(urls) if url != page_url]
    return follows + postback_pager(root, page_url)


def pager_kinds(root: HtmlElement, page_url: str) -> list[str]:
    """The kinds of pager `root` carries that discovery follows, by name (what `sources probe` prints)."""
    scripts = script_texts(root)
    functions = url_functions(scripts)
    links = page_links(root, page_url, functions)
    kinds = []
    if script_pager(scripts, page_url):
        kinds.append("createPageHTML" if _CREATE_PAGE.search("\n".join(scripts)) else "WCM pagecount")
    if postback_pager(root, page_url):
        kinds.append("__doPostBack")
    if any(_calls_pager_function(link.anchor, functions) for link in links):
        kinds.append("pager function")
    if [url for url in link_pager(root, page_url, functions, links) if url != page_url]:
        kinds.append("pager links")
    if total_pager(root, page_url, functions):
        kinds.append("共N页")
    return kinds


def script_pager(scripts: list[str], page_url: str, limit: int = MAX_PAGES) -> list[str]:
    """TRS createPageHTML(…) or the WCM variables: name.ext, name_1.ext … name_(N-1).ext."""
    text = "\n".join(scripts)
    call = _CREATE_PAGE.search(text)
    count: int | None = None
    name = ext = None
    if call:
        count = _number(call.group(1), text)
        name, ext = call.group(3), call.group(4)
    else:
        counted = _WCM_COUNT.search(text)
        named = counted and _WCM_NAME.search(text)
        extended = named and _WCM_EXT.search(text)
        if counted and named and extended:
            count, name, ext = int(counted.group(1)), named.group(1), extended.group(1)
    if not count or not name or not ext:
        return []
    pages = min(count, limit)
    return [absolute_url(page_url, f"{name}.{ext}")] + [absolute_url(page_url, f"{name}_{n}.{ext}")
                                                         for n in range(1, pages)]


def _number(token: str, text: str) -> int | None:
    token = token.strip("'\"")
    if token.isdigit():
        return int(token)
    match = re.search(rf"\b{re.escape(token)}\s*=\s*['\"]?(\d+)", text)
    return int(match.group(1)) if match else None


def link_pager(root: HtmlElement, page_url: str, functions: dict[str, UrlFunction],
               links: list[PageLink] | None = None) -> list[str]:
    """Pager links: 下一页/尾页 and numbered links of the page's template, plain or built by a page function."""
    template = page_template(page_url)
    found = []
    for link in page_links(root, page_url, functions) if links is None else links:
        url = link.url
        if not url:
            continue
        text = link.title.strip().lower()
        scripted = _calls_pager_function(link.anchor, functions)
        numbered = text.isdigit() and page_template(url) is not None and _same_folder(url, page_url)
        if text in NEXT_TEXTS or text in LAST_TEXTS or scripted or numbered or (
                template and page_template(url) == template):
            found.append(url)
    return found


def _same_folder(url: str, page_url: str) -> bool:
    return url.split("?", 1)[0].rsplit("/", 1)[0] == page_url.split("?", 1)[0].rsplit("/", 1)[0]


def _markup_code(element: HtmlElement) -> str:
    """The script an element runs when clicked: its href and its onclick."""
    return (element.get("href") or "") + " " + (element.get("onclick") or "")


def _calls_pager_function(anchor: HtmlElement, functions: dict[str, UrlFunction]) -> bool:
    if not functions:
        return False
    code = _markup_code(anchor)
    return any(call.name in functions and call.args and call.args[0].isdigit() for call in markup_calls(code))


def total_pager(root: HtmlElement, page_url: str, functions: dict[str, UrlFunction], limit: int = MAX_PAGES) -> list[str]:
    """共N页 with a template to number: a query parameter of the page (1…N) or the page's pager function."""
    # every _TOTAL match holds 页, which most list pages never print: libxml2's own text of the page
    # (no separators, its tail too) tells so before the Python join the pattern needs
    if "页" not in etree.tostring(root, method="text", encoding="unicode"):
        return []
    total = _TOTAL.search(" ".join(node_text(root)))   # what itertext() gives, without a proxy per element
    if not total:
        return []
    count = min(int(next(g for g in total.groups() if g)), limit)
    template = page_template(page_url)
    if template and "?" in template and "{n}" in template.split("?", 1)[1]:
        return [template.replace("{n}", str(n)) for n in range(1, count + 1)]
    pager = _pager_function(root, functions)
    if pager is not None:
        return [absolute_url(page_url, pager.url_for(str(n))) for n in range(1, count + 1)]
    return []


def _pager_function(root: HtmlElement, functions: dict[str, UrlFunction]) -> UrlFunction | None:
    """The page function the pager calls with a page number (or, with no calls, the only list-page builder)."""
    for element in _CODE_CARRIERS(root):
        code = _markup_code(element)
        for call in markup_calls(code):
            if call.name in functions and call.args and call.args[0].isdigit():
                return functions[call.name]
    builders = [f for f in functions.values() if re.search(r"\.s?html?$|[?&](page\w*|p|pn)=\x00", f.template, re.I)]
    return builders[0] if len(builders) == 1 else None


_DEAD_TARGET = re.compile(r"^\s*(?:#.*|javascript:\s*(?:void\s*\(\s*0?\s*\)|;)?\s*;?)?\s*$", re.IGNORECASE)


def visible_pager(root: HtmlElement) -> str | None:
    """What on the page says the list goes on — a printed total of two or more pages (共N页),
    or a live 下一页/尾页 link — or None. A single page's greyed-out 下一页 (no target) is not."""
    total = _TOTAL.search(" ".join(text for element in root.iter()
                                   if element.tag not in ("script", "style") and isinstance(element.tag, str)
                                   for text in (element.text, element.tail) if text))
    if total and int(next(g for g in total.groups() if g)) > 1:
        return total.group(0)
    for anchor in root.iter("a"):
        words = "".join(anchor.itertext()).strip().lower()
        target = (anchor.get("href") or "") + (anchor.get("onclick") or "")
        if words in NEXT_TEXTS | LAST_TEXTS and target and not _DEAD_TARGET.match(target):
            return words
    return None


def postback_pager(root: HtmlElement, page_url: str) -> list[Follow]:
    """ASP.NET pager links: a POST of the link's form per page, as `__doPostBack(target, argument)` sends it."""
    follows = []
    for element in _POSTBACK_CARRIERS(root):
        code = _markup_code(element)
        match = _POSTBACK.search(code)
        if not match:
            continue
        form = _form_of(element, root)
        if form is None:
            continue
        action = absolute_url(page_url, form.get("action") or page_url)
        fields = [(name, value) for name, value in _hidden_fields(form)
                  if name not in ("__EVENTTARGET", "__EVENTARGUMENT")]
        fields += [("__EVENTTARGET", match.group(1)), ("__EVENTARGUMENT", match.group(2))]
        follows.append(Follow(action, "page", "POST", tuple(fields)))
    return list({follow.key: follow for follow in follows}.values())


def _form_of(element: HtmlElement, root: HtmlElement) -> HtmlElement | None:
    for ancestor in element.iterancestors("form"):
        return ancestor
    forms = [f for f in root.iter("form") if any(i.get("name") == "__VIEWSTATE" for i in f.iter("input"))]
    return forms[0] if forms else None


def _hidden_fields(form: HtmlElement) -> list[tuple[str, str]]:
    return [(i.get("name") or "", i.get("value") or "") for i in form.iter("input")
            if i.get("name") and (i.get("type") or "text").lower() == "hidden"]
