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
    text = decode_text(data)
    rows = []
    page = 1
    for line in text.splitlines():
        if "\f" in line:
            page += line.count("\f")
            line = line.replace("\f", "")
        if line.strip():
            rows.append(Row([Cell(part) for part in split_line(line)], page))
    return Document(rows=rows, reader="text", pages=page)
