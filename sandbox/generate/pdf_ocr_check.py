"""Proof that printed numbers are legible to OCR: where each number of a clean layout lands on
an image of it (turned like a scan), and what rapidocr reads from the crop of each.

Full-page OCR misses lone digits in table cells; recognising each cell's crop is what an
OCR reader has to do, so that is what generation checks.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pypdfium2
from PIL import Image

POINTS_PER_INCH = 72
NUMBER = re.compile(r"[+-]?\d+(,\d{3})*(\.\d+)?")
# rapidocr reads a lone 0 in a cell as a circle: these are its readings of "0".
OCR_ZERO_LOOKALIKES = str.maketrans({"o": "0", "O": "0", "。": "0", "〇": "0", "°": "0", "，": ","})


@dataclass(frozen=True)
class NumberBox:
    page: int
    text: str
    box: tuple[int, int, int, int]   # left, top, right, bottom in image pixels


def number_boxes(clean_pdf: Path | bytes, dpi: int, angles: list[float], pad: int = 3) -> list[NumberBox]:
    """Where each printed number of the clean layout lands on its pages rendered at dpi and turned."""
    import pdfplumber

    boxes = []
    scale = dpi / POINTS_PER_INCH
    source = io.BytesIO(clean_pdf) if isinstance(clean_pdf, bytes) else clean_pdf
    with pdfplumber.open(source) as pdf:
        for index, (page, angle) in enumerate(zip(pdf.pages, angles, strict=True)):
            centre = (float(page.width) * scale / 2, float(page.height) * scale / 2)
            for word in page.extract_words(keep_blank_chars=False, use_text_flow=False):
                if not NUMBER.fullmatch(word["text"]):
                    continue
                x, y = _turned(((word["x0"] + word["x1"]) / 2 * scale, (word["top"] + word["bottom"]) / 2 * scale),
                               centre, angle)
                half_w = (word["x1"] - word["x0"]) * scale / 2 + pad
                half_h = (word["bottom"] - word["top"]) * scale / 2 + pad
                boxes.append(NumberBox(index, word["text"],
                                       (int(x - half_w), int(y - half_h), int(x + half_w), int(y + half_h))))
    return boxes


def _turned(point: tuple[float, float], centre: tuple[float, float], angle: float) -> tuple[float, float]:
    """Where PIL's rotate(angle) (counter-clockwise, about the centre) moves a point."""
    theta = math.radians(angle)
    dx, dy = point[0] - centre[0], point[1] - centre[1]
    return (centre[0] + dx * math.cos(theta) + dy * math.sin(theta),
            centre[1] - dx * math.sin(theta) + dy * math.cos(theta))


def page_images(pdf: Path) -> list[Image.Image]:
    """The first image of every page of a PDF (a scan wraps one per page)."""
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        images = []
        for page in document:
            pictures = [obj for obj in page.get_objects() if obj.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]
            images.append(pictures[0].get_bitmap().to_pil().convert("RGB"))
        return images
    finally:
        document.close()


@cache
def _engine():
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def misread_in_images(images: list[Image.Image], boxes: list[NumberBox]) -> list[tuple[NumberBox, str]]:
    """The numbers rapidocr (recognition only, on the crop of each number) does not read back.

    A lone zero read as one of `OCR_ZERO_LOOKALIKES` counts as read: any OCR-based
    extractor has to fold those in number cells anyway.
    """
    misread = []
    for box in boxes:
        crop = np.asarray(images[box.page].convert("RGB").crop(box.box))
        result, _ = _engine()(crop, use_det=False, use_cls=False, use_rec=True)
        read = result[0][0].strip() if result else ""
        if read.replace(" ", "").translate(OCR_ZERO_LOOKALIKES) != box.text:
            misread.append((box, read))
    return misread


def misread_numbers(scanned_pdf: Path, boxes: list[NumberBox]) -> list[tuple[NumberBox, str]]:
    return misread_in_images(page_images(scanned_pdf), boxes)
