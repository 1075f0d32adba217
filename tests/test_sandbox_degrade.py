"""The seeded degradations: deterministic, truth-preserving in what they keep, and each
damage what it says (no text layer left on a scan, /Rotate on a quarter-turned page)."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from sandbox.corpus import load_corpus
from sandbox.generate.degrade import ALL_KINDS, degrade

SOURCE = "chanhe-industry-2021-reportlab-pdf"


def source() -> bytes:
    [entry] = [e for e in load_corpus() if e.name == SOURCE]
    return entry.read_bytes()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_damage() -> None:
    assert degrade(source(), "fax", 5) == degrade(source(), "fax", 5)
    assert degrade(source(), "fax", 5) != degrade(source(), "fax", 6)


@pytest.mark.parametrize("kind", ["speckle", "rotated-scan"])
def test_a_scan_has_no_text_layer_and_every_page(kind: str) -> None:
    scanned = pdfium.PdfDocument(degrade(source(), kind, 5))
    original = pdfium.PdfDocument(source())
    assert len(scanned) == len(original)
    for index in range(len(scanned)):
        assert scanned[index].get_textpage().get_text_range().strip() == ""


def test_a_rotated_text_layer_keeps_its_text_and_says_rotate_90() -> None:
    turned = pdfium.PdfDocument(degrade(source(), "rotated-text", 5))
    original = pdfium.PdfDocument(source())
    assert all(turned[i].get_rotation() == 90 for i in range(len(turned)))
    def characters(document: pdfium.PdfDocument) -> list[str]:  # the same text, in whatever order
        return sorted("".join(document[0].get_textpage().get_text_range().split()))

    assert characters(turned) == characters(original)
    assert set(ALL_KINDS) == {"speckle", "skew", "blur", "jpeg", "dpi", "fax", "photo", "seal", "rotated-scan",
                              "rotated-text"}


@pytest.mark.parametrize("kind", ["rotated-scan", "rotated-text"])
def test_pages_written_with_rotate_are_deterministic_too(kind: str) -> None:
    assert degrade(source(), kind, 7) == degrade(source(), kind, 7)


def test_a_sideways_scan_fills_its_page_and_its_rotate_turns_it_upright() -> None:
    original = pdfium.PdfDocument(source())
    upright = original[0].get_size()
    scanned = pdfium.PdfDocument(degrade(source(), "rotated-scan", 2026))
    for index in range(len(scanned)):
        page = scanned[index]
        left, bottom, right, top = page.get_mediabox()
        [image] = list(page.get_objects())
        x0, y0, x1, y1 = image.get_bounds()
        assert (round(x1 - x0), round(y1 - y0)) == (round(right - left), round(top - bottom))  # nothing clipped
        if page.get_rotation():  # the viewer's upright page is the original's (to the scan's pixel)
            width, height = page.get_size()
            assert abs(width - upright[0]) < 1 and abs(height - upright[1]) < 1
    assert any(scanned[i].get_rotation() for i in range(len(scanned)))
