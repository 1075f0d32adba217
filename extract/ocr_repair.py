"""Identities guide recognition: a figure OCR read wrong is read again where the report's own
sums say so.

The hard identities (report/rules/identities.py) tie every figure of 表三 and 表四 to others.
When one fails on OCR'd cells, each cell it names is recognised again from its crops with other
preprocessing and a higher scale (`extract.readers.ocr.reread`); a reading is kept only if it
makes that identity hold without breaking another, changing as few cells as it can, and only
if the recogniser is surer of it than of the first reading and of every re-reading that gives
the first figure again. Where two failing identities cross at a cell that one new value would
mend in both, only that cell is read again. A cell's lines of one glyph are also compared with
the report's own prints of each digit (those the recogniser was sure of or the identities vouch
for), before any re-reading: a digit every preprocessing misreads alike (a fax's 5 with its
stem broken off reads 3) is still nearest the report's other 5s. Nothing is invented: every candidate value is one some
reading gave, and if none agrees the cells stay as first read and the validator reports the
identity as usual. Per cell, the record keeps the
reading's confidence and whether it was corrected, with the first reading, under
`extraction.ocr_cells` (an additive key of the record JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from itertools import combinations, product
from typing import Any

from extract.model import CellRead
from report.catalogue import all_cell_specs
from report.record import ReportRecord
from report.rules.base import Cells, Identity
from report.rules.identities import hard_identities
from report.values import parse_cell

Reread = Callable[[CellRead], list[tuple[str, float]]]
Glyph = Callable[[CellRead], Any]
_MAX_PASSES = 3
_MAX_SUSPECTS = 10
# A first reading at least this sure is read again only when the unsure cells give no fix.
_SURE = 0.95
# A line of one glyph is also read by the report's own print of each digit (see `_Font`): it is
# the digit whose `_NEAREST_PRINTS` nearest prints are nearer than those of the first reading's
# digit by `_CLEARLY_NEARER`; of each digit the `_MOST_PRINTS` surest are kept (a report prints
# hundreds of 0s).
_NEAREST_PRINTS = 3
_CLEARLY_NEARER = 0.9
_MOST_PRINTS = 12


def repair(record: ReportRecord, reads: dict[str, CellRead], reread: Reread | None = None,
           has_print: Callable[[CellRead], bool] | None = None, glyph: Glyph | None = None) -> None:
    """Correct the OCR'd figures the identities point at, in place; record every OCR'd cell's
    confidence and correction under `record.extraction["ocr_cells"]`. A figure cell that read
    as nothing although its crop holds print counts as unreadable (an identity over it is
    not known to hold)."""
    if reread is None or has_print is None or glyph is None:
        from extract.readers import ocr

        reread, has_print, glyph = reread or ocr.reread, has_print or ocr.has_print, glyph or ocr.glyph
    info: dict[str, dict[str, Any]] = {
        key: {"page": read.page, "confidence": round(read.confidence, 4), "corrected": False}
        for key, read in sorted(reads.items())}
    extraction = getattr(record, "extraction", None) or {}
    extraction["ocr_cells"] = info
    record.extraction = extraction  # type: ignore[attr-defined]
    cells = Cells(record)
    blank = frozenset(key for key, read in reads.items() if read.crops and cells.blank(key) and has_print(read))
    font = _Font.of_the_report(record, cells, reads, blank, glyph)
    # The report's own prints are asked first: they cost no recognition, which each of the
    # other readings of a cell does several times over.
    by_print: dict[str, list[tuple[int, str, float]]] = {}
    options: dict[str, list[tuple[int, str, float]]] = {}
    printed: dict[str, tuple[str, float] | None] = {}

    def print_reading(key: str) -> tuple[str, float] | None:
        if key not in printed:
            printed[key] = font.reading(key, reads[key], record)
        return printed[key]

    def print_options_of(key: str) -> list[tuple[int, str, float]]:
        if key not in by_print:
            by_print[key] = _readings(key, reads[key], record, lambda read: [], print_reading(key))
        return by_print[key]

    def options_of(key: str) -> list[tuple[int, str, float]]:
        if key not in options:
            options[key] = _readings(key, reads[key], record, reread, print_reading(key))
        return options[key]

    for _ in range(_MAX_PASSES):
        failing = [identity for identity in hard_identities(cells) if _fails(identity, cells, reads, blank)]
        if not failing:
            return
        progress = False
        for identity in failing:
            if not _fails(identity, cells, reads, blank):
                continue  # mended by an earlier correction
            named = [key for key in identity.keys if key in reads and reads[key].crops and _is_count(key)]
            culprit = _crossing_culprit(identity, named, failing, cells, reads)
            tiers = [[culprit]] if culprit else _tiers(named, cells, reads, blank)
            fix = None
            suspects: list[str] = []
            for tier in tiers:
                suspects = (suspects + tier)[:_MAX_SUSPECTS]
                for known, read_by in ((by_print, print_options_of), (options, options_of)):
                    for key in suspects:
                        read_by(key)
                    fix = _best_fix(identity, suspects, known, record, cells, reads, blank, read_by)
                    if fix:
                        break
                if fix:
                    break
            if fix:
                progress = True
                for key, (value, raw, score) in fix.items():
                    _correct(record, reads, info, key, value, raw, score)
        if not progress:
            return


def _crossing_culprit(identity: Identity, named: list[str], failing: list[Identity], cells: Cells,
                      reads: dict[str, CellRead]) -> str | None:
    """The cell where this identity crosses another failing one that it would mend by the same
    value in both (a 5 read as 3 leaves its row and its column 2 short): that cell, and no other
    of the identity, is read again (unless the recogniser was sure of it, or an identity already
    had it corrected: the crossing is then two errors elsewhere); no other cell may be bent to
    hide its error."""
    for key in (key for key in named if reads[key].confidence < _SURE and not reads[key].corrected):
        wanted = _value_that_mends(identity, key, cells)
        if wanted is None:
            continue
        if any(other.keys != identity.keys and key in other.keys and _value_that_mends(other, key, cells) == wanted
               for other in failing):
            return key
    return None


def _value_that_mends(identity: Identity, key: str, cells: Cells) -> int | None:
    """The count `key` would have to hold for a broken identity to hold, all else as read."""
    broken = identity.broken(cells)
    current = cells.number(key)
    if broken is None or not isinstance(current, int) or identity.keys.count(key) != 1:
        return None
    left, right = broken
    wanted = current + (right - left) if key in identity.left else current + (left - right)
    return wanted if isinstance(wanted, int) and wanted >= 0 and wanted != current else None


def _tiers(named: list[str], cells: Cells, reads: dict[str, CellRead], blank: frozenset[str]) -> list[list[str]]:
    """The cells of a failing identity in the order they are read again, most suspect first:
    those that read as nothing over print or as no count, then those the recogniser was unsure
    of, then the rest — only for an identity broken by readable figures (each re-reading costs
    several recognitions: the sure cells of a long identity are read again only if the unsure
    ones give no fix, and never for an identity no sure figure can mend)."""
    unknown = [key for key in named if key in blank or cells.unreadable(key) or _not_a_count(cells.values.get(key))]
    unsure = sorted((key for key in named if key not in unknown and reads[key].confidence < _SURE),
                    key=lambda key: reads[key].confidence)
    if unknown:
        return [unknown, unsure] if unsure else [unknown]  # the sure cells cannot make an unknown figure known
    sure = sorted((key for key in named if key not in unsure), key=lambda key: reads[key].confidence)
    return [tier for tier in (unsure, sure) if tier]


def _correct(record: ReportRecord, reads: dict[str, CellRead], info: dict[str, dict[str, Any]], key: str,
             value: int, raw: str, score: float) -> None:
    """Keep a re-reading: the value, its printed text, and wherever the cell's reading is
    described (the reader's CellRead the mapper keeps, the record's cell_sources)."""
    info[key].update(corrected=True, first_read=record.raw.get(key, ""), confidence=round(score, 4))
    record.cells[key] = value
    record.raw[key] = raw
    reads[key] = replace(reads[key], confidence=score, corrected=True)
    source = record.cell_sources.get(key)
    if source is not None:
        record.cell_sources[key] = source.model_copy(update={"text": raw, "confidence": round(score, 4),
                                                             "corrected": True})


def _is_count(key: str) -> bool:
    spec = all_cell_specs().get(key)
    return spec is not None and spec.kind == "count"


def _fails(identity: Identity, cells: Cells, reads: dict[str, CellRead], blank: frozenset[str] = frozenset()) -> bool:
    """Broken, or unknowable because an OCR'd cell of it printed no figure the format allows
    (or read as nothing over print: `blank`)."""
    if identity.broken(cells) is not None:
        return True
    return any(key in reads and (cells.unreadable(key) or _not_a_count(cells.values.get(key))
                                 or (key in blank and cells.blank(key))) for key in identity.keys)


def _not_a_count(value: Any) -> bool:
    return isinstance(value, Decimal) or (isinstance(value, int) and value < 0)


class _Font:
    """The report's own print of each digit: the one-digit cells the recogniser was sure of or
    that every identity over them vouches for. A fax's 5 whose top stroke broke away reads as 3
    under every preprocessing, yet its print is nearer the report's other 5s than its 3s."""

    def __init__(self, prints: dict[str, list[Any]], glyph: Glyph) -> None:
        self.prints = prints
        self.glyph = glyph

    @classmethod
    def of_the_report(cls, record: ReportRecord, cells: Cells, reads: dict[str, CellRead], blank: frozenset[str],
                      glyph: Glyph) -> _Font:
        vouched = _vouched(cells, reads, blank)
        sure_first = sorted(reads.items(), key=lambda item: -item[1].confidence)
        prints: dict[str, list[Any]] = {}
        for key, read in sure_first:
            text = record.raw.get(key, "")
            if len(text) == 1 and text.isdigit() and (read.confidence >= _SURE or key in vouched) \
                    and len(prints.get(text, ())) < _MOST_PRINTS:
                found = glyph(read)
                if found is not None:
                    prints.setdefault(text, []).append(found)
        return cls(prints, glyph)

    def reading(self, key: str, read: CellRead, record: ReportRecord) -> tuple[str, float] | None:
        """The cell read line by line with, for each line of one glyph, the digit whose prints
        are clearly nearest (13 over a 4 read as +), if that differs from the first reading; its
        text and a score (1 less the greatest mean distance of the digits it took)."""
        lines = record.raw.get(key, "").split("\n")
        if not self.prints or len(lines) != len(read.crops):
            return None
        scores = []
        for index, (text, crop) in enumerate(zip(lines, read.crops, strict=True)):
            nearest = self._nearest(replace(read, crops=(crop,)), text) if len(text) <= 1 else None
            if nearest is not None:
                lines[index], score = nearest
                scores.append(score)
        return ("\n".join(lines), min(scores)) if scores else None

    def _distances(self, read: CellRead) -> dict[str, float] | None:
        """Per digit, the mean distance of its nearest prints to the cell's (one glyph) print."""
        from extract.readers.ocr import glyph_distance

        found = self.glyph(read) if self.prints else None
        if found is None:
            return None
        return {digit: sum(sorted(glyph_distance(found, other) for other in prints)[:_NEAREST_PRINTS])
                / min(len(prints), _NEAREST_PRINTS) for digit, prints in self.prints.items()}

    def _nearest(self, read: CellRead, first: str) -> tuple[str, float] | None:
        distance = self._distances(read)
        if distance is None:
            return None
        nearest = min(distance, key=distance.__getitem__)
        rivals = [d for digit, d in distance.items() if digit != nearest]
        if nearest == first or not rivals or distance[nearest] > _CLEARLY_NEARER * distance.get(first, min(rivals)):
            return None
        return nearest, 1.0 - distance[nearest]


def _vouched(cells: Cells, reads: dict[str, CellRead], blank: frozenset[str]) -> set[str]:
    """The cells named by at least one identity, every one of which holds."""
    holds: dict[str, bool] = {}
    for identity in hard_identities(cells):
        held = not _fails(identity, cells, reads, blank)
        for key in identity.keys:
            holds[key] = holds.get(key, True) and held
    return {key for key, held in holds.items() if held}


def _readings(key: str, read: CellRead, record: ReportRecord, reread: Reread,
              by_print: tuple[str, float] | None = None) -> list[tuple[int, str, float]]:
    """The distinct counts the other readings of a cell give (the first reading's excluded),
    with the digit the report's own prints give (`_Font`), which needs no surer score."""
    current = record.cells.get(key)
    readings = [(parse_cell(text, "count"), text, score) for text, score in reread(read)]
    # The recogniser must be surer of a reading that replaces the first than of the first, and
    # than of any other reading that gives the first's figure again.
    surest_of_first = max([read.confidence, *(score for parsed, _, score in readings
                                              if current is not None and parsed.value == current)])
    found: dict[int, tuple[int, str, float]] = {}
    for parsed, text, score in readings:
        value = parsed.value
        if parsed.problem or not isinstance(value, int) or value < 0 or value == current:
            continue
        if score < surest_of_first:
            continue
        if value not in found or found[value][2] < score:
            found[value] = (value, text, score)
    if by_print is not None:
        printed = parse_cell(by_print[0], "count")
        if isinstance(printed.value, int) and not printed.problem and printed.value != current:
            option = (printed.value, *by_print)
            found[printed.value] = max(found.get(printed.value, option), option, key=lambda known: known[2])
    return sorted(found.values(), key=lambda option: -option[2])


def _best_fix(identity: Identity, suspects: list[str], options: dict[str, list[tuple[int, str, float]]],
              record: ReportRecord, cells: Cells, reads: dict[str, CellRead],
              blank: frozenset[str], options_of: Callable[[str], list[tuple[int, str, float]]]
              ) -> dict[str, tuple[int, str, float]] | None:
    """The fewest re-readings that make `identity` hold and break nothing that held. A single
    re-reading that breaks one identity that held (two figures of a row misread alike, so the
    row added up) may bring one more re-reading of that identity's cells to mend it."""
    candidates = [key for key in suspects if options.get(key)]
    every = list(hard_identities(cells))
    before = {index for index, other in enumerate(every) if _fails(other, cells, reads, blank)}
    for size in (1, 2):
        best: tuple[tuple[int, float], dict[str, tuple[int, str, float]]] | None = None
        for keys in combinations(candidates, size):
            for choice in product(*(options[key] for key in keys)):
                change = dict(zip(keys, choice, strict=True))
                broken = _newly_broken(identity, every, change, record, cells, reads, before, blank)
                if broken and size == 1 and len(broken) == 1:
                    change, broken = _mended(identity, every, change, broken[0], record, cells, reads, before, blank,
                                             options_of)
                if broken == []:  # fewest cells changed, then the surest readings
                    rank = (-len(change), sum(option[2] for option in change.values()) / len(change))
                    if best is None or rank > best[0]:
                        best = (rank, change)
        if best is not None:
            return best[1]
    return None


def _mended(identity: Identity, every: list[Identity], change: dict[str, tuple[int, str, float]], broken: Identity,
            record: ReportRecord, cells: Cells, reads: dict[str, CellRead], before: set[int], blank: frozenset[str],
            options_of: Callable[[str], list[tuple[int, str, float]]]
            ) -> tuple[dict[str, tuple[int, str, float]], list[Identity] | None]:
    """`change` with one more re-reading, of a cell of the identity it broke, that leaves nothing
    broken (the surest such); else `change` and what it broke."""
    best: tuple[float, dict[str, tuple[int, str, float]]] | None = None
    for key in broken.keys:
        if key in change or key not in reads or not reads[key].crops or not _is_count(key):
            continue
        for option in options_of(key):
            wider = {**change, key: option}
            if _newly_broken(identity, every, wider, record, cells, reads, before, blank) == [] and (
                    best is None or option[2] > best[0]):
                best = (option[2], wider)
    return (best[1], []) if best else (change, [broken])


def _newly_broken(identity: Identity, every: list[Identity], change: dict[str, tuple[int, str, float]],
                  record: ReportRecord, cells: Cells, reads: dict[str, CellRead], before: set[int],
                  blank: frozenset[str]) -> list[Identity] | None:
    """With `change` applied: None if `identity` still fails, else the identities that held
    before and fail now."""
    saved = {key: (record.cells.get(key), record.raw.get(key, "")) for key in change}
    for key, (value, raw, _) in change.items():
        record.cells[key] = value
        record.raw[key] = raw
    try:
        if _fails(identity, cells, reads, blank):
            return None
        return [other for index, other in enumerate(every)
                if index not in before and set(other.keys) & set(change) and _fails(other, cells, reads, blank)]
    finally:
        for key, (old_value, old_raw) in saved.items():
            record.cells[key] = old_value
            record.raw[key] = old_raw
