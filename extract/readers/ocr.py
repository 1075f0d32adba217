"""OCR for pages without a usable text layer (scans, (cid:N) glyph soup) and images.

The engine is RapidOCR on onnxruntime with the models its wheel ships (no
download). A scanned report is mostly ruled tables, so a page is read in two
passes: the ruling lines are found (OpenCV morphology, after deskewing) and each
table cell is recognised on its own crop — a cell is the unit the mapper needs,
and single-cell crops are both faster and more reliable than detecting hundreds
of tiny '0's; the prose outside the tables goes through detection + recognition.
Imported only when a page needs it, so text-layer extraction stays fast.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from extract.findings import Findings
from extract.model import Cell, CellRead, Document, ReaderError, Row

DPI = 200
_INK = 140  # grey level below which a pixel is ink
_SPACE = "ocr"
_MAX_PIXELS = 60_000_000  # a page scanned at 600 dpi is 35 Mpx
# Fewer ink pixels than this in a cell is scan noise, not a printed character.
_MIN_INK_PIXELS = 40
# A thin '1' rendered at 200 dpi is mostly grey anti-aliasing: an empty cell is one
# without even faint ink.
_FAINT = 200
_MIN_FAINT_PIXELS = 15
# A cell narrower than this many text lines holds a figure, not a label.
_FIGURE_CELL = 4
# Pixels of a table's bounding box taken as its border (no print sits that close to it).
_BOX_EDGE = 6
# Crops of one digit compared at this height; prints closer than `_ALIKE` (mean grey
# difference, 0–1) are the same digit: measured on degraded scans, one digit's copies differ
# by 0.07 at the median and two different digits by no less than 0.13. Only prints narrower
# than a CJK character take part (a character of a vertical label is as wide as tall).
_PRINT_HEIGHT = 16
_PRINT_WIDEST = 12
_ALIKE = 0.05
# The recogniser's minimum width (pixels at its height of 48) for a crop of one such narrow
# print, and for any other crop (a single CJK character of a vertical label reads worse padded
# less; a digit reads as well and costs a third less).
_NARROWEST_DIGIT = 32
_NARROWEST_LINE = 64
# The recogniser's own minimum width: what it was trained on (a text line).
_TEXT_LINE_WIDTH = 320
# A line of only a number below this share of the page's height is its page number.
_FOOTER = 0.88
_PAGE_NUMBER = re.compile(r"^[-—–\s]*\d{1,3}[-—–\s]*$")
# Prose is detected band by band: blank stretches taller than this split bands; a band is
# padded so that detection sees the paper around its lines.
_BAND_GAP = 120
_BAND_PAD = 16
# Gaps of up to this many pixels in a ruling line are bridged (salt specks, fax dropouts).
_RULE_GAP = 5
# A ruling line is no thicker than this (pixels at 200 dpi), blurred or not.
_THICKEST_RULE = 8
# How far beyond its cells a table's outline rules reach (rule width and the grid's dilation).
_BLANK_RULE_REACH = 12
# A table outline whose corners are this many pixels off a rectangle is seen in perspective.
_FLAT = 4


_threads = 1


def set_threads(threads: int) -> None:
    """Threads of the OCR engine (recogniser and image preprocessing), as the application's
    settings say (before the workers start)."""
    global _threads
    _threads = max(1, int(threads))
    engine.cache_clear()


@lru_cache(maxsize=1)
def engine() -> Any:
    # onnxruntime's telemetry writes a session file into $TMPDIR at import (and would upload
    # events); only this variable, set before the import, turns all of it off
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import cv2
    from rapidocr_onnxruntime import RapidOCR

    threads = _threads
    # OpenCV runs the page preprocessing on a pool of every core by default: on a worker that
    # owns one core its threads only contend (measured: 5–8% more CPU per scanned page).
    cv2.setNumThreads(threads)
    # One crop per recognition call: batching pads every crop to the widest of its batch,
    # and cells range from one digit to a whole label (measured: batch 1 is ~3× cheaper than 24).
    ocr = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1, det_limit_type="max",
                   det_limit_side_len=2000, rec_batch_num=1)
    # The recogniser pads every batch to at least 320 px wide (6.7 × its height); table cells
    # are mostly one to five digits, so a narrow minimum saves most of the work (`_read_lines`).
    ocr.text_rec.rec_image_shape = [3, 48, _NARROWEST_LINE]
    return ocr


@dataclass
class _Box:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float


def ocr_pdf_page(page: Any, number: int) -> tuple[list[Row], float]:
    # In colour, so that a seal can be told from the print; pdfium honours /Rotate.
    pixels = page.render(scale=DPI / 72).to_numpy()
    grey, grid = _upright_and_ruled(pixels)
    return ocr_grey(grey, number, grid)


def upright_page(pixels: np.ndarray) -> np.ndarray:
    """A rendered or scanned page (grey or BGR), cleaned (image_prep) and turned to its
    reading orientation: sideways text lines by their profile, upside down by the recogniser's
    direction classifier on a sample of text lines."""
    return _upright_and_ruled(pixels)[0]


def _upright_and_ruled(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """`upright_page`, with its ruling lines when straightening found them on the page as it is
    returned (a page flattened or turned upside down is ruled again)."""
    from extract.readers.image_prep import clean_page, sideways

    grey = clean_page(pixels)
    if sideways(grey):
        grey = np.ascontiguousarray(np.rot90(grey))
    level = deskew(grey)
    grid: np.ndarray | None = _ruling(level)
    grey = straighten(level, grid)
    if grey is not level:
        grid = None
    if _upside_down(grey):
        grey, grid = np.ascontiguousarray(np.rot90(grey, 2)), None
    return grey, grid


def _upside_down(grey: np.ndarray) -> bool:
    crops = _text_line_crops(grey)
    if not crops:
        return False
    _, labels, _ = engine().text_cls(crops)
    votes = sum((1 if "180" in str(label) else -1) * float(score) for label, score in labels)
    return votes > 0


def _text_line_crops(grey: np.ndarray, limit: int = 12) -> list[np.ndarray]:
    """Crops of the widest printed text lines (not ruling lines) of an upright-or-upside-down page."""
    import cv2

    ink: Any = (grey < _INK).astype(np.uint8)
    rules: Any = cv2.bitwise_or(cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (61, 1))),
                                cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 61))))
    text: Any = ink * (cv2.dilate(rules, np.ones((3, 3), np.uint8)) == 0)
    lines = cv2.dilate(text, cv2.getStructuringElement(cv2.MORPH_RECT, (25, 3)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    found = []
    for index in range(1, count):
        x, y, w, h, _area = stats[index]
        if 14 <= h <= 70 and w >= 4 * h:
            found.append((w, x, y, h))
    found.sort(reverse=True)
    return [cv2.cvtColor(np.ascontiguousarray(grey[y:y + h, x:x + w]), cv2.COLOR_GRAY2BGR)
            for w, x, y, h in found[:limit]]


def ocr_picture_tables(page: Any, number: int) -> tuple[list[tuple[float, Row]], float]:
    """Only the ruled tables of a page that has a text layer but prints its tables as
    pictures; each row with its top edge in points, for merging with the text lines."""
    from extract.readers.image_prep import clean_page

    grey = deskew(clean_page(page.render(scale=DPI / 72).to_numpy()))
    placed: list[tuple[float, Row]] = []
    scores: list[float] = []
    for table, cells in enumerate(find_tables(grey), start=1):
        rows, table_scores = _table_rows(grey, cells, number, table)
        placed += [(top * 72 / DPI, row) for top, row in rows]
        scores += table_scores
    return placed, float(np.mean(scores)) if scores else 0.0


def read_image(data: bytes) -> Document:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = _MAX_PIXELS
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > _MAX_PIXELS:
            raise ReaderError(Findings.IMAGE_TOO_LARGE, "图片过大", "the image is too large to read")
        image.load()
    except Image.DecompressionBombError as exc:
        raise ReaderError(Findings.IMAGE_TOO_LARGE, "图片过大", f"the image is too large to read: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ReaderError(Findings.BROKEN_IMAGE, f"图片无法解析：{exc}", f"the image cannot be decoded: {exc}") from exc
    import cv2

    pixels = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)
    grey, grid = _upright_and_ruled(pixels)
    rows, confidence = ocr_grey(grey, 1, grid)
    from report.record import OcrPage

    return Document(rows=rows, reader="image-ocr", pages=1, ocr_pages=[OcrPage(page=1, confidence=round(confidence, 4))])


def ocr_grey(grey: np.ndarray, number: int, grid: np.ndarray | None = None) -> tuple[list[Row], float]:
    """Rows of one upright, cleaned page image (grey, uint8; `upright_page`; `grid` its `_ruling`
    when known) and the mean recognition confidence."""
    grid = _ruling(grey) if grid is None else grid
    tables = find_tables(grey, grid)
    placed: list[tuple[float, Row]] = []
    scores: list[float] = []
    prose = grey.copy()
    for table, cells in enumerate(tables, start=1):
        rows, table_scores = _table_rows(grey, cells, number, table)
        placed += rows
        scores += table_scores
        _blank_table(prose, cells, grid)
    boxes = _detect_and_read(prose)
    scores += [b.score for b in boxes]
    for top, line in _box_lines(boxes):
        if top > _FOOTER * grey.shape[0] and _PAGE_NUMBER.match("".join(box.text for box in line)):
            continue  # the page's number in its bottom margin, not a figure of the table above
        placed.append((top, Row(_line_cells(line, number), number, _SPACE)))
    placed.sort(key=lambda item: item[0])
    confidence = float(np.mean(scores)) if scores else 0.0
    return [row for _, row in placed], confidence


def _blank_table(prose: np.ndarray, cells: list[tuple[int, int, int, int]], grid: np.ndarray) -> None:
    """Make a table that has been read paper (in place), its outline's rules too: a rule left
    standing would join the prose above and below it into one band as tall as the page, and
    text detection's work grows with the band's area."""
    x0 = max(min(c[0] for c in cells) - 3, 0)
    y0 = max(min(c[1] for c in cells) - 3, 0)
    x1 = max(c[2] for c in cells) + 3
    y1 = max(c[3] for c in cells) + 3
    prose[y0:y1, x0:x1] = 255
    reach = _BLANK_RULE_REACH
    around = (slice(max(y0 - reach, 0), y1 + reach), slice(max(x0 - reach, 0), x1 + reach))
    prose[around][grid[around] > 0] = 255


# ---------------------------------------------------------------- geometry
def deskew(grey: np.ndarray) -> np.ndarray:
    """Rotate so that the long ruling lines are level (scans come in turned by a degree or two)."""
    import cv2

    small = cv2.resize(grey, (grey.shape[1] // 2, grey.shape[0] // 2), interpolation=cv2.INTER_AREA)
    ink: Any = (small < _INK).astype(np.uint8) * 255
    # Only long horizontal strokes matter: open with a wide kernel before the Hough transform.
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (25, 1)))
    angles = _rule_angles(ink, small.shape[1] // 4)
    if not angles:
        angles = _text_angles((small < _INK).astype(np.uint8) * 255)
    if not angles:
        return grey
    angle = float(np.median(angles))
    if abs(angle) < 0.05:
        return grey
    height, width = grey.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(grey, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)


def _rule_angles(ink: np.ndarray, shortest: int) -> list[float]:
    """The angle (degrees) of every long horizontal rule: each connected run of opened ink at
    least `shortest` wide, fitted by least squares (a Hough transform over every angle costs
    twenty times more for the same figure)."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    angles = []
    for index in range(1, count):
        x, y, w, h, _area = stats[index]
        if w < shortest or h > 0.1 * w:
            continue
        ys, xs = np.nonzero(labels[y:y + h, x:x + w] == index)
        slope = float(np.polyfit(xs.astype(np.float64), ys.astype(np.float64), 1)[0])
        angle = float(np.degrees(np.arctan(slope)))
        if abs(angle) < 5:
            angles.append(angle)
    return angles


def straighten(grey: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
    """Undo the perspective of a photographed page: the largest ruled table is a rectangle on
    paper, so the homography that makes its outline one again makes the whole page flat
    (`grid`: the page's `_ruling`, when known)."""
    import cv2

    corners = _table_outline(grey, grid)
    if corners is None:
        return grey
    top_left, top_right, bottom_right, bottom_left = corners
    width = (np.linalg.norm(top_right - top_left) + np.linalg.norm(bottom_right - bottom_left)) / 2
    height = (np.linalg.norm(bottom_left - top_left) + np.linalg.norm(bottom_right - top_right)) / 2
    target = top_left + np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    shift = float(np.abs(corners - target).max())
    if shift < _FLAT or shift > 0.08 * max(grey.shape):
        return grey  # already flat (or not a table's outline: leave the page as it is)
    matrix = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    return cv2.warpPerspective(grey, matrix, (grey.shape[1], grey.shape[0]), flags=cv2.INTER_LINEAR, borderValue=255)


def _table_outline(grey: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray | None:
    """The four corners (top-left, top-right, bottom-right, bottom-left) of the largest ruled
    table, when its outline is a quadrilateral."""
    import cv2

    grid = _ruling(grey) if grid is None else grid
    contours, _ = cv2.findContours(grid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(largest)
    area = cv2.contourArea(hull)
    if area < 0.05 * grey.size:
        return None
    for share in (0.01, 0.02, 0.04):
        quad = cv2.approxPolyDP(hull, share * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float32)
        if len(quad) == 4:
            break
    else:
        return None
    if cv2.contourArea(quad) < 0.97 * area:
        return None
    sums, diffs = quad.sum(axis=1), np.diff(quad, axis=1).ravel()
    return np.array([quad[np.argmin(sums)], quad[np.argmin(diffs)], quad[np.argmax(sums)], quad[np.argmax(diffs)]],
                    dtype=np.float32)


def _ruling(grey: np.ndarray) -> np.ndarray:
    """The page's ruling lines (255), found by opening the ink with long thin kernels."""
    import cv2

    height, width = grey.shape
    # A blur spreads a thin rule into a faint one (grey 150–200 along its middle): faint ink
    # is a rule only where it stays thin and runs further than any glyph — across a table's
    # width (a quarter of the page: the halos of a bold heading's characters run together over
    # a few of them), down twice as far as a dark rule must.
    dark = grey < 160
    rules = cv2.bitwise_or(cv2.bitwise_or(_runs(dark, True, width // 30), _runs(dark, False, height // 80)),
                           _faint_rules(grey < _FAINT))
    grid: Any = cv2.dilate(rules, np.ones((3, 3), np.uint8))
    return grid


def _faint_rules(faint: np.ndarray) -> np.ndarray:
    """The faint runs that are rules (see `_ruling`). Each direction is looked for on every
    other pixel along it (a rule runs on, a gap between two characters is wider than one
    pixel), at half the work: its opening's kernel is long."""
    import cv2

    height, width = faint.shape
    gap = (_RULE_GAP + 1) // 2
    horizontal = _runs(faint[:, ::2], True, width // 8, gap, thickest=_THICKEST_RULE)
    vertical = _runs(faint[::2, :], False, height // 80, gap, thickest=_THICKEST_RULE)
    rules: Any = cv2.bitwise_or(np.repeat(horizontal, 2, axis=1)[:, :width], np.repeat(vertical, 2, axis=0)[:height])
    return rules


def _runs(ink: np.ndarray, along: bool, length: int, gap: int = _RULE_GAP, thickest: int | None = None
          ) -> np.ndarray:
    """The runs of `ink` (255) at least `length` pixels long (at least 20 along, 15 down), along
    the page or down it, gaps of up to `gap` pixels bridged; when `thickest` is given, only those
    no thicker across."""
    import cv2

    def line(pixels: int) -> np.ndarray:
        return cv2.getStructuringElement(cv2.MORPH_RECT, (pixels, 1) if along else (1, pixels))

    # A salt speck or a fax's dropout cuts a one-pixel rule: bridge short gaps before opening
    # (glyph strokes stay far shorter than the opening's kernel).
    bridged = cv2.morphologyEx(ink.astype(np.uint8) * 255, cv2.MORPH_CLOSE, line(gap))
    runs: Any = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, line(max(length, 20 if along else 15)))
    if thickest is None:
        return runs
    across = (1, thickest + 1) if along else (thickest + 1, 1)
    return _thin_only(runs, across, cv2.CC_STAT_HEIGHT if along else cv2.CC_STAT_WIDTH, thickest)


def _thin_only(runs: np.ndarray, across: tuple[int, int], thickness: int, thickest: int) -> np.ndarray:
    """`runs` without the pieces thicker than `thickest` across them (`across`: the kernel that
    finds such a thickness; most pages have none, and labelling the pieces costs more)."""
    import cv2

    if not cv2.morphologyEx(runs, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, across)).any():
        return runs
    count, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    thin = stats[:, thickness] <= thickest
    if thin[1:].all():
        return runs
    thin[0] = False
    kept: Any = (thin * np.uint8(255)).astype(np.uint8)[labels]
    return kept


def _text_angles(ink: np.ndarray) -> list[float]:
    """Without ruling lines: the angle that makes the row profile sharpest."""
    import cv2

    small = cv2.resize(ink, (ink.shape[1] // 2, ink.shape[0] // 2), interpolation=cv2.INTER_AREA)
    best, best_score = 0.0, -1.0
    height, width = small.shape
    for angle in np.arange(-3, 3.01, 0.25):
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        rotated = cv2.warpAffine(small, matrix, (width, height))
        profile = rotated.sum(axis=1).astype(np.float64)
        score = float(np.sum(np.diff(profile) ** 2))
        if score > best_score:
            best, best_score = float(angle), score
    return [best]


def find_tables(grey: np.ndarray, grid: np.ndarray | None = None) -> list[list[tuple[int, int, int, int]]]:
    """Cells (x0, y0, x1, y1) of each ruled table on the page (`grid`: its `_ruling`, when known)."""
    import cv2

    height, width = grey.shape
    grid = _ruling(grey) if grid is None else grid
    count, _, stats, _ = cv2.connectedComponentsWithStats(grid, connectivity=8)
    tables = []
    for index in range(1, count):
        x, y, w, h, _area = stats[index]
        if w < width // 4 or h < 30:
            continue
        cells = _cells_in(grid[y:y + h, x:x + w], x, y)
        if len(cells) >= 2:
            tables.append(cells)
    return tables


def _cells_in(grid: np.ndarray, offset_x: int, offset_y: int) -> list[tuple[int, int, int, int]]:
    import cv2

    grid = grid.copy()
    # A table cut by a page break has no top (or bottom) rule: close the box around it.
    # (Wide: the ends of the cut rules may stop a few pixels short of the box.)
    edge = _BOX_EDGE
    grid[:edge], grid[-edge:], grid[:, :edge], grid[:, -edge:] = 255, 255, 255, 255
    inside = cv2.bitwise_not(grid)
    count, _, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=4)
    height, width = grid.shape
    cells = []
    for index in range(1, count):
        x, y, w, h, area = stats[index]
        touches_edge = x == 0 or y == 0 or x + w >= width or y + h >= height
        if touches_edge or w < 12 or h < 12 or area < 0.5 * w * h:
            continue
        cells.append((offset_x + x, offset_y + y, offset_x + x + w, offset_y + y + h))
    return cells


# ---------------------------------------------------------------- reading cells
def _table_rows(grey: np.ndarray, cells: list[tuple[int, int, int, int]], number: int, table: int) -> tuple[
        list[tuple[float, Row]], list[float]]:
    from extract.readers.image_prep import without_specks

    heights = sorted(c[3] - c[1] for c in cells)
    line_height = heights[len(heights) // 4] if heights else 30
    # Every crop of the table goes through the recogniser in one batch: a one-line
    # cell is one crop, a multi-line (or vertical) cell one crop per printed line.
    crops: list[np.ndarray] = []
    raw_parts: list[np.ndarray] = []
    clean_parts: list[np.ndarray] = []
    owners: list[int] = []
    texts: dict[int, tuple[str, float]] = {}
    kept: dict[int, tuple[np.ndarray, ...]] = {}
    for index, (x0, y0, x1, y1) in enumerate(cells):
        crop = grey[y0 + 2:y1 - 2, x0 + 2:x1 - 2]
        if crop.size == 0 or int((crop[2:-2, 2:-2] < _FAINT).sum()) < _MIN_FAINT_PIXELS:
            texts[index] = ("", 1.0)
            continue
        parts = [crop]
        text_line = min(line_height, 0.3 * DPI)  # a table of two-line cells has a tall median
        if (y1 - y0) > 1.25 * text_line:
            # Lines are cut where the ink profile has a gap: specks must not bridge it; pieces
            # much shorter than a line are parts of one figure (a thin stroke), not lines.
            cleaned = without_specks(crop)
            # A strip of a speck or two below the last line is no line (a 一 has more ink; faint
            # ink counts: a blurred digit has few dark pixels).
            strips = [(a, b) for a, b in _line_strips(cleaned) if int((cleaned[a:b] < _FAINT).sum()) >= _MIN_INK_PIXELS]
            shortest = min(0.45 * text_line, 0.6 * max((b - a for a, b in strips), default=0))
            if len(strips) >= 2 and all(b - a >= shortest for a, b in strips):
                parts = [crop[a:b] for a, b in strips]
        if x1 - x0 < _FIGURE_CELL * line_height:  # a figure's cell: kept for reading again
            kept[index] = tuple(np.array(part) for part in parts)
        for raw in parts:
            part = without_specks(raw)
            if int((part < _FAINT).sum()) < _MIN_FAINT_PIXELS:
                continue  # only specks: an empty cell, never a figure
            crops.append(_trim_crop(part))
            raw_parts.append(raw)
            clean_parts.append(part)
            owners.append(index)
    results = _recognise(crops)
    # A lone figure the recogniser returns nothing for (it sees a 0 as a circle): read the
    # crop as cut, at twice the scale, with strokes thickened, smoothed, and at last smoothed or
    # thickened and padded as wide as a text line (a 1-bit scan's thin 0 reads only so) — there,
    # a figure only; ink is never silently an empty cell.
    missed = [i for i, (text, _) in enumerate(results) if not text]
    for variant, padded in ((_as_cut, None), (_twice, None), (_thicker, None), (_smoothed, None),
                            (_smoothed, _TEXT_LINE_WIDTH), (_thicker, _TEXT_LINE_WIDTH)):
        if not missed:
            break
        again = _recognise([_trim_crop(variant(raw_parts[i], clean_parts[i])) for i in missed], padded)
        for i, reading in zip(missed, again, strict=True):
            if reading[0] and (padded is None or _FIGURE.fullmatch(_digits(reading[0]))):
                results[i] = reading
        missed = [i for i in missed if not results[i][0]]
    _reread_marks(results, raw_parts, clean_parts)
    _reread_unsure_words(results, raw_parts)
    lines: dict[int, list[tuple[str, float]]] = {}
    for owner, (text, score) in zip(owners, results, strict=True):
        if text:
            lines.setdefault(owner, []).append((_digits(text), score))
    for index, read in lines.items():
        texts[index] = ("\n".join(t for t, _ in read), float(np.mean([s for _, s in read])))
    for index in range(len(cells)):
        texts.setdefault(index, ("", 0.0))
    rows: list[tuple[float, Row]] = []
    for top, members in _cell_bands(cells, line_height):
        row_cells = [_cell(texts[i][0], cells[i], CellRead(number, kept.get(i, ()), texts[i][1])) for i in members]
        rows.append((float(top), Row(row_cells, number, _SPACE, gridded=True, table=table)))
    scores = [score for text, score in texts.values() if text]
    return rows, scores


# Below this confidence a reading of words is checked against the crop as cut.
_UNSURE = 0.9
_FIGURE = re.compile(r"\d[\d,]*(\.\d+)?")
_IDEOGRAPH = re.compile(r"[\u4e00-\u9fff]")


def _reread_marks(results: list[tuple[str, float]], raw_parts: list[np.ndarray],
                  clean_parts: list[np.ndarray]) -> None:
    """A crop read as marks that are neither a figure nor words ('?' for a 3 with a speck stuck
    to it, '}' for a 1 a fax has frayed): read again without the solid blobs thicker than the
    print's strokes, then smoothed, then at twice the scale; a new reading is kept only if it
    is a figure of as many characters (in place)."""
    suspect = [i for i, (text, _) in enumerate(results) if text and _looks_misread(text)]
    for variant in (_unblobbed, _smoothed, _twice):
        if not suspect:
            return
        again = _recognise([_trim_crop(variant(raw_parts[i], clean_parts[i])) for i in suspect])
        for i, (text, score) in zip(suspect, again, strict=True):
            # as many characters as first read: each mark a digit, none lost or made up
            if text and _FIGURE.fullmatch(_digits(text)) and len(_digits(text)) == len(_digits(results[i][0])):
                results[i] = (text, score)
        suspect = [i for i in suspect if _looks_misread(results[i][0])]


def _reread_unsure_words(results: list[tuple[str, float]], raw_parts: list[np.ndarray]) -> None:
    """Words the recogniser is unsure of (a 自 read as 白 once a stroke broken by the scan has
    been taken for specks) read again from the crop as cut; the surer reading is kept (in place)."""
    unsure = [i for i, (text, score) in enumerate(results) if score < _UNSURE and _IDEOGRAPH.search(text)]
    if not unsure:
        return
    again = _recognise([_trim_crop(raw_parts[i]) for i in unsure])
    for i, (text, score) in zip(unsure, again, strict=True):
        if text and score > results[i][1]:
            results[i] = (text, score)


def _looks_misread(text: str) -> bool:
    """A figure cell's reading that is neither a figure nor words (an empty marker, a label)."""
    read = _digits(text)
    return bool(read) and not _FIGURE.fullmatch(read) and not _IDEOGRAPH.search(read) and read not in "-—/／"


def _cell(text: str, box: tuple[int, int, int, int], read: CellRead) -> Cell:
    """A cell with its box on the upright page image (pixels at `DPI`) and how it was read."""
    x0, y0, x1, y1 = box
    return Cell(text, float(x0), float(x1), float(y0), float(y1), read=read)


# Other preprocessing of a cell's crop, each from the crop as cut (`raw`) and the crop without
# its specks (`clean`, computed once: image_prep.without_specks).
def _as_cut(raw: np.ndarray, clean: np.ndarray) -> np.ndarray:
    return raw


def _twice(raw: np.ndarray, clean: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(clean, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


def _thicker(raw: np.ndarray, clean: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.erode(clean, np.ones((2, 2), np.uint8))


def _thinner(raw: np.ndarray, clean: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.dilate(clean, np.ones((2, 2), np.uint8))


def _smoothed(raw: np.ndarray, clean: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(clean, (3, 3), 0)


def _binary(raw: np.ndarray, clean: np.ndarray) -> np.ndarray:
    import cv2

    _, hard = cv2.threshold(clean, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.GaussianBlur(hard, (3, 3), 0)


def _rejoined(raw: np.ndarray, clean: np.ndarray) -> np.ndarray:
    from extract.readers.image_prep import with_strokes_rejoined

    return with_strokes_rejoined(raw)


def _unblobbed(raw: np.ndarray, clean: np.ndarray) -> np.ndarray:
    from extract.readers.image_prep import without_blobs, without_specks

    return without_specks(without_blobs(raw))


_DIGIT_LOOKALIKES = str.maketrans({"o": "0", "O": "0", "〇": "0", "D": "0", "C": "0", "c": "0", "Q": "0",
                                   "l": "1", "I": "1", "i": "1", "|": "1", "!": "1",
                                   "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "，": ",", "。": "."})


_DIGITISH = "oO〇DCcQlIi|!SsBZz.,，。-"
# What a speck left in a number cell reads as: never part of the figure at its ends.
_SPECK_READINGS = ".,，。'\"`·:;_、"
_SPECK_MARKS = "'\"`,，:;_、"


def _digits(text: str) -> str:
    """A cell read as 'o' or 'l' is a 0 or a 1: fix the recogniser's digit look-alikes,
    but only in a cell made of nothing else; a speck read as a mark before or after the
    figure ('5.', '"3') is dropped."""
    compact = "".join(text.split())
    if compact and all(ch in _SPECK_MARKS for ch in compact):
        return ""  # a speck read as a mark: no print (a blurred 0 may read as a dot: not dropped)
    stripped = compact.strip(_SPECK_READINGS).rstrip("-").replace('"', "").replace("'", "").replace("`", "")
    if stripped and any(ch.isdigit() for ch in stripped) and all(ch.isdigit() or ch in _DIGITISH for ch in stripped):
        compact = stripped
    if compact and len(compact) <= 12 and all(ch.isdigit() or ch in _DIGITISH for ch in compact) \
            and any(ch not in ".,，。-" for ch in compact):
        return compact.translate(_DIGIT_LOOKALIKES)
    return text


def _trim_crop(crop: np.ndarray) -> np.ndarray:
    """Cut the blank margin of a cell, leaving a little white around the ink (rec wants a line).
    The box is the dark ink's; faint ink widens it only when a whole faint glyph lies outside
    (a blurred thin '3' has no dark pixel at all), not by the halo of the dark strokes."""
    import cv2

    box = _ink_box(crop < _INK)
    faint = _ink_box(_strokes(crop))
    pad = 6
    if box is None or (faint is not None and max(abs(a - b) for a, b in zip(box, faint, strict=True)) > pad):
        box = faint
    if box is None:
        return crop
    top, bottom, left, right = box
    y0, y1 = max(top - pad, 0), min(bottom + pad + 1, crop.shape[0])
    x0, x1 = max(left - pad, 0), min(right + pad + 1, crop.shape[1])
    trimmed = crop[y0:y1, x0:x1]
    return cv2.cvtColor(np.ascontiguousarray(trimmed), cv2.COLOR_GRAY2BGR)


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the ink, None without ink."""
    ys = np.where(ink.any(axis=1))[0]
    xs = np.where(ink.any(axis=0))[0]
    if len(ys) == 0 or len(xs) == 0:
        return None
    return int(ys[0]), int(ys[-1]), int(xs[0]), int(xs[-1])


def _strokes(crop: np.ndarray) -> np.ndarray:
    """Ink (True) of a crop: dark pixels, and faint pieces of at least `_MIN_FAINT_PIXELS`."""
    import cv2

    faint = (crop < _FAINT).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(faint, connectivity=8)
    held = stats[:, cv2.CC_STAT_AREA] >= _MIN_FAINT_PIXELS
    held[0] = False
    return (crop < _INK) | held[labels]


def _cell_bands(cells: list[tuple[int, int, int, int]], line_height: int) -> list[tuple[int, list[int]]]:
    """Cells grouped into printed rows by their top edge (a rowspan cell joins its first row)."""
    order = sorted(range(len(cells)), key=lambda i: (cells[i][1], cells[i][0]))
    bands: list[tuple[int, list[int]]] = []
    for index in order:
        top = cells[index][1]
        if bands and abs(top - bands[-1][0]) <= max(line_height // 3, 6):
            bands[-1][1].append(index)
        else:
            bands.append((top, [index]))
    return [(top, sorted(members, key=lambda i: cells[i][0])) for top, members in bands]


def _detect_and_read(grey: np.ndarray) -> list[_Box]:
    """Text lines of a region: detection on a half-size copy (enough for body text at
    200 dpi and four times cheaper) of each band that has ink — the tables, already read,
    are blank and cost nothing — and recognition on full-size crops."""
    if grey.size == 0 or int((grey < _INK).sum()) < _MIN_INK_PIXELS:
        return []
    regions = []
    for x0, y0, x1, y1 in _ink_bands(grey):
        regions += [(a + x0, b + y0, c + x0, d + y0) for a, b, c, d in _detect_lines(grey[y0:y1, x0:x1])]
    texts = _recognise([grey[y0:y1, x0:x1] for x0, y0, x1, y1 in regions])
    return [_Box(x0, y0, x1, y1, text, score) for (x0, y0, x1, y1), (text, score) in zip(regions, texts, strict=True)
            if text and score >= 0.5]


def _ink_bands(grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of the horizontal bands of the page that have ink, split where
    a blank stretch is taller than a few text lines."""
    inked = np.flatnonzero((grey < _INK).any(axis=1))
    if len(inked) == 0:
        return []
    splits = np.flatnonzero(np.diff(inked) > _BAND_GAP)
    starts, ends = [inked[0], *inked[splits + 1]], [*inked[splits], inked[-1]]
    bands = []
    for top, bottom in zip(starts, ends, strict=True):
        y0, y1 = max(int(top) - _BAND_PAD, 0), min(int(bottom) + _BAND_PAD + 1, grey.shape[0])
        columns = np.flatnonzero((grey[y0:y1] < _INK).any(axis=0))
        x0, x1 = max(int(columns[0]) - _BAND_PAD, 0), min(int(columns[-1]) + _BAND_PAD + 1, grey.shape[1])
        bands.append((x0, y0, x1, y1))
    return bands


def _detect_lines(grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    import cv2

    small = cv2.resize(grey, (max(grey.shape[1] // 2, 1), max(grey.shape[0] // 2, 1)), interpolation=cv2.INTER_AREA)
    found, _ = engine().text_det(cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_GRAY2BGR))
    if found is None or len(found) == 0:
        return []
    regions = []
    for points in found:
        xs = [p[0] * 2 for p in points]
        ys = [p[1] * 2 for p in points]
        x0, y0 = max(int(min(xs)) - 4, 0), max(int(min(ys)) - 4, 0)
        x1, y1 = min(int(max(xs)) + 4, grey.shape[1]), min(int(max(ys)) + 4, grey.shape[0])
        if x1 - x0 > 4 and y1 - y0 > 4:
            regions.append((x0, y0, x1, y1))
    return regions


def _recognise(crops: list[np.ndarray], padded: int | None = None, *, alike_once: bool = True) -> list[tuple[str, float]]:
    """The recogniser's reading of each crop (each padded to at least `padded` pixels wide at
    the recogniser's height, by default as narrow as its kind allows). A table prints the same
    digit many times ('0' in most cells of 表三): crops of one digit whose ink is all but
    identical are recognised once — unless `alike_once` is off (variants of one crop differ by
    design, sometimes by a stroke that decides the digit)."""
    import cv2

    if not crops:
        return []
    images = [cv2.cvtColor(np.ascontiguousarray(c), cv2.COLOR_GRAY2BGR) if c.ndim == 2 else c for c in crops]
    prints = [_glyph_print(image) for image in images]
    first = _first_alike(prints) if alike_once else list(range(len(images)))
    distinct = sorted(set(first))
    read: dict[int, tuple[str, float]] = {}
    for narrow in (True, False):
        batch = [i for i in distinct if (prints[i] is not None) == narrow]
        results = _read_lines([images[i] for i in batch], padded or (_NARROWEST_DIGIT if narrow else _NARROWEST_LINE))
        read.update((index, (str(text).strip(), float(score))) for index, (text, score) in zip(batch, results, strict=True))
    return [read[index] for index in first]


def _read_lines(images: list[np.ndarray], narrowest: int) -> list[tuple[str, float]]:
    """The recogniser's readings, each image padded to at least `narrowest` pixels at the
    recogniser's height of 48 (its work grows with the padded width)."""
    if not images:
        return []
    recogniser = engine().text_rec
    recogniser.rec_image_shape = [3, 48, narrowest]
    try:
        results, _ = recogniser(images)
    finally:   # the shared recogniser keeps its own minimum for every other caller (prose lines)
        recogniser.rec_image_shape = [3, 48, _NARROWEST_LINE]
    return list(results)


def _glyph_print(image: np.ndarray) -> np.ndarray | None:
    """A single digit's ink (a grey or BGR crop), cut to its box and scaled to a small fixed height
    (None for wider text). The box holds faint strokes too: a blurred 13 whose 3 is all faint is no 1."""
    import cv2

    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ink = _strokes(grey)
    rows, columns = np.where(ink.any(axis=1))[0], np.where(ink.any(axis=0))[0]
    if len(rows) == 0:
        return None
    box = grey[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    width = max(1, round(_PRINT_HEIGHT * box.shape[1] / box.shape[0]))
    if width > _PRINT_WIDEST:
        return None
    return cv2.resize(box, (width, _PRINT_HEIGHT), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def _first_alike(prints: list[np.ndarray | None]) -> list[int]:
    """For each crop, the first crop whose print is within `_ALIKE` of it (itself if none)."""
    first: list[int] = []
    shown: dict[tuple[int, int], list[int]] = {}
    for index, glyph in enumerate(prints):
        match = index
        if glyph is not None:
            for earlier in shown.setdefault(glyph.shape, []):
                if float(np.mean(np.abs(prints[earlier] - glyph))) < _ALIKE:  # type: ignore[operator]
                    match = earlier
                    break
            else:
                shown[glyph.shape].append(index)
        first.append(match)
    return first


def _merge_broken_strips(strips: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A character with a gap across it (总, 二) is cut in two by the ink profile: glue a
    strip much shorter than a text line to its neighbour when the gap between them is small."""
    typical = max(b - a for a, b in strips)  # one character's height: the pieces are shorter
    merged = [strips[0]]
    for top, bottom in strips[1:]:
        last_top, last_bottom = merged[-1]
        short = min(bottom - top, last_bottom - last_top) < 0.75 * typical
        # strips that overlap (a gap of a faint stroke, thinner than their padding) are one glyph
        # unless together they are as tall as two lines
        touching = top <= last_bottom and bottom - last_top <= 1.5 * typical
        if touching or (short and top - last_bottom < 0.35 * typical and bottom - last_top <= 1.2 * typical):
            merged[-1] = (last_top, bottom)
        else:
            merged.append((top, bottom))
    return merged


def _line_strips(crop: np.ndarray) -> list[tuple[int, int]]:
    """A cell with several printed lines (or a vertical one-character-per-line label)
    cut into lines by the ink profile."""
    ink_total = (crop < _FAINT).sum(axis=1)  # faint: a thin '1' is mostly anti-aliasing
    strips = []
    start = None
    for y, inked in enumerate([*(ink_total > 1), False]):
        if inked and start is None:
            start = y
        elif not inked and start is not None:
            if y - start >= 4 and int(ink_total[start:y].sum()) >= _MIN_FAINT_PIXELS:
                strips.append((max(start - 3, 0), min(y + 3, crop.shape[0])))
            start = None
    return _merge_broken_strips(strips) if strips else []


def _box_lines(boxes: list[_Box]) -> list[tuple[float, list[_Box]]]:
    lines: list[tuple[float, list[_Box]]] = []
    for box in sorted(boxes, key=lambda b: ((b.y0 + b.y1) / 2, b.x0)):
        middle = (box.y0 + box.y1) / 2
        height = max(box.y1 - box.y0, 1.0)
        if lines:
            last = lines[-1][1][-1]
            if abs(middle - (last.y0 + last.y1) / 2) <= 0.5 * height:
                lines[-1][1].append(box)
                continue
        lines.append((box.y0, [box]))
    return [(top, sorted(line, key=lambda b: b.x0)) for top, line in lines]


def _line_cells(line: list[_Box], number: int) -> list[Cell]:
    return [Cell(box.text, box.x0, box.x1, box.y0, box.y1, read=CellRead(number, (), box.score)) for box in line]


# ---------------------------------------------------------------- reading a cell again
def has_print(read: CellRead) -> bool:
    """Does the cell hold printed ink once its specks are dropped (a figure that read as nothing)?"""
    from extract.readers.image_prep import without_specks

    return any(int((without_specks(crop) < _INK).sum()) >= _MIN_INK_PIXELS for crop in read.crops)


def reread(read: CellRead) -> list[tuple[str, float]]:
    """Other readings of a cell, each from other preprocessing of its crops: twice the scale,
    the crop as cut (specks and all), a hard binarisation, strokes thickened, thinned, smoothed,
    solid specks taken off, strokes a threshold broke joined again. For a cell the report's
    identities say is wrong (extract.ocr_repair); never a value that no reading gave. A preprocessing that leaves every crop as first read
    (no speck, no blob to take off) would only give the first reading again: it is not read."""
    from extract.readers.image_prep import without_specks

    if not read.crops:
        return []  # a cell read without keeping its crops (a label, prose) has no other reading
    cleaned = [without_specks(part) for part in read.crops]
    seen = [_crop_key([_trim_crop(clean) for clean in cleaned])]
    crops: list[np.ndarray] = []
    for variant in (_twice, _as_cut, _binary, _thicker, _thinner, _smoothed, _unblobbed, _rejoined):
        lines = [_trim_crop(variant(part, clean)) for part, clean in zip(read.crops, cleaned, strict=True)]
        if _crop_key(lines) not in seen:
            seen.append(_crop_key(lines))
            crops += lines
    results = _recognise(crops, alike_once=False)
    width = len(read.crops)
    readings = []
    for start in range(0, len(results), width):
        variant_lines = results[start:start + width]
        text = "\n".join(_digits(t) for t, _ in variant_lines if t)
        readings.append((text, float(np.mean([score for _, score in variant_lines]))))
    return readings


def glyph(read: CellRead) -> np.ndarray | None:
    """The print of a cell that holds one glyph on one line (its ink, specks dropped, at the
    height prints are compared at), or None."""
    from extract.readers.image_prep import without_specks

    if len(read.crops) != 1:
        return None
    return _glyph_print(_trim_crop(without_specks(read.crops[0])))


def glyph_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean grey difference (0–1) of two prints, the narrower stretched to the wider's width."""
    import cv2

    width = max(a.shape[1], b.shape[1])
    if a.shape[1] != width:
        a = cv2.resize(a, (width, a.shape[0]), interpolation=cv2.INTER_LINEAR)
    if b.shape[1] != width:
        b = cv2.resize(b, (width, b.shape[0]), interpolation=cv2.INTER_LINEAR)
    return float(np.mean(np.abs(a - b)))


def _crop_key(crops: list[np.ndarray]) -> tuple[tuple[tuple[int, ...], bytes], ...]:
    return tuple((crop.shape, crop.tobytes()) for crop in crops)
