"""The committed reportlab-made PDFs are exactly what the generator makes, and the scans are
legible: no LibreOffice needed (the Word-made PDFs are checked through their truth only).
Generation embeds the fonts pinned in sandbox/generate/fonts, never the host's: these tests
give the same answer with or without CJK fonts installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.agencies import publications
from sandbox.corpus import CORPUS_DIR
from sandbox.generate import form_hostile_files, form_pdf_reportlab, form_pdf_scanned, pdf_ocr_check
from sandbox.generate.fonts import PINNED, MissingGlyphs, pinned_characters, pinned_font
from sandbox.generate.pdf_common import content_for
from sandbox.generate.pdf_reportlab_layout import LayoutStyle, write_pdf


def test_reportlab_and_cid_pdfs_regenerate_byte_for_byte(tmp_path: Path):
    truths = form_pdf_reportlab.build(tmp_path)
    assert len(truths) == len(publications("reportlab-pdf")) + len(publications("cid-pdf"))
    for truth in truths:
        assert (tmp_path / truth.file).read_bytes() == (CORPUS_DIR / truth.file).read_bytes(), truth.name
        committed = json.loads((CORPUS_DIR / f"{truth.name}.truth.json").read_text(encoding="utf-8"))
        assert json.loads(truth.model_dump_json()) == committed, truth.name


@pytest.mark.parametrize("family", sorted(PINNED))
def test_each_pinned_font_draws_every_pinned_character(family: str):
    from reportlab.pdfbase.ttfonts import TTFontFile

    charmap = TTFontFile(str(pinned_font(family)), subfontIndex=0).charToGlyph
    lacking = [c for c in pinned_characters() if ord(c) not in charmap]
    assert set(lacking) <= set("−￣"), (  # no face has U+2212, U+FFE3
        f"{family} lacks {''.join(lacking)!r}: re-pin with python -m sandbox.generate.fonts (docs/sandbox.md)")


def test_a_character_the_pinned_font_lacks_stops_generation(tmp_path: Path):
    content = content_for(publications("reportlab-pdf")[0])
    content.title += "\U00020000"  # 𠀀, far outside GB2312
    with pytest.raises(MissingGlyphs, match="re-pin"):
        write_pdf(tmp_path / "x.pdf", content, LayoutStyle(font="uming"))
    assert not (tmp_path / "x.pdf").exists()


def test_the_image_only_cover_regenerates_byte_for_byte(tmp_path: Path):
    form_hostile_files.build(tmp_path)
    name = "changchun-health-2023-cover.png"
    assert (tmp_path / name).read_bytes() == (CORPUS_DIR / name).read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("publication", [p for p in publications("scanned-pdf")
                                         if form_pdf_scanned.scan_for(p).layout == "reportlab"],
                         ids=lambda p: p.name)
def test_every_number_of_a_scan_is_legible_to_rapidocr(publication, tmp_path: Path):
    """Each printed number, cropped where the clean layout put it (turned like the scan), reads back."""
    scan = form_pdf_scanned.scan_for(publication)
    truth = json.loads((CORPUS_DIR / f"{publication.name}.truth.json").read_text(encoding="utf-8"))
    clean = tmp_path / "clean.pdf"
    write_pdf(clean, content_for(publication), scan.style)
    boxes = pdf_ocr_check.number_boxes(clean, scan.dpi, truth["scan"]["angles"])
    assert len(boxes) >= 190  # 表二 + 表三 + 表四 and the figures in the prose
    assert pdf_ocr_check.misread_numbers(CORPUS_DIR / truth["file"], boxes) == []
