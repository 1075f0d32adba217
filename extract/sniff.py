"""The real type of a document, from its bytes (never from its URL or extension)."""

from __future__ import annotations

import io
import zipfile
from typing import Literal

from report.filetypes import UTF8_BOM, signature

DocType = Literal["pdf", "html", "docx", "xlsx", "doc", "xls", "wps", "image", "text", "json", "xml", "zip",
                  "empty", "unknown"]

def sniff(data: bytes) -> DocType:
    """Classify bytes by their signature and structure."""
    if not data or not data.strip():
        return "empty"
    announced = signature(data)
    if announced == "ole":
        return _sniff_ole(data)
    if announced == "zip":
        return _sniff_zip(data)
    if announced in ("pdf", "image", "html"):
        return announced
    lowered = data[:2048].lstrip(UTF8_BOM + b" \t\r\n").lower()   # RTF is read as the text it is
    if lowered[:1] in (b"{", b"[") and _is_json(data):
        return "json"  # data, not a document
    if lowered.startswith(b"<?xml"):
        return "xml"
    if _looks_like_text(data[:8192]):
        return "text"
    return "unknown"


def _sniff_ole(data: bytes) -> DocType:
    # Compound-file streams are named in UTF-16 in the directory sectors.
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    if "WpsContent".encode("utf-16-le") in data or b"WPS" in data[:4096]:
        return "wps"
    return "doc"


def _sniff_zip(data: bytes) -> DocType:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        # No central directory (a truncated download): the local headers still name the parts.
        head = data[:65536]
        if b"word/" in head:
            return "docx"
        if b"xl/" in head:
            return "xlsx"
        return "zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return "zip"


def _is_json(data: bytes) -> bool:
    import json

    try:
        json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _looks_like_text(sample: bytes) -> bool:
    if b"\x00" in sample:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            # A cut multibyte sequence at the end of the sample is fine.
            try:
                text = sample[:-3].decode(encoding)
            except UnicodeDecodeError:
                continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        return printable >= 0.95 * max(len(text), 1)
    return False
