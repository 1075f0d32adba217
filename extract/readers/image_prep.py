"""A page image made fit for recognition, as a document pipeline does before OCR.

In order: coloured ink (a red official seal, a blue stamp) is lifted off the black print;
the paper is flattened (grey photocopy background, uneven light of a photographed page,
bleed-through of the reverse side); the ink is binarised adaptively; isolated specks
(salt-and-pepper, toner dust) are dropped; and the page is turned to its reading
orientation (0/90/180/270). The result is a grey page whose background is white and whose
ink keeps its anti-aliased edges (the recogniser reads those better than hard 1-bit strokes).
Deskewing and the grid come after, in `extract.readers.ocr`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# A pixel this much more saturated than grey is coloured ink (a seal), not print.
_COLOURED = 70
# Beside coloured ink, a pixel this much more saturated than grey is its rim.
_TINTED = 12
# Ink this much darker than the paper around it is print; fainter is background or bleed-through.
_CONTRAST = 0.72
_FAINT_INK = 232
# Ink components smaller than this (pixels at 200 dpi) with no print close by are specks.
_SPECK_AREA = 64
_SPECK_SIDE = 9
# A small mark is part of the print within half a character of a glyph (rows, columns), or
# on the baseline between two digits up to half a digit's width (rows, columns) from each (a
# decimal point between digits that a 1-bit scan has worn thin).
_NEAR_GLYPH = (15, 15)
_ON_BASELINE = (7, 11)
# In a cell: ink is anything not paper (the page is clean).
_CELL_INK = 215


def to_grey(pixels: np.ndarray) -> np.ndarray:
    """Grey page from a rendered one (grey, BGR or BGRA): strongly coloured pixels take their
    brightest channel, so a red seal over a table turns pale and the black print under it stays."""
    import cv2

    if pixels.ndim == 2:
        return pixels
    colour = np.ascontiguousarray(pixels[:, :, :3])
    grey = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    blue, green, red = cv2.split(colour)
    top = cv2.max(cv2.max(blue, green), red)
    chroma = cv2.subtract(top, cv2.min(cv2.min(blue, green), red))
    saturated = chroma > _COLOURED
    if saturated.any():
        # A dark seal's brightest channel is still grey (a deep red's is ~195): paper seen through
        # its ink is that level, and is lifted to white, print under it stays dark. Its rims,
        # blended with the paper, are tinted less: they are lifted too.
        paper_through_ink = max(float(np.median(top[saturated])), 1.0)
        rims = cv2.dilate(saturated.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & (chroma > _TINTED)
        lifted = np.clip(top.astype(np.float32) * (255.0 / paper_through_ink), 0, 255).astype(np.uint8)
        grey = np.where(saturated | rims, lifted, grey)
    return np.ascontiguousarray(grey)


def flatten(grey: np.ndarray) -> np.ndarray:
    """Divide by the paper: a closing wider than any stroke removes the print and leaves the
    background (grey, uneven, shaded); print is then measured against its own surroundings."""
    import cv2

    small = cv2.resize(grey, (max(grey.shape[1] // 4, 1), max(grey.shape[0] // 4, 1)), interpolation=cv2.INTER_AREA)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    paper = cv2.resize(paper, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    ratio = grey.astype(np.float32) / np.maximum(paper.astype(np.float32), 1.0)
    return np.clip(ratio * 255, 0, 255).astype(np.uint8)


def ink_mask(flat: np.ndarray) -> np.ndarray:
    """Print (True) on a flattened page: darker than `_CONTRAST` of the paper."""
    return flat < int(255 * _CONTRAST)


def despeckle(ink: np.ndarray) -> np.ndarray:
    """Ink without isolated specks: a small component survives only with other ink close by
    (a decimal point beside its digits, a dot of a character); one alone is dust."""
    import cv2

    binary = ink.astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return ink
    small = _speck_sized(stats)
    if not small.any():
        return ink
    specks = small[labels]
    glyph_zone = cv2.dilate(((labels > 0) & ~specks).astype(np.uint8), np.ones(_NEAR_GLYPH, np.uint8))
    near = np.zeros(count, dtype=bool)
    near[np.unique(labels[specks & (glyph_zone > 0)])] = True
    keep = ~small | (small & (near | _between_digits(stats, small)))
    keep[0] = False
    return keep[labels]


def _speck_sized(stats: np.ndarray) -> np.ndarray:
    """Per component (of connectedComponentsWithStats): is it no bigger than a speck?"""
    import cv2

    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    small = (stats[:, cv2.CC_STAT_AREA] < _SPECK_AREA) & (widths <= _SPECK_SIDE) & (heights <= _SPECK_SIDE)
    small[0] = False   # the background
    return small


def _between_digits(stats: np.ndarray, small: np.ndarray, glyphs: np.ndarray | None = None, *,
                    joined: bool = False) -> np.ndarray:
    """Per component: is it a small one on the baseline of a narrow glyph (a digit) ending up
    to `_ON_BASELINE` columns to its left and of another starting as near to its right — a
    decimal point? `glyphs`: the components that may be those digits (default: all not small);
    `joined`: a glyph as wide as a few digits joined counts as digits too (a Chinese character,
    about square, never does)."""
    import cv2

    lefts, tops = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    digit_like = (widths <= 0.85 * heights) | (joined & (widths > 1.2 * heights) & (widths <= 4 * heights))
    narrow = (~small if glyphs is None else glyphs) & (heights > _SPECK_SIDE) & digit_like
    narrow[0] = False
    rows, reach = _ON_BASELINE
    marks, digits = np.flatnonzero(small), np.flatnonzero(narrow)
    between = np.zeros(len(stats), dtype=bool)
    if not len(marks) or not len(digits):
        return between
    mark_left, mark_right = lefts[marks][:, None], (lefts + widths)[marks][:, None]
    on_baseline = np.abs((tops + heights)[marks][:, None] - (tops + heights)[digits][None, :]) <= rows // 2
    before = on_baseline & (mark_left - (lefts + widths)[digits][None, :] >= 0) \
        & (mark_left - (lefts + widths)[digits][None, :] <= reach)
    after = on_baseline & (lefts[digits][None, :] - mark_right >= 0) & (lefts[digits][None, :] - mark_right <= reach)
    between[marks] = before.any(axis=1) & after.any(axis=1)
    return between


def clean_page(pixels: np.ndarray) -> np.ndarray:
    """The page with white paper and its print only (see the module docstring)."""
    import cv2

    flat = flatten(to_grey(pixels))
    ink = despeckle(ink_mask(flat))
    # Hysteresis: every faint stroke joined to kept print stays (a serif, a thin bar of 5,
    # the anti-aliased edge); faint marks joined to none (bleed-through, shadows) become paper.
    faint = cv2.dilate((flat < _FAINT_INK).astype(np.uint8), np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(faint, connectivity=8)
    held = np.zeros(count, dtype=bool)
    held[np.unique(labels[ink])] = True
    held[0] = False
    held |= _faint_decimal_points(stats, held)
    clean: Any = np.where(held[labels], flat, 255).astype(np.uint8)
    return np.ascontiguousarray(clean)


def _faint_decimal_points(stats: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Faint marks joined to no print that are a decimal point all the same: small, on the
    baseline between two digits kept (a blur leaves the point of 8282.1 lighter than any stroke)."""
    small = _speck_sized(stats) & ~held
    if not small.any():
        return small
    # Beside kept print only (at this threshold a blurred figure's digits join into one mark).
    return _between_digits(stats, small, held, joined=True)


# ---------------------------------------------------------------- orientation
def _text_ink(clean: np.ndarray) -> np.ndarray:
    """Ink of a half-size page with the long ruling lines taken out (they run both ways)."""
    import cv2

    small = cv2.resize(clean, (max(clean.shape[1] // 2, 1), max(clean.shape[0] // 2, 1)), interpolation=cv2.INTER_AREA)
    ink = (small < 160).astype(np.uint8)
    long_h = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (41, 1)))
    long_v = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 41)))
    text: Any = ink * ((long_h + long_v) == 0)
    return np.ascontiguousarray(text)


def _line_length(text: np.ndarray, glyph: int) -> int:
    """Total length of the text lines running left to right: glyphs joined across gaps smaller
    than half a glyph (the spacing inside a line; rows of a table and lines of prose are farther
    apart) into components much wider than tall."""
    import cv2

    joined = cv2.dilate(text, cv2.getStructuringElement(cv2.MORPH_RECT, (max(glyph // 2, 2), 1)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    lines = (widths >= 3 * heights) & (heights >= glyph // 2) & (heights <= 2 * glyph)
    return int(widths[lines].sum())


def _glyph_size(text: np.ndarray) -> int:
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(text, connectivity=8)
    sides = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    sides = sides[sides >= 4]
    return int(np.percentile(sides, 75)) if len(sides) else 0


def sideways(clean: np.ndarray) -> bool:
    """Do the page's text lines run up and down? Glyphs of a line sit closer together than
    lines do, so joining near glyphs gives long thin lines in the reading direction only (a
    table's columns of figures are rows of a grid both ways and count for neither)."""
    text = _text_ink(clean)
    if int(text.sum()) < 200:
        return False
    glyph = _glyph_size(text)
    if glyph < 4:
        return False
    across = _line_length(text, glyph)
    down = _line_length(np.ascontiguousarray(text.T), glyph)
    return down > 1.5 * across


# ---------------------------------------------------------------- one cell
def without_specks(crop: np.ndarray) -> np.ndarray:
    """A cell's crop with the ink that is no part of its printed text made paper.

    The glyphs are the components at least about half as tall as the tallest. In a cell of
    digits (every glyph narrower than tall) a small mark survives only as a decimal point or
    thousands separator: between two digits and on their baseline. Elsewhere (labels) a small
    mark survives when it touches a glyph's neighbourhood (the dots of 心, a 、)."""
    import cv2

    # Faint ink counts: a thin stroke of a light font breaks apart at a darker threshold.
    ink = (crop < _CELL_INK).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return crop
    xs, ys = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    # A sliver of the cell's own ruling line along the crop's edge is no glyph.
    rule = (((xs == 0) | (xs + widths >= crop.shape[1])) & (widths <= 4)) | \
        (((ys == 0) | (ys + heights >= crop.shape[0])) & (heights <= 4))
    if rule.all():
        return np.full_like(crop, 255)
    tallest = int(heights[~rule].max())
    glyph = (heights >= max(0.45 * tallest, 6)) & ~rule
    if not glyph.any():
        return np.full_like(crop, 255)  # nothing but specks
    digits = _all_digits(widths[glyph], heights[glyph])
    baseline = int((ys + heights)[glyph].max())
    left, right = int(xs[glyph].min()), int((xs + widths)[glyph].max())
    keep = glyph.copy()
    reach = 0.25 * tallest
    for index in np.nonzero(~glyph & ~rule)[0]:
        x, y, w, h = int(xs[index]), int(ys[index]), int(widths[index]), int(heights[index])
        if digits:
            keep[index] = (left < x and x + w < right and abs(y + h - baseline) <= reach) \
                or _a_bar_over_a_glyph(x, y, w, h, xs[glyph], ys[glyph], widths[glyph], tallest)
        else:
            keep[index] = bool(np.any((xs[glyph] - reach <= x + w) & (x <= xs[glyph] + widths[glyph] + reach)
                                      & (ys[glyph] - reach <= y + h) & (y <= ys[glyph] + heights[glyph] + reach)))
    if keep.all():
        return crop
    dropped: Any = cv2.dilate(np.isin(labels, np.nonzero(~keep)[0] + 1).astype(np.uint8), np.ones((3, 3), np.uint8))
    cleaned: Any = np.where(dropped > 0, 255, crop).astype(np.uint8)
    return cleaned



def _a_bar_over_a_glyph(x: int, y: int, w: int, h: int, xs: np.ndarray, ys: np.ndarray, widths: np.ndarray,
                        tallest: int) -> bool:
    """Is this small mark a flat stroke just above a digit, over its width (a 5's bar a 1-bit
    scan broke off its stem: dropped, the 5 reads as 3)? A speck is no wider than tall."""
    if w < 2 * h:
        return False
    over = (np.minimum(xs + widths, x + w) - np.maximum(xs, x)) >= 0.5 * w
    above = (ys - (y + h) >= -1) & (ys - (y + h) <= 0.3 * tallest)
    return bool(np.any(over & above))


def _all_digits(widths: np.ndarray, heights: np.ndarray) -> bool:
    """Are these glyphs (their boxes) digits: each narrower than tall, or as wide as the few
    digits a blur or a heavy print joined (clearly wider than tall: a CJK character is about
    square) and no taller than the narrow ones?"""
    narrow = widths <= 0.85 * heights
    if not narrow.any():
        return False
    joined = (widths > 1.2 * heights) & (widths <= 3 * heights) & (heights <= 1.1 * float(np.median(heights[narrow])))
    return bool(np.all(narrow | joined))


def stroke_width(ink: np.ndarray) -> int:
    """The print's stroke width in pixels: twice the median distance to the paper along the
    strokes' middles (the ridge of the distance transform)."""
    import cv2

    distance = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 3)
    ridge = (distance > 0) & (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8)))
    if not ridge.any():
        return 0
    return max(1, round(2 * float(np.median(distance[ridge]))))


def without_blobs(crop: np.ndarray) -> np.ndarray:
    """A cell's crop without the solid specks of toner stuck to its digits (a '3' with a square
    dot on its shoulder reads as '?'): ink that a square a pixel wider than the stroke fits in
    is no stroke of a figure. Kept only when what remains is digits (every glyph narrower than
    tall): a character's dense knot of strokes is left as printed."""
    import cv2

    ink = (crop < _CELL_INK).astype(np.uint8)
    stroke = stroke_width(ink)
    if stroke == 0:
        return crop
    side = stroke + 1
    blobs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((side, side), np.uint8))
    if not blobs.any():
        return crop
    wiped: Any = np.where(cv2.dilate(blobs, np.ones((3, 3), np.uint8)) > 0, 255, crop).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats((wiped < _CELL_INK).astype(np.uint8), connectivity=8)
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    if count <= 1:
        return wiped  # nothing but blobs: specks
    tall = heights >= 0.45 * heights.max()
    return wiped if bool(np.all(widths[tall] <= 0.85 * heights[tall])) else crop


def with_strokes_rejoined(crop: np.ndarray) -> np.ndarray:
    """A cell's crop with the strokes a hard threshold broke drawn back: each piece of ink
    stacked over (or under) a bigger one of the same glyph is joined to it where they come
    nearest (a 1-bit fax drops the 5's thin stem: its bar floats over a bowl, and reads as 3).
    Pieces side by side are other glyphs and stay apart; a gap taller than 0.4 of the crop is
    no broken stroke, and a speck (shorter than two strokes) is no piece. Works on the crop as
    cut: taking specks off first would take the 5's lone bar with them."""
    import cv2

    ink = (crop < _CELL_INK).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    stroke = max(stroke_width(ink), 1)
    pieces = [i for i in range(1, count) if _a_stroke(stats[i], stroke)]
    joined = crop.copy()
    for piece in pieces:
        bigger = [other for other in pieces if other != piece and _stacked(stats[piece], stats[other])
                  and stats[other, cv2.CC_STAT_AREA] >= stats[piece, cv2.CC_STAT_AREA]]
        joins = [_nearest_points(labels == piece, labels == other) for other in bigger]
        if not joins:
            continue
        gap, start, end = min(joins)
        if gap <= _WIDEST_BREAK * crop.shape[0]:
            cv2.line(joined, start, end, int(crop[labels == piece].min()), stroke)
    return joined


_WIDEST_BREAK = 0.4


def _a_stroke(stats: np.ndarray, stroke: int) -> bool:
    """A piece of a glyph, not a speck: at least two strokes long and as much ink as that."""
    import cv2

    longest = max(stats[cv2.CC_STAT_WIDTH], stats[cv2.CC_STAT_HEIGHT])
    return bool(longest >= 2 * stroke and stats[cv2.CC_STAT_AREA] >= 2 * stroke * stroke)


def _stacked(a: np.ndarray, b: np.ndarray) -> bool:
    """One box over the other, sharing at least half of the narrower's width."""
    import cv2

    ax, aw, ay, ah = a[cv2.CC_STAT_LEFT], a[cv2.CC_STAT_WIDTH], a[cv2.CC_STAT_TOP], a[cv2.CC_STAT_HEIGHT]
    bx, bw, by, bh = b[cv2.CC_STAT_LEFT], b[cv2.CC_STAT_WIDTH], b[cv2.CC_STAT_TOP], b[cv2.CC_STAT_HEIGHT]
    shared = min(ax + aw, bx + bw) - max(ax, bx)
    return shared >= 0.5 * min(aw, bw) and (ay + ah <= by + 1 or by + bh <= ay + 1)


def _nearest_points(a: np.ndarray, b: np.ndarray) -> tuple[float, tuple[int, int], tuple[int, int]]:
    """The distance between two masks' nearest pixels, and those pixels as (x, y)."""
    ay, ax = np.nonzero(a)
    by, bx = np.nonzero(b)
    squared = (ay[:, None] - by[None, :]) ** 2 + (ax[:, None] - bx[None, :]) ** 2
    i, j = np.unravel_index(int(np.argmin(squared)), squared.shape)
    return float(squared[i, j]) ** 0.5, (int(ax[i]), int(ay[i])), (int(bx[j]), int(by[j]))
