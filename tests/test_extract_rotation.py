"""Pages drawn a quarter turn (or upside down), with or without the /Rotate that puts them
upright, read exactly as the upright original: the text layer's orientation comes from the
characters, not from /Rotate alone."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from extract import extract_bytes
from extract.readers.pdf_rotation import page_text, quarter_turns
from sandbox.corpus import load_corpus
from sandbox.generate.degrade import quarter_turned

SOURCES = ("hongze-2024-word-pdf", "chanhe-industry-2021-reportlab-pdf", "changchun-health-2023-reportlab-pdf-landscape")


def entry(name: str):  # type: ignore[no-untyped-def]
    [found] = [e for e in load_corpus() if e.name == name]
    return found


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize(("turns", "rotate"), [(1, True), (3, True), (2, True), (1, False)])
def test_a_turned_text_layer_reads_like_the_upright_original(name: str, turns: int, rotate: bool) -> None:
    source = entry(name)
    truth = source.truth.record
    assert truth is not None
    turned = quarter_turned(source.read_bytes(), turns, rotate=rotate)
    record = extract_bytes(turned)
    assert record.cells == truth.cells
    assert (record.agency, record.year, record.format) == (truth.agency, truth.year, truth.format)
    assert not record.provenance.ocr_pages  # the text layer was read, not a picture of it


def test_the_orientation_comes_from_the_characters() -> None:
    source = entry("hongze-2024-word-pdf").read_bytes()
    turned = pdfium.PdfDocument(quarter_turned(source, 1))
    upright = pdfium.PdfDocument(source)
    assert turned[0].get_rotation() == 90
    assert quarter_turns(turned[0].get_textpage()) == 3  # three more quarter turns make it upright
    assert quarter_turns(upright[0].get_textpage()) == 0
    text, turns = page_text(turned[0])
    assert turns == 3 and turned[0].get_rotation() == 0
    assert text == upright[0].get_textpage().get_text_range()
