"""Ruled tables and positioned lines straight from pdfium — the fast path.

pdfplumber (pdfminer) re-interprets every content stream in Python, which costs
~10× more than the whole pdfium text extraction. pdfium already knows where each
character and each path segment is, so here: the ruling lines come from the path
objects' segments, cells are the smallest boxes closed on four sides by them (the
same construction as pdfplumber's lattice finder), a cell's text is pdfium's
bounded text, and the characters outside the tables are grouped into words and
lines. A page this cannot make sense of goes to pdfplumber instead.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extract.model import Cell, Row
from extract.readers.lines import PAGE_NUMBER, word_cells, word_lines

_SNAP = 3.0       # points: edges closer than this are one ruling line
_MIN_EDGE = 4.0   # points: shorter strokes are glyph parts or ticks, not rules


def page_rows(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, number: int) -> list[Row] | None:
    """Rows of one page (tables and lines, in reading order), or None if the page's
    drawing is too unusual for this path (the caller then asks pdfplumber)."""
    placed = placed_rows(page, textpage, number)
    return None if placed is None else [row for _, row in placed]


def placed_rows(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, number: int) -> list[tuple[float, Row]] | None:
    """page_rows with each row's top edge (points from the top of the page)."""
    height = page.get_height()
    horizontal, vertical = _edges(page, height)
    if horizontal is None or vertical is None:
        return None
    cells = _drop_text_frames(_cells(horizontal, vertical))
    placed: list[tuple[float, Row]] = []
    for top, members in _bands(cells):
        row_cells = [Cell(_bounded_text(textpage, c, height), c[0], c[2], y0=c[1], y1=c[3]) for c in members]
        placed.append((top, Row(row_cells, number, "pdf", gridded=True)))
    margin = 0.07 * height
    for top, words in word_lines(_words(textpage, cells, height)):
        line = word_cells(words)
        text = "".join(c.text for c in line)
        if PAGE_NUMBER.match(text) and (top < margin or top > height - margin):
            continue
        placed.append((top, Row(line, number, "pdf")))
    placed.sort(key=lambda item: item[0])
    return placed


# ---------------------------------------------------------------- ruling lines
def _edges(page: pdfium.PdfPage, height: float) -> tuple[list[tuple[float, float, float]] | None, ...]:
    """Horizontal (y, x0, x1) and vertical (x, y0, y1) strokes, y measured from the top."""
    horizontal: list[tuple[float, float, float]] = []
    vertical: list[tuple[float, float, float]] = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=3):
        segments = _segments(obj)
        if segments is None:
            return None, None
        for (xa, ya), (xb, yb) in segments:
            ya, yb = height - ya, height - yb
            if abs(ya - yb) <= 1.0 and abs(xa - xb) >= _MIN_EDGE:
                horizontal.append(((ya + yb) / 2, min(xa, xb), max(xa, xb)))
            elif abs(xa - xb) <= 1.0 and abs(ya - yb) >= _MIN_EDGE:
                vertical.append(((xa + xb) / 2, min(ya, yb), max(ya, yb)))
    return _merge(horizontal), _merge(vertical)


def _segments(obj: Any) -> list[tuple[tuple[float, float], tuple[float, float]]] | None:
    """The straight segments of a path object, in page space (curves are left out)."""
    raw = obj.raw
    count = pdfium_c.FPDFPath_CountSegments(raw)
    if count < 0:
        return None
    if count > 5000:
        return []  # a drawing (a seal, a chart), not table rules
    matrix = obj.get_matrix()
    a, b, c, d, e, f = matrix.get()
    x = pdfium_c.FS_FLOAT()
    y = pdfium_c.FS_FLOAT()
    out = []
    start = current = None
    for index in range(count):
        segment = pdfium_c.FPDFPath_GetPathSegment(raw, index)
        if not pdfium_c.FPDFPathSegment_GetPoint(segment, x, y):
            continue
        point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = current = point
            continue
        if kind == pdfium_c.FPDF_SEGMENT_LINETO and current is not None:
            out.append((current, point))
        current = point
        if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
            out.append((current, start))
            current = start
    return out


def _merge(edges: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Snap strokes at (nearly) the same position together and join the ones that touch."""
    if not edges:
        return []
    edges.sort()
    groups: list[list[tuple[float, float, float]]] = [[edges[0]]]
    for edge in edges[1:]:
        if edge[0] - groups[-1][-1][0] <= _SNAP:
            groups[-1].append(edge)
        else:
            groups.append([edge])
    merged = []
    for group in groups:
        position = sum(e[0] for e in group) / len(group)
        spans = sorted((e[1], e[2]) for e in group)
        lo, hi = spans[0]
        for s0, s1 in spans[1:]:
            if s0 <= hi + _SNAP:
                hi = max(hi, s1)
            else:
                merged.append((position, lo, hi))
                lo, hi = s0, s1
        merged.append((position, lo, hi))
    return merged


# ---------------------------------------------------------------- cells
def _cells(horizontal: list[tuple[float, float, float]],
           vertical: list[tuple[float, float, float]]) -> list[tuple[float, float, float, float]]:
    """The smallest boxes closed on four sides by ruling lines: (x0, top, x1, bottom)."""
    tol = _SNAP
    points: set[tuple[float, float]] = set()
    for y, hx0, hx1 in horizontal:
        for x, vy0, vy1 in vertical:
            if hx0 - tol <= x <= hx1 + tol and vy0 - tol <= y <= vy1 + tol:
                points.add((round(x, 1), round(y, 1)))
    if len(points) < 4:
        return []
    xs_at: dict[float, list[float]] = defaultdict(list)
    ys_at: dict[float, list[float]] = defaultdict(list)
    for x, y in points:
        xs_at[y].append(x)
        ys_at[x].append(y)
    for values in (*xs_at.values(), *ys_at.values()):
        values.sort()
    h_index = defaultdict(list)
    for y, x0, x1 in horizontal:
        h_index[round(y, 1)].append((x0, x1))
    v_index = defaultdict(list)
    for x, y0, y1 in vertical:
        v_index[round(x, 1)].append((y0, y1))

    def h_joined(y: float, xa: float, xb: float) -> bool:
        return any(x0 - tol <= xa and xb <= x1 + tol for x0, x1 in _near(h_index, y))

    def v_joined(x: float, ya: float, yb: float) -> bool:
        return any(y0 - tol <= ya and yb <= y1 + tol for y0, y1 in _near(v_index, x))

    cells = []
    for x, y in sorted(points, key=lambda p: (p[1], p[0])):
        found = None
        below = ys_at[x][bisect.bisect_right(ys_at[x], y):]
        right = xs_at[y][bisect.bisect_right(xs_at[y], x):]
        for y2 in below:
            if not v_joined(x, y, y2):
                break
            for x2 in right:
                if not h_joined(y, x, x2):
                    break
                if (x2, y2) in points and v_joined(x2, y, y2) and h_joined(y2, x, x2):
                    found = (x, y, x2, y2)
                    break
            if found:
                break
        if found:
            cells.append(found)
    return cells


def _drop_text_frames(cells: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """A table of one column is a framed text box: its lines are read as lines."""
    parent = list(range(len(cells)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(cells)), key=lambda i: cells[i][1])
    for position, i in enumerate(order):
        for j in order[position + 1:]:
            if cells[j][1] > cells[i][3] + _SNAP:
                break
            if _touch(cells[i], cells[j]):
                parent[find(i)] = find(j)
    tables: dict[int, list[int]] = defaultdict(list)
    for i in range(len(cells)):
        tables[find(i)].append(i)
    kept = []
    for members in tables.values():
        tops = [cells[i][1] for i in members]
        if len(set(tops)) == len(tops):  # never two cells side by side
            continue
        kept += [cells[i] for i in members]
    return kept


def _touch(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    overlap_x = min(a[2], b[2]) - max(a[0], b[0])
    overlap_y = min(a[3], b[3]) - max(a[1], b[1])
    return overlap_x >= -_SNAP and overlap_y >= -_SNAP


def _near(index: dict[float, list[tuple[float, float]]], position: float) -> list[tuple[float, float]]:
    """Spans of the line at `position` (positions were rounded to 0.1 pt)."""
    spans = index.get(position)
    if spans is not None:
        return spans
    return [s for key, values in index.items() if abs(key - position) <= 0.2 for s in values]


def _bands(cells: list[tuple[float, float, float, float]]) -> list[tuple[float, list[tuple[float, float, float, float]]]]:
    """Cells grouped into printed rows by their top edge (a rowspan cell joins its first row)."""
    bands: dict[float, list[tuple[float, float, float, float]]] = defaultdict(list)
    for cell in cells:
        bands[cell[1]].append(cell)
    return [(top, sorted(members)) for top, members in sorted(bands.items())]


def _bounded_text(textpage: pdfium.PdfTextPage, cell: tuple[float, float, float, float], height: float) -> str:
    x0, top, x1, bottom = cell
    text = textpage.get_text_bounded(left=x0, bottom=height - bottom, right=x1, top=height - top)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


# ---------------------------------------------------------------- words outside the tables
def _rotated(raw: Any, index: int) -> bool:
    angle = pdfium_c.FPDFText_GetCharAngle(raw, index)
    if angle < 0:
        return False  # unknown: keep it
    return 0.05 < angle < 2 * math.pi - 0.05


def _words(textpage: pdfium.PdfTextPage, cells: list[tuple[float, float, float, float]],
           height: float) -> list[dict[str, Any]]:
    """Characters outside every table cell, joined into words (pdfplumber's word dicts)."""
    count = textpage.count_chars()
    if count <= 0:
        return []
    words: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    raw = textpage.raw
    in_a_cell = _CellLookup(cells)
    for index in range(count):
        # Per character: get_text_range's string need not line up with the char indices.
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        char = chr(code) if 0 < code < 0x110000 else " "
        if not char.isspace() and _rotated(raw, index):
            continue  # a diagonal watermark or a seal's ring of text, not a line of the report
        if char in "\r\n" or char.isspace():
            current = None
            continue
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        top, bottom = height - top, height - bottom
        centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
        if in_a_cell(centre_x, centre_y):
            current = None
            continue
        size = max(bottom - top, 1.0)
        if current is not None and abs((current["top"] + current["bottom"]) / 2 - centre_y) < 0.5 * size \
                and -0.5 * size <= left - current["x1"] < 0.3 * size:
            current["text"] += char
            current["x1"] = max(current["x1"], right)
            current["top"] = min(current["top"], top)
            current["bottom"] = max(current["bottom"], bottom)
        else:
            current = {"text": char, "x0": left, "x1": right, "top": top, "bottom": bottom}
            words.append(current)
    return words


class _CellLookup:
    """Whether a point lies in one of the cells, asking only the cells of its horizontal band
    (a page's every character against its every cell was a tenth of a text-layer page's time)."""

    BAND = 12.0   # points: a table row or two

    def __init__(self, cells: list[tuple[float, float, float, float]]) -> None:
        self.bands: dict[int, list[tuple[float, float, float, float]]] = defaultdict(list)
        for cell in cells:
            for band in range(int(cell[1] // self.BAND), int(cell[3] // self.BAND) + 1):
                self.bands[band].append(cell)

    def __call__(self, x: float, y: float) -> bool:
        return any(c[0] <= x <= c[2] and c[1] <= y <= c[3] for c in self.bands.get(int(y // self.BAND), ()))
