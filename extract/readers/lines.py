"""Printed lines from positioned words, shared by the PDF readers (pdfplumber's and pdfium's).

A word is a dict with `text`, `x0`, `x1`, `top` and `bottom` (points), as pdfplumber
gives them; a line is its words left to right; a cell is words closer than two characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from extract.model import Cell

PAGE_NUMBER = re.compile(r"^(?:[-—–－]?\d{1,3}[-—–－]?|第\d{1,3}页(?:共\d{1,3}页)?|\d{1,3}/\d{1,3})$")
_FIGURE = re.compile(r"^[+-]?\d[\d,，]*(?:\.\d+)?$")
_FIGURES_AT_END = re.compile(r"^(.*?[^\d\s.,，%])?\s*((?:[+-]?\d[\d,，]*(?:\.\d+)?\s*)+)$")


def split_line(line: str) -> list[str]:
    """A text-layer line: its label, then one cell per trailing figure."""
    match = _FIGURES_AT_END.match(line.strip())
    if not match or not match.group(2):
        return [line.strip()]
    label = (match.group(1) or "").strip()
    figures = match.group(2).split()
    return ([label] if label else []) + figures


def word_lines(words: list[dict[str, Any]]) -> Iterator[tuple[float, list[dict[str, Any]]]]:
    """Words grouped into printed lines by their vertical middle."""
    words = sorted(words, key=lambda w: ((w["top"] + w["bottom"]) / 2, w["x0"]))
    line: list[dict[str, Any]] = []
    middle = None
    for word in words:
        centre = (word["top"] + word["bottom"]) / 2
        height = max(word["bottom"] - word["top"], 1.0)
        if middle is not None and abs(centre - middle) > 0.5 * height:
            yield line[0]["top"], sorted(line, key=lambda w: w["x0"])
            line = []
        if not line:
            middle = centre
        line.append(word)
    if line:
        yield line[0]["top"], sorted(line, key=lambda w: w["x0"])


def word_cells(words: list[dict[str, Any]]) -> list[Cell]:
    """Words of a line joined into cells where the gap is narrower than two characters;
    each cell's box is the union of its words'."""
    cells: list[Cell] = []
    group: list[dict[str, Any]] = []
    text, last_x1 = "", 0.0
    last_was_figure = False
    for word in words:
        char_width = (word["bottom"] - word["top"]) or 10.0
        figure = bool(_FIGURE.match(word["text"]))
        if text and (figure or last_was_figure or word["x0"] - last_x1 > 0.5 * char_width):
            cells.append(_cell(text, group))
            text, group = "", []
        if not text:
            text = word["text"]
        else:
            gap = " " if word["x0"] - last_x1 > 0.2 * char_width else ""
            text += gap + word["text"]
        group.append(word)
        last_x1 = word["x1"]
        last_was_figure = figure
    if text:
        cells.append(_cell(text, group))
    return cells


def _cell(text: str, words: list[dict[str, Any]]) -> Cell:
    return Cell(text, words[0]["x0"], words[-1]["x1"],
                y0=min(float(w["top"]) for w in words), y1=max(float(w["bottom"]) for w in words))
