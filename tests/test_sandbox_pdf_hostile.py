"""The hostile PDFs are what their truth claims, checked without ever inflating the bomb."""

from __future__ import annotations

import json
import re
import zlib

import pypdfium2
import pytest

from sandbox.corpus import CORPUS_DIR, Truth
from sandbox.generate import form_pdf_hostile as hostile

NAMES = {
    "empty-file": "qiaokou-health-2022-empty-pdf",
    "broken-pdf": "guangdong-2023-truncated-pdf",
    "encrypted": "changchun-health-2022-encrypted-pdf",
    "extract-oom": "yw-ershisanli-2023-bomb-pdf",
    "too-many-pages": "huaian-2023-500-pages-pdf",
    "not-a-report": "mingshan-health-2024-maintenance-pdf",
}
INFLATE_BOUND = 64 * 1024**2


def truth_of(name: str) -> Truth:
    return Truth.model_validate(json.loads((CORPUS_DIR / f"{name}.truth.json").read_text(encoding="utf-8")))


def data_of(name: str) -> bytes:
    return (CORPUS_DIR / truth_of(name).file).read_bytes()


@pytest.mark.parametrize(("finding", "name"), NAMES.items())
def test_hostile_truth(finding: str, name: str):
    truth = truth_of(name)
    assert (truth.form, truth.kind, truth.expected_finding) == ("hostile", "broken", finding)
    assert truth.record is None and truth.media_type == "application/pdf"
    assert truth.file.endswith(".pdf") and truth.site in name
    assert re.search(r"-20\d\d-", name)


def test_empty_file_is_empty():
    assert data_of(NAMES["empty-file"]) == b""


def test_truncated_pdf_lacks_its_end_and_does_not_open():
    data = data_of(NAMES["broken-pdf"])
    assert data.startswith(b"%PDF-")
    assert b"%%EOF" not in data and b"startxref" not in data and b"trailer" not in data
    with pytest.raises(pypdfium2.PdfiumError):
        pypdfium2.PdfDocument(data)


def test_encrypted_pdf_needs_its_password():
    data = data_of(NAMES["encrypted"])
    assert b"/Encrypt" in data
    with pytest.raises(pypdfium2.PdfiumError, match="(?i)password"):
        pypdfium2.PdfDocument(data)
    document = pypdfium2.PdfDocument(data, password=truth_of(NAMES["encrypted"]).model_extra["password"])
    assert "政府信息公开工作年度报告" in document[0].get_textpage().get_text_range()


def test_bomb_is_small_and_inflates_beyond_any_sane_bound():
    data = data_of(NAMES["extract-oom"])
    assert len(data) < 64 * 1024
    assert b"/Filter [/FlateDecode /FlateDecode]" in data
    start = data.index(b"stream\n") + len(b"stream\n")
    length = int(re.search(rb"/Length (\d+)", data).group(1))
    middle = zlib.decompress(data[start:start + length])  # the outer layer: a few MB at most
    assert len(middle) < 16 * 1024**2
    inner = zlib.decompressobj()
    produced, pending = 0, middle
    while produced <= INFLATE_BOUND and pending:
        produced += len(inner.decompress(pending, 4 * 1024**2))
        pending = inner.unconsumed_tail
    assert produced > INFLATE_BOUND and not inner.eof, "stopped early: the stream inflates further still"
    assert truth_of(NAMES["extract-oom"]).model_extra["inflated_bytes"] >= 1024**3


def test_many_pages_pdf_has_500_pages_and_stays_small():
    data = data_of(NAMES["too-many-pages"])
    assert len(data) < 400 * 1024
    document = pypdfium2.PdfDocument(data)
    assert len(document) == hostile.MANY_PAGES == 500
    assert "申请人情况" in document[len(document) - 1].get_textpage().get_text_range()


def test_maintenance_page_is_html_under_a_pdf_name():
    data = data_of(NAMES["not-a-report"])
    assert data.lstrip().lower().startswith(b"<!doctype html")
    assert "系统维护中" in data.decode("utf-8")


def test_hostile_generator_rebuilds_the_committed_bytes():
    assert hostile.truncated_report() == data_of(NAMES["broken-pdf"])
    assert hostile.encrypted_report() == data_of(NAMES["encrypted"])


@pytest.mark.slow
def test_hostile_generator_rebuilds_the_bomb_and_the_long_pdf():
    assert hostile.many_pages() == data_of(NAMES["too-many-pages"])
    assert hostile.decompression_bomb() == data_of(NAMES["extract-oom"])
