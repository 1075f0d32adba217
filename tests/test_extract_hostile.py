"""Hostile and broken inputs end as findings with a reason — never an exception,
never a hang: the isolated worker turns a runaway extraction into
extract-timeout / extract-oom."""

from __future__ import annotations

import io
import random
import time
import zipfile
from pathlib import Path

import pytest

import extract.api
from extract import extract_bytes, extract_isolated, extract_many
from extract.readers import office
from extract.sniff import sniff
from report.record import ReportRecord
from tests.fixtures.workers import PatchWorkers


def rules(record: ReportRecord) -> list[str]:
    return [f.rule for f in record.findings]


def assert_finding(record: ReportRecord, rule: str) -> None:
    found = [f for f in record.findings if f.rule == rule]
    assert found, f"expected {rule}, got {rules(record)}"
    assert found[0].message and found[0].message_en, "a finding says why, in Chinese and English"
    assert record.provenance.sha256 and record.provenance.extractor_version


def test_empty_and_blank_files() -> None:
    assert_finding(extract_bytes(b""), "empty-file")
    assert_finding(extract_bytes(b"  \n\t "), "empty-file")


def test_random_bytes_are_an_unknown_type() -> None:
    noise = random.Random(7).randbytes(5000)
    assert sniff(noise) == "unknown"
    assert_finding(extract_bytes(noise), "unknown-type")


def test_pdf_header_with_garbage_is_a_broken_pdf() -> None:
    assert_finding(extract_bytes(b"%PDF-1.7\n" + random.Random(1).randbytes(3000)), "broken-pdf")


def test_truncated_pdf_never_raises(reference_dir: Path) -> None:
    data = (reference_dir / "hongze-2024.pdf").read_bytes()
    record = extract_bytes(data[: len(data) // 3], ocr=False)
    assert record.findings or record.cells


def test_encrypted_pdf() -> None:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    page.drawString(100, 700, "annual report")
    page.save()
    assert_finding(extract_bytes(buffer.getvalue()), "encrypted")


def _docx_with(document_xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document_xml)
    return buffer.getvalue()


def test_docx_declaring_entities_is_refused_unparsed() -> None:
    xml = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           b"<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>")
    record = extract_bytes(_docx_with(xml))
    assert_finding(record, "unsafe-xml")
    assert "root:" not in record.model_dump_json()


def test_docx_zip_bomb_is_refused() -> None:
    assert_finding(extract_bytes(_docx_with(b" " * 20_000_000)), "zip-bomb")


def test_truncated_docx_is_broken_not_unknown() -> None:
    data = _docx_with(b"<w:document/>" * 2000)
    assert_finding(extract_bytes(data[: len(data) // 2]), "broken-docx")


def test_image_bomb_header_is_refused() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, format="PNG")
    assert_finding(extract_bytes(buffer.getvalue()), "image-too-large")


def test_doc_without_libreoffice_keeps_a_clear_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "soffice", lambda: None)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "WordDocument".encode("utf-16-le") + b"\x00" * 600
    assert sniff(ole) == "doc"
    assert_finding(extract_bytes(ole), "needs-libreoffice")


def test_bot_challenge_page_is_named() -> None:
    page = ("<html><head><script>$_ts=window['$_ts'];</script></head><body>"
            "<noscript>请开启浏览器的JavaScript功能</noscript></body></html>").encode()
    assert_finding(extract_bytes(page), "challenge-page")


def test_deeply_nested_html_is_read_without_recursion_errors() -> None:
    page = ("<html><body>" + "<div>" * 20000 + "政府信息公开" + "</div>" * 20000 + "</body></html>").encode()
    record = extract_bytes(page)
    assert "extract-error" not in rules(record)


def test_a_reader_bug_becomes_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(extract.api, "read_document", broken)
    assert_finding(extract_bytes(b"<html><body>x</body></html>"), "extract-error")


# ---------------------------------------------------------------- the worker process
def test_isolated_worker_returns_the_same_record(reference_dir: Path) -> None:
    path = reference_dir / "hongze-2024.pdf"
    isolated = extract_isolated(path, timeout_s=120, memory_mb=1024)
    assert isolated.cells == extract_bytes(path.read_bytes()).cells
    assert (isolated.provenance.peak_rss_mb or 0) > 0


def test_runaway_extraction_ends_as_extract_timeout(patch_workers: PatchWorkers) -> None:
    patch_workers("""
        import time
        import extract.api

        def hang(*args, **kwargs):
            time.sleep(60)

        extract.api.read_document = hang
    """)
    started = time.monotonic()
    record = extract_isolated(b"<html><body>x</body></html>", timeout_s=1.5)
    assert time.monotonic() - started < 20
    assert_finding(record, "extract-timeout")


def test_memory_hog_ends_as_extract_oom(patch_workers: PatchWorkers) -> None:
    patch_workers("""
        import time
        import extract.api

        def hog(*args, **kwargs):
            chunks = []
            for _ in range(400):
                chunks.append(bytearray(10 * 1024 * 1024))
                time.sleep(0.005)

        extract.api.read_document = hog
    """)
    record = extract_isolated(b"<html><body>x</body></html>", timeout_s=60, memory_mb=300)
    assert_finding(record, "extract-oom")


def test_extract_many_keeps_input_order(tmp_path: Path, reference_dir: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    paths = [reference_dir / "chanhe-industry-2024.txt", empty, reference_dir / "hongze-2024.pdf"]
    results = list(extract_many(paths, jobs=2, timeout_s=120))
    assert [p for p, _ in results] == paths
    assert results[0][1].agency == "瀍河回族区工业和信息化局"
    assert "empty-file" in rules(results[1][1])
    assert results[2][1].cells["t3.new.total"] == 95
