"""What every rule works with: a read-only view of the printed cells, and the hit a check yields.

How printed-but-empty cells count (shared/spec/FORMAT.md keeps them as None, never 0):
an identity is checked only when each of its two sides has at least one printed cell
and at least one of its cells holds a number; then a blank (None) or unprinted cell
counts as 0 — except a printed total left blank beside its parts: the report printed no
value there, so no rule may say it printed 0; BLANK-TOTAL warns and gives the total
derived from the parts. A blank row, or a table the document does not print, is skipped. A cell
that prints text instead of a number (增98, 0/0) is unknown, not 0: DOM reports it and
the identities through it are skipped, so one bad cell gives one finding, not three.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from report.catalogue import all_cell_specs
from report.record import CellValue, ReportRecord, Severity
from report.values import parse_cell

Number = int | Decimal   # a figure, exactly (report.record.CellValue without None)


@dataclass(frozen=True)
class Hit:
    """One thing a check found; the validator adds the rule id and severity."""

    cells: tuple[str, ...]
    message: str
    message_en: str
    extra: dict[str, object] = field(default_factory=dict)


Check = Callable[["ReportRecord", "ReportRecord | None"], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A registry row: id, severity, what it checks (Chinese and English), and the check."""

    id: str
    severity: Severity
    title: str
    description: str
    check: Check


class Cells:
    """The printed cells of a record: `printed` tells whether a key is in the document,
    `unreadable` whether it prints text instead of a number (增98, 0/0)."""

    def __init__(self, record: ReportRecord) -> None:
        self.values = record.cells
        self.raw = record.raw

    def unreadable(self, key: str) -> bool:
        if self.number(key) is not None or not self.raw.get(key):
            return False
        spec = all_cell_specs().get(key)
        return parse_cell(self.raw[key], spec.kind if spec else "count").problem is not None

    def printed(self, key: str) -> bool:
        return key in self.values

    def number(self, key: str) -> Number | None:
        return _as_number(self.values.get(key))

    def blank(self, key: str) -> bool:
        """Printed, but without a number or any text (an empty box, `/`, `—`)."""
        return self.printed(key) and self.number(key) is None and not self.unreadable(key)

    def any_printed(self, keys: Iterable[str]) -> bool:
        return any(key in self.values for key in keys)

    def any_number(self, keys: Iterable[str]) -> bool:
        return any(self.number(key) is not None for key in keys)


def _as_number(value: CellValue | float) -> Number | None:
    if isinstance(value, float):   # set on a record by hand: the shortest decimal that reads back as it
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return value


@dataclass(frozen=True)
class Identity:
    """sum(left) = sum(right), over canonical keys; `left` names the printed total(s)."""

    left: tuple[str, ...]
    right: tuple[str, ...]
    # The left side is a printed total (总计) of the right, not another sum (T3-BAL's).
    total: bool = True

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.left, *self.right)

    def broken(self, cells: Cells) -> tuple[Number, Number] | None:
        """(left sum, right sum) when the identity is checkable and does not hold. A total
        printed blank beside its parts is not a 0 the report printed: see `blank_total`."""
        if not cells.any_printed(self.left) or not cells.any_printed(self.right):
            return None
        if self.blank_total(cells) is not None:
            return None
        if not cells.any_number(self.keys) or any(cells.unreadable(key) for key in self.keys):
            return None
        left = sum(cells.number(key) or 0 for key in self.left)
        right = sum(cells.number(key) or 0 for key in self.right)
        return None if _equal(left, right) else (left, right)

    def blank_total(self, cells: Cells) -> Number | None:
        """The sum of the parts when every total of the left side is printed blank (no
        number, no text) and a part holds a number: the total is derivable, not 0."""
        if not self.total or not all(cells.blank(key) for key in self.left):
            return None
        if not cells.any_number(self.right) or any(cells.unreadable(key) for key in self.right):
            return None
        return sum(cells.number(key) or 0 for key in self.right)


def _equal(a: Number, b: Number) -> bool:
    return a == b   # exact: ints and Decimals, never a float's rounding


def fmt(value: Number) -> str:
    """A number as the report would print it (no exponent, no trailing zeros after a point)."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)
