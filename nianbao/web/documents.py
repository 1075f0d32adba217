"""The original documents from the raw store: PDF pages and scanned images rendered as PNG, a
cell's box placed on them, and a grid document's table read again to show the cell in it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from crawler.store import RawStore

RENDER_SCALE = 1.5  # 108 dpi: readable, small


@dataclass(frozen=True)
class PageImage:
    png: bytes
    width_pt: float   # the page as rendered (upright, as the reader saw it), in points
    height_pt: float


@dataclass(frozen=True)
class GridCell:
    text: str
    colspan: int
    rowspan: int
    marked: bool


class Originals:
    def __init__(self, raw_store: str) -> None:
        self.store = RawStore(raw_store)

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.store.get(sha256) if self.store.exists(sha256) else None
        except OSError:
            return None

    def page_count(self, sha256: str) -> int | None:
        data = self.get(sha256)
        if data is None:
            return None
        if is_image(data):
            return 1
        return _page_count(data) if is_pdf(data) else None

    def page(self, sha256: str, page: int) -> PageImage | None:
        """Page `page` (1-based) of a PDF original, or a scanned image original, as a PNG; or None."""
        data = self.get(sha256)
        if data is None:
            return None
        if is_image(data):
            return _image(data) if page == 1 else None
        return _render(data, page) if is_pdf(data) else None

    def grid(self, sha256: str, page: int | None, table: int, row: int, column: int) -> list[list[GridCell]] | None:
        """The table of a grid source (HTML, DOCX, sheet) as the reader read it, the cell at
        (row, column) marked; None when the original is not in the raw store or has no such table."""
        data = self.get(sha256)
        if data is None:
            return None
        cells = [c for c in _grid_cells(data) if c[0] == (page or 1) and c[1] == table]
        if not cells:
            return None
        rows: dict[int, list[GridCell]] = {}
        for _, _, y0, y1, x0, x1, text in sorted(cells, key=lambda c: (c[2], c[4])):
            rows.setdefault(y0, []).append(GridCell(text, max(x1 - x0, 1), max(y1 - y0, 1),
                                                    (y0, x0) == (row, column)))
        return [rows[y] for y in sorted(rows)]


def box_on_page(bbox: list[float] | None, unit: str | None, image: PageImage) -> dict[str, float] | None:
    """A source's box as percentages of the rendered page (what the overlay is drawn with)."""
    if bbox is None or unit not in ("pt", "px"):
        return None
    to_points = 1.0 if unit == "pt" else 72 / _ocr_dpi()
    x0, top, x1, bottom = (v * to_points for v in bbox)
    return {"left": round(100 * x0 / image.width_pt, 3), "top": round(100 * top / image.height_pt, 3),
            "width": round(100 * (x1 - x0) / image.width_pt, 3), "height": round(100 * (bottom - top) / image.height_pt, 3)}


def _ocr_dpi() -> int:
    from extract.readers.ocr import DPI

    return DPI


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF")


def is_image(data: bytes) -> bool:
    from extract.sniff import sniff

    return sniff(data) == "image"


@lru_cache(maxsize=64)
def _page_count(data: bytes) -> int:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


@lru_cache(maxsize=32)
def _render(data: bytes, page: int) -> PageImage | None:
    """The page as the reader read it: a text layer drawn sideways is turned upright first
    (extract.readers.pdf_rotation), so the cells' boxes fall where their text is."""
    import pypdfium2

    from extract.readers.pdf_rotation import page_text

    pdf = pypdfium2.PdfDocument(data)
    try:
        if not 1 <= page <= len(pdf):
            return None
        pdf_page = pdf[page - 1]
        page_text(pdf_page)
        image = pdf_page.render(scale=RENDER_SCALE).to_pil()
        return _png(image, RENDER_SCALE)
    finally:
        pdf.close()


@lru_cache(maxsize=8)
def _image(data: bytes) -> PageImage | None:
    """A scanned image original; its pixels are taken at the OCR reader's resolution."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return _png(image.convert("RGB"), _ocr_dpi() / 72)


def _png(image: Any, pixels_per_point: float) -> PageImage:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return PageImage(buffer.getvalue(), image.width / pixels_per_point, image.height / pixels_per_point)


@lru_cache(maxsize=16)
def _grid_cells(data: bytes) -> tuple[tuple[int, int, int, int, int, int, str], ...]:
    """(page, table, y0, y1, x0, x1, text) of every grid cell the reader finds in the document."""
    from extract.api import read_document
    from extract.model import ReaderError
    from extract.sniff import sniff

    try:
        document = read_document(data, sniff(data), ocr=False)
    except ReaderError:
        return ()
    found = []
    for row in document.rows:
        if row.unit != "grid" or row.table is None:
            continue
        for cell in row.cells:
            if None not in (cell.x0, cell.x1, cell.y0, cell.y1):
                found.append((row.page, row.table, int(cell.y0), int(cell.y1), int(cell.x0), int(cell.x1),  # type: ignore[arg-type]
                              cell.text))
    return tuple(found)
