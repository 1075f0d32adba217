"""Reading a page's scripts statically: string variables, URL expressions, URL-building functions,
and the data requests (`$.ajax`, `$.get`, `fetch`, `XMLHttpRequest`) a list page would make.

Nothing is executed. An expression is a chain of string literals, template literals, known
variables and `encodeURIComponent(x)` joined by `+`; the page number is left as a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from lxml.html import HtmlElement

PAGE = "\x00page\x00"          # where the page number goes in a URL built by a script
STRING = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|`(?:[^`\\]|\\.)*`"
_VARIABLE = re.compile(rf"(?:\b(?:var|let|const)\s+|[;{{}}\n]\s*)([A-Za-z_$][\w$]*)\s*=\s*({STRING}|-?\d+)\s*[;,\n]")
_TOKEN = re.compile(
    rf"\s*(?:(?P<str>{STRING})|(?P<wrap>(?:encodeURIComponent|encodeURI|escape|String|parseInt)\s*\(\s*"
    r"(?P<inner>[A-Za-z_$][\w$.]*|\d+)\s*\))|(?P<id>[A-Za-z_$][\w$.]*)|(?P<num>\d+))\s*")
_PLUS = re.compile(r"\s*\+\s*")
_PAGE_NAME = re.compile(r"^(page|pageno|pagenum|page_no|pageindex|pageidx|curpage|currentpage|cur|p|pn|pagenumber|"
                        r"n|i|num|index|idx|current|pg)$", re.IGNORECASE)
_PAGE_PARAM = re.compile(r"^(page|pageno|pagenum|page_no|pageindex|page_index|curpage|cur_page|currentpage|p|pn|"
                         r"pagenumber|pg|page\.?index|current|pagenow|nowpage)$", re.IGNORECASE)
_SIZE_PARAM = re.compile(r"^(pagesize|page_size|size|rows|limit|perpage|per_page|pernum|num|count)$", re.IGNORECASE)
# A function definition is found from its keyword or its arrow (plain substrings, found fast) and
# its head is read backwards from there (the text before the mark, reversed): one pattern tried at
# every character of a page's scripts cost ~0.1 µs per character, more than the rest of their
# reading, and inline scripts run to tens of kilobytes.
_FUNCTION_MARK = re.compile(r"function|=>")
_NAMED_FUNCTION = re.compile(r"function\s+([A-Za-z_$][\w$]*)\s*\(([^)]*)\)\s*\{")
_ANONYMOUS_FUNCTION = re.compile(r"function\s*\(([^)]*)\)\s*\{")
_ARROW_BODY = re.compile(r"=>\s*\{")
_ASSIGNED_REVERSED = re.compile(r"\s*=\s*([\w$.]*[A-Za-z_$])")                        # `name = `, reversed
_ARROW_HEAD_REVERSED = re.compile(r"\s*\)?([\w$\s,]*)\(?\s*=\s*([\w$]*[A-Za-z_$])")   # `name = (a, b) `, reversed
_LOOK_BACK = 256   # characters before a mark that a definition's head may take
_CALL = re.compile(r"\$\.(?P<jq>ajax|get|post|getJSON)\s*\(|\bfetch\s*\(|"
                   r"\.open\s*\(\s*['\"](?P<verb>GET|POST)['\"]\s*,", re.IGNORECASE)
_TEMPLATE_PART = re.compile(r"\$\{\s*([^}]+?)\s*\}")


@dataclass(frozen=True)
class Call:
    """A call of a page function from markup: `downloadFile('123')`, `goPage(3)`."""

    name: str
    args: tuple[str, ...]


_MARKUP_CALL = re.compile(rf"([A-Za-z_$][\w$.]*)\s*\(\s*((?:(?:{STRING}|-?\d+)\s*,?\s*)*)\)")
_ARG = re.compile(rf"{STRING}|-?\d+")


def script_texts(root: HtmlElement) -> list[str]:
    """The text of every inline <script> of a page."""
    return [text for text in (s.text_content() for s in root.iter("script")) if text and text.strip()]


def variables(scripts: list[str]) -> dict[str, str]:
    """`var name = 'literal'` / `name = 12` assignments, the last one winning."""
    found: dict[str, str] = {}
    for text in scripts:
        for match in _VARIABLE.finditer(text):
            found[match.group(1)] = _literal(match.group(2))
    return found


def _literal(token: str) -> str:
    if token[:1] in "'\"`":
        inner = token[1:-1]
        return re.sub(r"\\(.)", r"\1", inner) if "\\" in inner else inner
    return token


def evaluate(text: str, start: int, known: dict[str, str], page_names: tuple[str, ...] = ()) -> tuple[str, int] | None:
    """The string a `+` chain starting at `start` builds, and where it ends; None if a part is unknown.

    Identifiers in `page_names` (and, failing a definition, page-like names) become `PAGE`.
    """
    parts: list[str] = []
    position = start
    while True:
        match = _TOKEN.match(text, position)
        if not match:
            break
        token = match.group("str") or match.group("inner") or match.group("id") or match.group("num")
        value = _value(token, known, page_names)
        if value is None:
            return None
        parts.append(value)
        position = match.end()
        plus = _PLUS.match(text, position)
        if not plus or text.startswith("++", plus.start()) or not text[plus.end():plus.end() + 1].strip():
            break
        position = plus.end()
    return ("".join(parts), position) if parts else None


def _value(token: str, known: dict[str, str], page_names: tuple[str, ...]) -> str | None:
    if token[:1] == "`":
        body = token[1:-1]
        out = []
        last = 0
        for part in _TEMPLATE_PART.finditer(body):
            inner = _value(part.group(1), known, page_names)
            if inner is None:
                return None
            out += [body[last:part.start()], inner]
            last = part.end()
        return "".join(out) + body[last:]
    if token[:1] in "'\"" or token.isdigit():
        return _literal(token)
    if token in page_names:
        return PAGE
    if token in known:
        return known[token]
    leaf = token.rsplit(".", 1)[-1]
    return PAGE if _PAGE_NAME.match(leaf) else None


def balanced(text: str, start: int, opening: str = "(", closing: str = ")") -> str:
    """The text from `start` (just after an opening bracket) to its closing bracket, strings skipped."""
    depth, quote, escaped = 1, "", -1
    for match in _bracket_marks(opening, closing).finditer(text, start):
        position, char = match.start(), match.group()
        if position == escaped:
            continue
        if quote:
            if char == "\\":
                escaped = position + 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return text[start:position]
    return text[start:]


@lru_cache(maxsize=8)
def _bracket_marks(opening: str, closing: str) -> re.Pattern[str]:
    """The characters `balanced` acts on: quotes, backslashes and the two brackets (the rest is skipped in C)."""
    return re.compile("[" + re.escape("\\'\"`" + opening + closing) + "]")


def function_definitions(text: str) -> Iterator[tuple[str, list[str], int]]:
    """Each function a script defines: its name, its parameters and where its body starts
    (`function name(a) {`, `name = function (a) {`, `name = (a) => {`, `name = a => {`)."""
    for mark in _FUNCTION_MARK.finditer(text):
        position = mark.start()
        head = text[max(0, position - _LOOK_BACK):position][::-1]
        if mark.group() == "=>":
            arrow, body = _ARROW_HEAD_REVERSED.match(head), _ARROW_BODY.match(text, position)
            if arrow and body:
                yield arrow.group(2)[::-1], _parameters(arrow.group(1)[::-1]), body.end()
            continue
        assigned, anonymous = _ASSIGNED_REVERSED.match(head), _ANONYMOUS_FUNCTION.match(text, position)
        if assigned and anonymous:
            yield assigned.group(1)[::-1], _parameters(anonymous.group(1)), anonymous.end()
        elif named := _NAMED_FUNCTION.match(text, position):
            yield named.group(1), _parameters(named.group(2)), named.end()


def _parameters(listed: str) -> list[str]:
    return [name.strip() for name in listed.split(",")]


# ---------------------------------------------------------------- URL-building functions
@dataclass(frozen=True)
class UrlFunction:
    """A page function that turns its argument into a URL: `prefix + arg + suffix`."""

    name: str
    template: str            # with PAGE where the argument goes
    argument: int = 0        # which argument
    special: tuple[tuple[str, str], ...] = ()   # argument → URL of a branch `if (n == 1) location = '…'`

    def url_for(self, value: str) -> str:
        return dict(self.special).get(value) or self.template.replace(PAGE, value)


def url_functions(scripts: list[str]) -> dict[str, UrlFunction]:
    """Functions whose body builds a URL from one of their parameters (pagers, downloads, viewers)."""
    known = tuple(variables(scripts).items())
    found: dict[str, UrlFunction] = {}
    for text in scripts:
        found.update(_url_functions_in(text, known))
    return found


@lru_cache(maxsize=128)   # the pages of one site carry the same scripts (a few MB at most)
def _url_functions_in(text: str, known_variables: tuple[tuple[str, str], ...]) -> tuple[tuple[str, UrlFunction], ...]:
    known = dict(known_variables)
    found = []
    for dotted, params, body_start in function_definitions(text):
        name = dotted.rsplit(".", 1)[-1]
        body = balanced(text, body_start, "{", "}")
        for index, param in enumerate(params):
            if not param:
                continue
            template = _built_url(body, known, param)
            if template:
                found.append((name, UrlFunction(name, template, index, _special_cases(body, known, param))))
                break
    return tuple(found)


def _built_url(body: str, known: dict[str, str], param: str) -> str | None:
    for token in re.finditer(STRING + r"|[A-Za-z_$][\w$]*", body):
        if token.group()[:1] not in "'\"`" and token.group() != param and token.group() not in known:
            continue
        value = evaluate(body, token.start(), known, (param,))
        if value and PAGE in value[0] and looks_like_url(value[0].replace(PAGE, "1")):
            return value[0]
    return None


def _special_cases(body: str, known: dict[str, str], param: str) -> tuple[tuple[str, str], ...]:
    """`if (n == 1) { location.href = 'index.html'; … }`: the URL one argument value goes to instead."""
    cases = []
    for branch in re.finditer(rf"if\s*\(\s*{re.escape(param)}\s*={{2,3}}\s*['\"]?(\d+)['\"]?\s*\)\s*\{{?", body):
        block = body[branch.end():branch.end() + 200].split("}", 1)[0].split(";")[0]
        for literal in re.finditer(STRING, block):
            value = evaluate(block, literal.start(), known)
            if value and PAGE not in value[0] and looks_like_url(value[0]):
                cases.append((branch.group(1), value[0]))
                break
    return tuple(cases)


def looks_like_url(text: str) -> bool:
    text = text.strip()
    if not text or any(c in text for c in " \t\n<>{}|\\^") or text.startswith(("javascript:", "#", "mailto:")):
        return False
    return text.startswith(("http://", "https://", "/", "./", "../", "?")) or bool(
        re.search(r"\.(s?html?|jsp|aspx?|php|do|action|json|pdf|docx?|xlsx?|wps|ofd)\b|[/?=]", text))


def markup_calls(code: str) -> Iterator[Call]:
    """Calls in an href="javascript:…" or onclick: `goPage(3)`, `downloadFile('123', 'x')`."""
    if not code or "(" not in code:
        return
    for match in _MARKUP_CALL.finditer(code or ""):
        yield Call(match.group(1).rsplit(".", 1)[-1], tuple(_literal(a) for a in _ARG.findall(match.group(2))))


def resolve_call(call: Call, functions: dict[str, UrlFunction]) -> str | None:
    function = functions.get(call.name)
    if function is None or function.argument >= len(call.args):
        return None
    return function.url_for(call.args[function.argument])


# ---------------------------------------------------------------- data requests
@dataclass
class DataRequest:
    url: str                             # may hold PAGE
    method: str = "GET"
    params: dict[str, str] = field(default_factory=dict)    # may hold PAGE
    page_param: str | None = None


def data_requests(scripts: list[str]) -> list[DataRequest]:
    """The requests for list data that the scripts make: endpoint, method, parameters, page parameter."""
    known = variables(scripts)
    found = []
    for text in scripts:
        for match in _CALL.finditer(text):
            arguments = balanced(text, match.end())
            request = _request(arguments, known, (match.group("jq") or "").lower(), (match.group("verb") or "").upper())
            if request is not None:
                found.append(request)
    return found


def _request(arguments: str, known: dict[str, str], jquery: str, verb: str) -> DataRequest | None:
    method = "POST" if jquery == "post" or verb == "POST" else "GET"
    options = arguments
    head = evaluate(arguments, 0, known)
    if head is not None:
        url = head[0]
        options = arguments[head[1]:]
    else:
        url_key = re.search(r"\burl\s*:\s*", arguments)
        value = evaluate(arguments, url_key.end(), known) if url_key else None
        if value is None:
            return None
        url = value[0]
    if not looks_like_url(url.replace(PAGE, "1")):
        return None
    kind = re.search(r"\b(?:type|method)\s*:\s*['\"](post|get)['\"]", options, re.IGNORECASE)
    if kind:
        method = kind.group(1).upper()
    positional = re.match(r"\s*,\s*\{", options) if head is not None else None   # $.post(url, {…}, callback)
    params = _pairs_of(balanced(options, positional.end(), "{", "}"), known) if positional else _data_object(
        options, known)
    return DataRequest(url, method, params, _page_param(url, params))


def _data_object(options: str, known: dict[str, str]) -> dict[str, str]:
    start = re.search(r"\b(?:data|body|params)\s*:\s*(?:JSON\.stringify\(\s*|new\s+URLSearchParams\(\s*)?\{", options)
    if not start:
        body = re.search(r"\b(?:data|body)\s*:\s*", options)
        value = evaluate(options, body.end(), known) if body else None
        return dict(_pairs(value[0])) if value else {}
    return _pairs_of(balanced(options, start.end(), "{", "}"), known)


def _pairs_of(text: str, known: dict[str, str]) -> dict[str, str]:
    """The `name: value` pairs of an object literal whose values are literals or known variables."""
    params = {}
    for pair in re.finditer(r"(?:(['\"])([\w.\[\]-]+)\1|([\w$]+))\s*:\s*", text):
        name = pair.group(2) or pair.group(3)
        value = evaluate(text, pair.end(), known, (name,) if _PAGE_PARAM.match(name) else ())
        if value is not None:
            params[name] = value[0]
    return params


def _pairs(query: str) -> list[tuple[str, str]]:
    return [(k, v) for k, _, v in (part.partition("=") for part in query.lstrip("?").split("&")) if k]


def _page_param(url: str, params: dict[str, str]) -> str | None:
    for name, value in [*params.items(), *_pairs(url.partition("?")[2])]:
        if PAGE in value:
            return name
    for name, value in [*params.items(), *_pairs(url.partition("?")[2])]:
        if _PAGE_PARAM.match(name) and value.isdigit():
            return name
    return None


def size_param(params: dict[str, str]) -> int | None:
    for name, value in params.items():
        if _SIZE_PARAM.match(name) and value.isdigit():
            return int(value)
    return None
