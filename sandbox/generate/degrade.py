"""Seeded degradations of a corpus PDF, as real scanners, fax machines, phones and Word exports
make them: the documents that look least like a clean rendering.

`degrade(pdf, kind, seed)` takes a text-layer report of the corpus and returns the same report
degraded one way; its truth is the source's truth (the printed figures do not change). Image
kinds render each page at a dpi and wrap the damaged images in a PDF without a text layer; the
`rotated-text` kind keeps the text layer but draws every page a quarter turn and sets
`/Rotate 90` so that a viewer shows it upright (as scanners and some Word landscape exports do).
Deterministic: the same (pdf, kind, seed) gives the same bytes. Generated at bench/test time
into var/, never committed.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageDraw, ImageFilter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

POINTS_PER_INCH = 72


@dataclass(frozen=True)
class Page:
    """One scanned page: the image, the dpi it was scanned at, and the /Rotate to write."""

    image: Image.Image
    dpi: int
    rotate: int = 0
    lossless: bool = False
    quality: int = 85


Damage = Callable[[Image.Image, int, np.random.Generator], Page]


def _array(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def _image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _scanner(image: Image.Image, rng: np.random.Generator, noise: float = 3.0) -> Image.Image:
    """What every office scan adds: paper not quite white, a little sensor noise."""
    pixels = _array(image) - 6 + rng.normal(0, noise, image.size[::-1] + ((3,) if image.mode == "RGB" else ())).astype(np.float32)
    return _image(pixels)


def _turn(image: Image.Image, angle: float) -> Image.Image:
    fill = 255 if image.mode == "L" else (255, 255, 255)
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill)


def speckle(image: Image.Image, dpi: int, rng: np.random.Generator) -> Page:
    """A photocopy of a photocopy: grey background, bleed-through of the back page, toner
    specks (salt and pepper) all over, the cells included."""
    page = _turn(image.convert("L"), float(rng.uniform(-0.6, 0.6)))
    pixels = _array(page)
    back = np.fliplr(pixels)  # the reverse side showing through, faintly
    pixels = np.minimum(pixels, 255 - (255 - back) * 0.12)
    pixels = pixels * 0.86 + 10  # grey photocopy background, darker ink
    height, width = pixels.shape
    count = int(height * width * 0.0003)
    ys, xs = rng.integers(0, height, count), rng.integers(0, width, count)
    radii = rng.choice([0, 0, 0, 1, 1, 2], count)
    for y, x, r in zip(ys, xs, radii, strict=True):
        pixels[max(y - r, 0):y + r + 1, max(x - r, 0):x + r + 1] = rng.uniform(0, 80)
    salt = int(height * width * 0.0004)
    pixels[rng.integers(0, height, salt), rng.integers(0, width, salt)] = 255
    page = _image(pixels).filter(ImageFilter.GaussianBlur(radius=0.4))
    return Page(_scanner(page, rng), dpi)


def skew(image: Image.Image, dpi: int, rng: np.random.Generator) -> Page:
    angle = float(rng.uniform(1.5, 3.0)) * (1 if rng.random() < 0.5 else -1)
    return Page(_scanner(_turn(image.convert("L"), angle), rng), dpi)


def blur(image: Image.Image, dpi: int, rng: np.random.Generator) -> Page:
    page = _turn(image.convert("L"), float(rng.uniform(-0.5, 0.5)))
    return Page(_scanner(page.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.9, 1.3)) * dpi / 200)), rng), dpi)


def jpeg(image: Image.Image, dpi: int, rng: np.random.Generator) -> Page:
    page = _turn(image.convert("L"), float(rng.uniform(-0.5, 0.5)))
    return Page(_scanner(page, rng, noise=5.0), dpi, quality=int(rng.integers(40, 71)))


def resolution(image: Image.Image, dpi: int, rng: np.random.Generator) -> Page:
    """The page scanned at 150–300 dpi (the caller renders at the dpi this kind asks for)."""
    return Page(_scanner(_turn(image.convert("L"), float(rng.uniform(-0.5, 0.5))), rng), dpi)


def fax(image: Image.Image, dpi: int, rng: np.random.Generator) -> Page:
    """1-bit, as a fax machine or a cheap scanner's 'text' mode writes it: a hard threshold of a
    slightly noisy page, no grey left."""
    page = _turn(image.convert("L"), float(rng.uniform(-0.6, 0.6)))
    pixels = _array(page) + rng.normal(0, 12, page.size[::-1]).astype(np.float32)
    return Page(_image(np.where(pixels < 150, 0, 255)).convert("1"), dpi, lossless=True)


def photo(image: Image.Image, dpi: int, rng: np.random.Generator) -> Page:
    """A page photographed with a phone: mild perspective, light falling off to one side."""
    import cv2

    page = np.asarray(image.convert("RGB"))
    height, width = page.shape[:2]
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    shift = rng.uniform(-0.025, 0.025, (4, 2)) * np.array([width, height], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners, (corners + shift).astype(np.float32))
    warped = cv2.warpPerspective(page, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                 borderValue=(235, 235, 235)).astype(np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    light = 1.0 - 0.35 * np.hypot((xs - cx) / width, (ys - cy) / height)
    tint = np.array([1.0, 0.97, 0.9], dtype=np.float32)  # warm indoor light
    pixels = warped * light[..., None] * tint + np.asarray(rng.normal(0, 4, warped.shape), dtype=np.float32)
    return Page(_image(pixels).filter(ImageFilter.GaussianBlur(radius=0.6)), dpi, quality=80)


def seal(image: Image.Image, dpi: int, rng: np.random.Generator) -> Page:
    """A red official seal stamped over part of the last table of the page."""
    page = _turn(image.convert("RGB"), float(rng.uniform(-0.5, 0.5)))
    width, height = page.size
    radius = int(0.75 * dpi)  # a 38 mm seal
    cx = int(rng.uniform(0.45, 0.8) * width)
    cy = int(rng.uniform(0.35, 0.75) * height)
    stamp = Image.new("L", page.size, 0)
    draw = ImageDraw.Draw(stamp)
    ring = max(dpi // 40, 3)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=255, width=ring)
    star = [(cx + 0.32 * radius * math.cos(math.radians(90 + 144 * i)),
             cy - 0.32 * radius * math.sin(math.radians(90 + 144 * i))) for i in range(5)]
    draw.polygon(star, fill=255)
    for step in range(14):  # the agency's name around the ring, as short strokes
        theta = math.radians(200 - step * 16)
        r0, r1 = radius * 0.62, radius * 0.86
        draw.line((cx + r0 * math.cos(theta), cy - r0 * math.sin(theta),
                   cx + r1 * math.cos(theta), cy - r1 * math.sin(theta)), fill=255, width=ring + 2)
    # Stamp ink is never solid.
    strength = _array(stamp.filter(ImageFilter.GaussianBlur(radius=1.0)))[..., None] / 255 * float(rng.uniform(0.55, 0.85))  # stamp ink is never solid
    red = np.array([205, 30, 40], dtype=np.float32)
    pixels = _array(page)
    pixels = pixels * (1 - strength) + np.minimum(pixels, red) * strength  # ink multiplies
    return Page(_scanner(_image(pixels), rng), dpi)


def rotated_scan(image: Image.Image, dpi: int, rng: np.random.Generator) -> Page:
    """Fed into the scanner sideways (or upside down). Half the time the scanner writes the
    /Rotate that puts it upright; otherwise the page shows as scanned and the reader must
    find the orientation itself."""
    page = _turn(image.convert("L"), float(rng.uniform(-0.5, 0.5)))
    turn = int(rng.choice([90, 180, 270]))
    turned = page.rotate(turn, expand=True)  # counter-clockwise
    rotate = turn if rng.random() < 0.5 else 0  # /Rotate turns clockwise for display: back upright
    return Page(_scanner(turned, rng), dpi, rotate=rotate)


KINDS: dict[str, Damage] = {
    "speckle": speckle, "skew": skew, "blur": blur, "jpeg": jpeg, "dpi": resolution, "fax": fax,
    "photo": photo, "seal": seal, "rotated-scan": rotated_scan,
}
ALL_KINDS: tuple[str, ...] = (*KINDS, "rotated-text")


def dpi_for(kind: str, rng: np.random.Generator) -> int:
    if kind == "dpi":
        return int(rng.choice([150, 240, 300]))
    if kind == "fax":
        return 150
    return 200


def degrade(pdf: bytes, kind: str, seed: int) -> bytes:
    """The report `pdf` degraded the `kind` way, deterministically from `seed`."""
    if kind == "rotated-text":
        return quarter_turned(pdf)
    damage = KINDS[kind]
    rng = np.random.default_rng([seed, ALL_KINDS.index(kind)])
    dpi = dpi_for(kind, rng)
    from sandbox.generate.render_pinned import render_pages

    # With the pinned CJK fonts, not the host's: a host without one would print blank labels.
    pages = [damage(Image.fromarray(pixels), dpi, rng) for pixels in render_pages(pdf, dpi)]
    return _wrap(pages)


def _wrap(pages: list[Page]) -> bytes:
    """One image per page, no text; page size from the image size at its dpi."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1, pageCompression=1)
    pdf.setTitle("")
    for page in pages:
        data = io.BytesIO()
        if page.lossless:
            page.image.save(data, format="PNG", optimize=True)
        else:
            page.image.save(data, format="JPEG", quality=page.quality, optimize=True)
        reader = ImageReader(io.BytesIO(data.getvalue()))
        width, height = reader.getSize()
        size = (width * POINTS_PER_INCH / page.dpi, height * POINTS_PER_INCH / page.dpi)
        pdf.setPageSize(size)
        pdf.drawImage(reader, 0, 0, *size)
        pdf.showPage()
    pdf.setCreator("Scanner")
    pdf.save()
    return _with_rotation(buffer.getvalue(), [page.rotate for page in pages])


def _saved(document: pdfium.PdfDocument) -> bytes:
    """The document's bytes, deterministic: pdfium writes a random second file /ID on every
    save; it is made the first (the id of the content)."""
    out = io.BytesIO()
    document.save(out)
    return re.sub(rb"/ID\[<([0-9A-F]+)><[0-9A-F]+>\]", rb"/ID[<\1><\1>]", out.getvalue())


def _with_rotation(pdf: bytes, rotations: list[int]) -> bytes:
    """/Rotate set on the pages as written (reportlab's own page rotation swaps the media box,
    which would clip a landscape scan)."""
    if not any(rotations):
        return pdf
    document = pdfium.PdfDocument(pdf)
    try:
        for index, rotation in enumerate(rotations):
            if rotation:
                document[index].set_rotation(rotation)
        return _saved(document)
    finally:
        document.close()


def quarter_turned(pdf: bytes, turns: int = 1, *, rotate: bool = True) -> bytes:
    """Every page's content drawn `turns` quarter turns counter-clockwise on a media box that
    fits it, with /Rotate turning it back upright for display (or, `rotate=False`, without:
    the page then shows sideways); the text layer is kept as written."""
    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()
            cos, sin = round(math.cos(turns * math.pi / 2)), round(math.sin(turns * math.pi / 2))
            corners = [(cos * x - sin * y, sin * x + cos * y) for x in (0, width) for y in (0, height)]
            shift_x, shift_y = -min(x for x, _ in corners), -min(y for _, y in corners)
            # TransFormWithClip wraps the content stream in `q cm … Q` and leaves it as written
            # (regenerating the content would re-encode the fonts).
            matrix = pdfium_c.FS_MATRIX(cos, sin, -sin, cos, shift_x, shift_y)
            box = (0, 0, height, width) if turns % 2 else (0, 0, width, height)
            clip = pdfium_c.FS_RECTF(0, box[3], box[2], 0)  # left, top, right, bottom
            if not pdfium_c.FPDFPage_TransFormWithClip(page.raw, matrix, clip):
                raise RuntimeError("pdfium could not turn the page")
            page.set_mediabox(*box)
            page.set_cropbox(*box)
            page.set_rotation((90 * turns) % 360 if rotate else 0)
            page.close()
        return _saved(document)
    finally:
        document.close()
