"""PROSE: figures the sections quote must agree with the tables."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from report.catalogue import T3_APPLICANT_COLUMNS
from report.record import ReportRecord
from report.rules.base import Cells, Hit, Number, fmt
from report.rules.identities import derived_totals

# Between a subject and its figure: no sentence break, no digits, not the other subject,
# and no comparison (较上年增加12件 is a change, not the figure).
_GAP = r"(?:(?!诉讼|复议|增加|减少|增长|下降|上升|同比|较)[^。；;，,、\d]){0,8}?"


@dataclass(frozen=True)
class Quote:
    """A figure the text quotes: its pattern, the printed totals it must equal, and the
    cells those totals add up (a quote matching them points at the table instead)."""

    name: str
    name_en: str
    pattern: re.Pattern[str]
    cells: tuple[str, ...]
    parts: tuple[str, ...]


def _t4_parts(*groups: str) -> tuple[str, ...]:
    return tuple(f"t4.{group}.{column}" for group in groups for column in ("upheld", "corrected", "other", "pending"))


QUOTES: tuple[Quote, ...] = (
    Quote("受理政府信息公开申请", "applications received",
          re.compile(r"(?:受理|收到|新收)[^。；;，,\d]{0,24}?申请" + _GAP + r"(\d+)件"), ("t3.new.total",),
          tuple(f"t3.new.{column}" for column in T3_APPLICANT_COLUMNS)),
    Quote("行政复议", "administrative reviews",
          re.compile(r"行政复议" + _GAP + r"(\d+)(?:件|起)"), ("t4.review.total",), _t4_parts("review")),
    Quote("行政诉讼", "lawsuits",
          re.compile(r"行政诉讼" + _GAP + r"(\d+)(?:件|起)"),
          ("t4.suit_direct.total", "t4.suit_after_review.total"), _t4_parts("suit_direct", "suit_after_review")),
)


def prose_text(record: ReportRecord) -> str:
    """All section text, full-width digits folded and white space removed (2024 年 → 2024年)."""
    text = unicodedata.normalize("NFKC", "\n".join(record.sections.values()))
    return re.sub(r"[ \t\u3000]+", "", text)


def check_prose(record: ReportRecord, previous: ReportRecord | None = None) -> Iterator[Hit]:
    """A quoted figure agrees when it equals the printed total. When it equals the sum of
    the total's parts instead, the table contradicts itself and T3-ROW or T4-SUM says so:
    one defect, one finding."""
    text = prose_text(record)
    cells = Cells(record)
    derived = derived_totals(record)
    for quote in QUOTES:
        quoted = [int(match) for match in quote.pattern.findall(text)]
        if not quoted or not (cells.any_number(quote.cells) or any(key in derived for key in quote.cells)):
            continue
        table = sum(_number(cells, derived, key) for key in quote.cells)
        parts = sum(cells.number(key) or 0 for key in quote.parts)
        if table not in quoted and not (cells.any_number(quote.parts) and parts in quoted):
            # A total printed blank is compared as derived from its parts, and said so.
            how, how_en = ("推出", "derive") if any(key in derived for key in quote.cells) else ("为", "print")
            yield Hit(quote.cells,
                      f"正文称{quote.name} {quoted[0]} 件，但表格{how} {fmt(table)}",
                      f"the text quotes {quoted[0]} {quote.name_en} but the tables {how_en} {fmt(table)}")


def _number(cells: Cells, derived: dict[str, Number], key: str) -> Number:
    """A printed total, or one printed blank derived from its parts (BLANK-TOTAL)."""
    value = cells.number(key)
    return derived.get(key, 0) if value is None else value
