"""A plain text layer (what pdftotext or a copy-paste gives) → rows without positions."""

from __future__ import annotations

from charset_normalizer import from_bytes

from extract.model import Cell, Document, Row
from extract.readers.lines import split_line


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def read_text(data: bytes) -> Document:
    """Lines of text; a form feed starts the next page (as pdftotext writes them)."""
    pages = decode_text(data).split("\f")
    rows = [Row([Cell(part) for part in split_line(line)], number)
            for number, page in enumerate(pages, start=1) for line in page.splitlines() if line.strip()]
    return Document(rows=rows, reader="text", pages=len(pages))
