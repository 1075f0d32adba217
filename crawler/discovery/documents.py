"""Documents an article page reaches only by script: a pdf.js viewer whose `src` a script sets
(`'viewer.html?file=' + encodeURIComponent(path)`), a button `onclick="downloadFile('123')"`
resolved through the page's own function (`download.jsp?fileId=123`), a file path in a script."""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml.html import HtmlElement

from crawler.discovery.model import Record
from crawler.discovery.scripts import (
    PAGE,
    STRING,
    evaluate,
    markup_calls,
    resolve_call,
    script_texts,
    url_functions,
    variables,
)
from crawler.families.base import absolute_url, anchor_title

_STRING_START = re.compile(STRING)


def script_documents(root: HtmlElement, page_url: str, document_url: Callable[[str], str | None],
                     scripts: list[str] | None = None) -> list[Record]:
    """The documents behind the page's script calls and script-built URLs, in page order.

    `document_url` says which URL is a document (and which file a viewer URL shows).
    """
    scripts = script_texts(root) if scripts is None else scripts
    functions = url_functions(scripts)
    found: dict[str, Record] = {}
    for element in root.iter() if functions else ():   # a call resolves only through the page's own functions
        if not isinstance(element.tag, str):
            continue
        code = (element.get("onclick") or "") + " " + (element.get("href") or "")
        for call in markup_calls(code.replace("javascript:", " ")):
            built = resolve_call(call, functions)
            document = document_url(absolute_url(page_url, built)) if built else None
            if document:
                found.setdefault(document, Record(document, anchor_title(element) or element.get("title") or ""))
    known = variables(scripts)
    for text in scripts:
        for literal in _STRING_START.finditer(text):
            value = evaluate(text, literal.start(), known)
            if value is None or PAGE in value[0] or value[0].endswith("="):   # a prefix waiting for its argument
                continue
            document = document_url(absolute_url(page_url, value[0].strip()))
            if document:
                found.setdefault(document, Record(document, ""))
    return list(found.values())
