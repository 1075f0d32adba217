"""Label normalisation: one printed label → one comparable string."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_to_simplified = opencc.OpenCC("t2s")

_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』《》")
_SPACE = re.compile(r"\s+")
# Enumerators that open a label: 一、 (一) 1. 1、 1． ① (1)
_ENUMERATOR = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\([一二三四五六七八九十\d]+\)|\d+[、.)]|[①-⑳])")
_PARENTHETICAL = re.compile(r"\([^()]*\)")
# Punctuation that ends a label, and what a speck a scan left beside one reads as (no label opens with it).
_MARKS = r"[:;,.、·•。`_]+"
_TRAILING_PUNCT = re.compile(_MARKS + "$")
_LEADING_MARKS = re.compile("^" + _MARKS)


@lru_cache(maxsize=65536)
def normalise_label(text: str) -> str:
    """Fold a printed label to its comparable core.

    Full-width → half-width (NFKC), traditional → simplified, no white space or
    quotes, leading enumerators (一、 （一） 1. 1、) removed, parenthetical notes
    such as （区分处理的，只计这一情形…） or （单位：万元） removed.
    """
    folded = unicodedata.normalize("NFKC", text or "")
    folded = _to_simplified.convert(folded)
    folded = _LEADING_MARKS.sub("", _SPACE.sub("", folded).translate(_QUOTES))
    folded = strip_enumerators(folded)
    previous = None
    while previous != folded:
        previous, folded = folded, _PARENTHETICAL.sub("", folded)
    return _TRAILING_PUNCT.sub("", folded)


def leading_enumerator(text: str) -> str | None:
    """The enumerator a label opens with, folded so that its spellings compare equal
    (（一） and (一) → '(一', 1. and 1、 and １． → '1'), or None."""
    found = _ENUMERATOR.match(_SPACE.sub("", unicodedata.normalize("NFKC", text or "")))
    return re.sub(r"[、.)]", "", found.group()) if found else None


def strip_enumerators(text: str) -> str:
    while True:
        stripped = _ENUMERATOR.sub("", text, count=1)
        if stripped == text:
            return text
        text = stripped


_SEGMENT_START = re.compile(r"(?=(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|(?<![\d.])\d{1,2}[、.．](?!\d)))")


def label_segments(text: str) -> list[str]:
    """Split a label that prints several enumerated parts in one cell.

    '（四）无法提供 1.本机关不掌握相关政府信息' → ['（四）无法提供 ', '1.本机关不掌握相关政府信息']
    """
    folded = unicodedata.normalize("NFKC", text or "")
    parts = [p for p in _SEGMENT_START.split(folded) if p.strip()]
    return parts or [folded]
