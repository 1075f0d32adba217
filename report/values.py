"""Printed cell strings → values. A printed cell without a number is None, never 0.

Values are exact: a count is an `int`, a decimal or an amount a `Decimal`, never a float
(`9007199254740993` stays itself). A figure past what any report prints and the
warehouse holds exactly (`LIMITS`) is not a value: the cell keeps its printed string,
the value is None and the problem is `absurd` (the extractor's `absurd-value` finding).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from report.catalogue import Kind
from report.record import EMPTY_MARKERS, CellValue

_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_SIGNED_WORDS = (("增加", "+"), ("减少", "-"), ("增", "+"), ("减", "-"))


# A count fits a signed 64-bit integer (BIGINT); a decimal or amount has at most 18 digits
# before the point and 6 after it (NUMERIC(24, 6): 元 with fen, in 万元).
MAX_COUNT = 2**63 - 1
DECIMAL_DIGITS, DECIMAL_PLACES = 24, 6


@dataclass(frozen=True)
class ParsedCell:
    value: CellValue
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
    number = Decimal(text)
    if kind == "amount" and unit == "元":
        number = number.scaleb(-4)
    value = exact(number, whole="." not in text or kind in ("count", "signed"))
    if not within_limits(value, kind):
        return ParsedCell(None, raw, "absurd")
    if kind in ("count", "signed") and isinstance(value, Decimal):
        return ParsedCell(value, raw, "not-integer")
    return ParsedCell(value, raw)


def exact(number: Decimal, *, whole: bool = True) -> int | Decimal:
    """An integral number as an int (when `whole`: printed without a point), else the Decimal."""
    if whole and number == number.to_integral_value():
        return int(number)
    return number


def within_limits(value: CellValue, kind: Kind = "count") -> bool:
    """Does the value fit what reports print and the warehouse keeps exactly?"""
    if value is None:
        return True
    if kind in ("count", "signed"):
        return abs(Decimal(value)) <= MAX_COUNT
    return _fits_decimal(Decimal(value))


def _fits_decimal(number: Decimal) -> bool:
    if not number.is_finite():
        return False
    sign, digits, exponent = number.normalize().as_tuple()
    assert isinstance(exponent, int)
    places = max(0, -exponent)
    whole = max(0, len(digits) + exponent)
    return places <= DECIMAL_PLACES and whole <= DECIMAL_DIGITS - DECIMAL_PLACES
