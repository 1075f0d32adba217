"""The real type comes from the bytes, never from the name."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.sniff import sniff
from tests.fixtures.documents import zip_with


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "empty"),
    (b"\n \t", "empty"),
    (b"%PDF-1.7\n...", "pdf"),
    (b"\xef\xbb\xbf<!DOCTYPE html><html><body>x</body></html>", "html"),
    (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "html"),
    (b'<?xml version="1.0"?><feed/>', "xml"),
    (b'{"agency": "x"}', "json"),
    ("本报告由某局编制。".encode("gb18030"), "text"),
    ("本报告由某局编制。".encode(), "text"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image"),
    (zip_with("[Content_Types].xml", "word/document.xml"), "docx"),
    (zip_with("[Content_Types].xml", "xl/workbook.xml"), "xlsx"),
    (zip_with("readme.txt"), "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "WordDocument".encode("utf-16-le"), "doc"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "Workbook".encode("utf-16-le"), "xls"),
    (bytes(range(256)) * 4, "unknown"),
])
def test_sniff(data: bytes, expected: str) -> None:
    assert sniff(data) == expected


def test_an_html_page_named_pdf_is_html(reference_dir: Path) -> None:
    assert sniff((reference_dir / "hongze-2024.pdf").read_bytes()) == "pdf"
    assert sniff(b"<html><head><title>404 Not Found</title></head><body>404</body></html>") == "html"
