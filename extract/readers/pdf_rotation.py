"""Pages whose text layer runs sideways or upside down, made upright before they are read.

Scanners and some Word landscape exports draw a page's content a quarter turn and set
`/Rotate 90` so that a viewer shows it upright; the text layer then runs sideways in the
page's own coordinates, where every reader looks for rows and columns. The orientation is
read from the characters themselves (pdfium's per-character angle), not from `/Rotate`
alone: a page may be drawn upright with `/Rotate` set, or drawn turned without it. The
page's objects are turned back in memory, its media box made to fit and `/Rotate` cleared,
so the text page, the ruling lines and the table cells are all upright afterwards.
Pages without text (scans) keep their `/Rotate`: the renderer honours it, OCR finds the rest.
"""

from __future__ import annotations

import math
from collections import Counter

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

_SAMPLE = 400  # characters looked at: enough for a vote, cheap on a full page


def quarter_turns(textpage: pdfium.PdfTextPage) -> int:
    """How many quarter turns (counter-clockwise) make most of the page's characters upright."""
    count = textpage.count_chars()
    if count <= 0:
        return 0
    votes: Counter[int] = Counter()
    step = max(count // _SAMPLE, 1)
    for index in range(0, count, step):
        code = pdfium_c.FPDFText_GetUnicode(textpage.raw, index)
        if code <= 32 or chr(code).isspace():
            continue
        angle = pdfium_c.FPDFText_GetCharAngle(textpage.raw, index)
        if angle < 0:
            continue
        quarter = round(angle / (math.pi / 2)) % 4
        # Only characters at (nearly) a right angle vote: a diagonal watermark does not.
        if abs(angle - quarter * math.pi / 2) < 0.1 or abs(angle - 2 * math.pi) < 0.1:
            votes[quarter] += 1
    if not votes:
        return 0
    quarter, n = votes.most_common(1)[0]
    return quarter if n >= 0.6 * sum(votes.values()) else 0


def page_text(page: pdfium.PdfPage) -> tuple[str, int]:
    """The page's text, read after making the page upright, and the quarter turns it took."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        turns = quarter_turns(textpage) if text.strip() else 0
    finally:
        textpage.close()
    if not text.strip() or (turns == 0 and page.get_rotation() == 0):
        return text, 0
    make_upright(page, turns)
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range(), turns
    finally:
        textpage.close()


def make_upright(page: pdfium.PdfPage, turns: int) -> None:
    """Turn the page's content `turns` quarter turns counter-clockwise onto a media box that
    fits it, and clear /Rotate: the page's own coordinates are then the reading ones."""
    left, bottom, right, top = page.get_mediabox()
    theta = turns * math.pi / 2
    cos, sin = round(math.cos(theta)), round(math.sin(theta))
    corners = [(cos * x - sin * y, sin * x + cos * y) for x in (left, right) for y in (bottom, top)]
    shift_x = -min(x for x, _ in corners)
    shift_y = -min(y for _, y in corners)
    if turns % 4:
        matrix = pdfium.PdfMatrix(cos, sin, -sin, cos, shift_x, shift_y)
        for obj in list(page.get_objects(max_depth=1)):
            obj.transform(matrix)
        width = max(x for x, _ in corners) + shift_x
        height = max(y for _, y in corners) + shift_y
        page.set_mediabox(0, 0, width, height)
        page.set_cropbox(0, 0, width, height)
    page.set_rotation(0)
