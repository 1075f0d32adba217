"""Printed cell strings → values. A printed cell without a number is None, never 0."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from report.catalogue import Kind
from report.record import EMPTY_MARKERS

_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_SIGNED_WORDS = (("增加", "+"), ("减少", "-"), ("增", "+"), ("减", "-"))


@dataclass(frozen=True)
class ParsedCell:
    value: int | float | None
    raw: str
    problem: str | None = None  # why a printed string did not parse, e.g. "text"


def fold_number_text(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "")
    text = re.sub(r"\s+", "", text).replace(",", "").replace("，", "")
    return text.replace("−", "-").replace("–", "-")


def parse_cell(raw: str | None, kind: Kind = "count", unit: str | None = None) -> ParsedCell:
    """Parse one printed cell.

    `kind` comes from the catalogue; `unit` ("元" or "万元") applies to amounts,
    which are canonical in 万元.
    """
    raw = raw if raw is not None else ""
    text = fold_number_text(raw)
    if text in EMPTY_MARKERS or set(text) <= {"/", "-", "—", "－"}:
        return ParsedCell(None, raw)
    if kind == "signed":
        for word, sign in _SIGNED_WORDS:
            if text.startswith(word) and _NUMBER.match(text[len(word):]):
                text = sign + text[len(word):]
                break
    if kind == "amount":
        if text.endswith("万元"):
            text, unit = text[:-2], "万元"
        elif text.endswith("元"):
            text, unit = text[:-1], "元"
    if not _NUMBER.match(text):
        return ParsedCell(None, raw, "text")
    number = float(text)
    if kind == "amount" and unit == "元":
        number = round(number / 10000, 6)
    if kind in ("count", "signed") and number.is_integer() and "." not in text:
        return ParsedCell(int(number), raw)
    if kind in ("count", "signed"):
        return ParsedCell(number, raw, "not-integer") if not number.is_integer() else ParsedCell(int(number), raw)
    return ParsedCell(int(number) if number.is_integer() and "." not in text else number, raw)
