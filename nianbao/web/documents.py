"""The original documents from the raw store, and PDF pages rendered as images."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from crawler.store import RawStore

RENDER_SCALE = 1.5  # 108 dpi: readable, small


@dataclass(frozen=True)
class PageImage:
    png: bytes
    width_pt: float
    height_pt: float


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
        if data is None or not is_pdf(data):
            return None
        return _page_sizes(data)[0]

    def page_size(self, sha256: str, page: int) -> tuple[float, float] | None:
        data = self.get(sha256)
        if data is None or not is_pdf(data):
            return None
        count, sizes = _page_sizes(data)
        return sizes[page - 1] if 1 <= page <= count else None

    def page(self, sha256: str, page: int) -> PageImage | None:
        """Page `page` (1-based) of a PDF original as a PNG, or None."""
        data = self.get(sha256)
        if data is None or not is_pdf(data):
            return None
        return _render(data, page)


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF")


@lru_cache(maxsize=64)
def _page_sizes(data: bytes) -> tuple[int, tuple[tuple[float, float], ...]]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        return len(pdf), tuple(tuple(pdf[i].get_size()) for i in range(len(pdf)))  # type: ignore[misc]
    finally:
        pdf.close()


@lru_cache(maxsize=32)
def _render(data: bytes, page: int) -> PageImage | None:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        if not 1 <= page <= len(pdf):
            return None
        pdf_page = pdf[page - 1]
        width, height = pdf_page.get_size()
        image = pdf_page.render(scale=RENDER_SCALE).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return PageImage(buffer.getvalue(), width, height)
    finally:
        pdf.close()
