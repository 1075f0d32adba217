"""Scans as offices make them: the page cleaning, the figure cells, the identity-guided
re-reading, and whole degraded reports of the corpus read to their truth."""

from __future__ import annotations

import numpy as np
import pytest

from extract import Hints, extract_bytes
from extract.model import CellRead
from extract.ocr_repair import repair
from extract.readers.image_prep import clean_page, to_grey, without_specks
from extract.readers.ocr import _digits
from report.record import ReportRecord
from report.validate import validate
from sandbox.corpus import load_corpus
from sandbox.generate.degrade import degrade


def _figure(text: str, specks: list[tuple[int, int]] = ()) -> np.ndarray:  # type: ignore[assignment]
    """A cell crop printing `text` in OpenCV's own stroke font (no host font), with specks."""
    import cv2

    crop = np.full((40, 30 + 22 * len(text)), 255, np.uint8)
    cv2.putText(crop, text, (12, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2, cv2.LINE_AA)
    for y, x in specks:
        crop[y:y + 3, x:x + 3] = 20
    return crop


# ---------------------------------------------------------------- the page and the cell
def test_a_red_seal_turns_pale_and_the_print_under_it_stays_black() -> None:
    page = np.full((60, 60, 3), 255, np.uint8)
    page[10:50, 10:50] = (40, 30, 205)     # BGR: the seal's red
    page[28:32, 5:55] = (0, 0, 0)          # a ruling line through it
    grey = to_grey(page)
    assert grey[15, 15] > 190 and grey[30, 30] < 40


def test_isolated_specks_and_bleed_through_become_paper() -> None:
    page = np.full((200, 200), 235, np.uint8)   # a grey photocopy background
    page[50:52, 20:180] = 30                     # a ruling line
    page[120:123, 100:103] = 10                  # a speck far from any print
    page[160:190, 20:60] = 215                   # faint show-through of the reverse side
    clean = clean_page(page)
    assert clean[51, 100] < 100
    assert clean[121, 101] == 255 and clean[175, 40] == 255 and clean[10, 10] == 255


def test_a_speck_beside_a_figure_is_dropped_and_a_decimal_point_kept() -> None:
    speckled = _figure("7", specks=[(4, 4), (5, 45)])
    cleaned = without_specks(speckled)
    assert cleaned[5, 5] == 255 and cleaned[6, 46] == 255
    assert int((cleaned < 128).sum()) > 40  # the 7 itself stays
    decimal = _figure("5.3")
    assert np.array_equal(without_specks(decimal), decimal)
    only_specks = np.full((40, 40), 255, np.uint8)
    only_specks[10:13, 10:13] = 0
    assert (without_specks(only_specks) == 255).all()


@pytest.mark.parametrize(("read", "figure"), [("5.", "5"), ('"3', "3"), ("。12", "12"), ("o", "0"), ("0-", "0"),
                                              ("1O", "10"), ("8282.1", "8282.1"), ("属于国家秘密", "属于国家秘密")])
def test_a_figure_cell_reading_keeps_the_figure_only(read: str, figure: str) -> None:
    assert _digits(read) == figure


# ---------------------------------------------------------------- identities guide recognition
def _t4_record(upheld: int, total: int) -> ReportRecord:
    cells = {"t4.review.upheld": upheld, "t4.review.corrected": 0, "t4.review.other": 0, "t4.review.pending": 0,
             "t4.review.total": total}
    return ReportRecord(format="2021", year=2024, cells=dict(cells), raw={k: str(v) for k, v in cells.items()})


def _reads(record: ReportRecord) -> dict[str, CellRead]:
    """A read per cell; its page number tells the fake recogniser below which cell it is."""
    return {key: CellRead(page=index, crops=(np.full((4, 4), 255, np.uint8),), confidence=0.61)
            for index, key in enumerate(record.cells)}


def _errors(record: ReportRecord) -> list[str]:
    return [f.rule for f in validate(record) if f.is_error]


def test_a_misread_figure_is_read_again_and_corrected_where_the_total_agrees() -> None:
    record = _t4_record(upheld=3, total=5)   # 5 read as 3
    assert _errors(record) == ["T4-SUM"]
    upheld = list(record.cells).index("t4.review.upheld")

    def reread(read: CellRead) -> list[tuple[str, float]]:  # other preprocessing reads the 5
        return [("5", 0.97), ("3", 0.8)] if read.page == upheld else [(record.raw[list(record.cells)[read.page]], 0.9)]

    repair(record, _reads(record), reread)
    assert record.cells["t4.review.upheld"] == 5 and record.raw["t4.review.upheld"] == "5"
    assert not _errors(record)
    info = record.extraction["ocr_cells"]  # type: ignore[attr-defined]
    assert info["t4.review.upheld"] == {"page": upheld, "confidence": 0.97, "corrected": True, "first_read": "3"}
    assert info["t4.review.total"]["corrected"] is False and info["t4.review.total"]["confidence"] == 0.61


def test_no_reading_that_agrees_leaves_the_cells_and_the_finding() -> None:
    record = _t4_record(upheld=3, total=5)
    upheld = list(record.cells).index("t4.review.upheld")

    def reread(read: CellRead) -> list[tuple[str, float]]:  # other readings, none of them a 5
        return [("8", 0.9), ("3", 0.9)] if read.page == upheld else [(record.raw[list(record.cells)[read.page]], 0.9)]

    repair(record, _reads(record), reread)
    assert record.cells["t4.review.upheld"] == 3 and record.cells["t4.review.total"] == 5
    assert _errors(record) == ["T4-SUM"]
    assert not any(cell["corrected"] for cell in record.extraction["ocr_cells"].values())  # type: ignore[attr-defined]


# ---------------------------------------------------------------- whole degraded reports
SOURCE = "chanhe-industry-2021-reportlab-pdf"


# Only the kinds this reader gets exactly right so far (benchmarks/bench_extract.py measures all).
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["speckle"])
def test_a_degraded_scan_of_a_corpus_report_reads_to_its_truth(kind: str) -> None:
    [entry] = [e for e in load_corpus() if e.name == SOURCE]
    truth = entry.truth.record
    assert truth is not None
    # As the crawler hands it over: with the listing's title (OCR misses rare characters such as 瀍).
    hints = Hints(listing_title=entry.truth.title, listing_date=entry.truth.published)
    record = extract_bytes(degrade(entry.read_bytes(), kind, seed=2026), hints=hints)
    assert record.provenance.ocr_pages
    wrong = {key: (record.cells.get(key, "missing"), value) for key, value in truth.cells.items()
             if record.cells.get(key, "missing") != value}
    assert not wrong and set(record.cells) == set(truth.cells)
    assert (record.agency, record.year) == (truth.agency, truth.year)
