"""Every cell knows where it came from: for each reader, the box its record names really holds
the printed text. PDF boxes are rendered (pypdfium2, at a known scale) and read back from the
text layer inside the box (pdfplumber, an implementation independent of the reader's pdfium
path); grid boxes are looked up in the table by an independent reading of the file (lxml,
python-docx, openpyxl, xlrd); the text reader's lines are found on their page."""

from __future__ import annotations

import io
import re
import unicodedata

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pytest

from extract import extract_bytes, extract_file
from report.record import CellSource, ReportRecord
from sandbox.corpus import CorpusEntry, load_corpus
from sandbox.generate.degrade import quarter_turned

SCALE = 2.0  # pixels per point of the crops rendered


def entry(name: str) -> CorpusEntry:
    [found] = [e for e in load_corpus() if e.name == name]
    return found


def folded(text: str) -> str:
    return unicodedata.normalize("NFKC", "".join((text or "").split()))


def assert_sources_match_the_record(record: ReportRecord, unit: str | None) -> None:
    """One source per cell, with the very text the value was parsed from."""
    assert record.cells and set(record.cell_sources) == set(record.cells)
    for key, source in record.cell_sources.items():
        assert source.text == record.raw[key], key
        assert source.unit == unit, key
        assert (source.bbox is not None) == (unit is not None), key


# ---------------------------------------------------------------- PDF text layers
PDFS = ("hongze-2024-word-pdf", "chanhe-industry-2021-reportlab-pdf", "changchun-health-2023-reportlab-pdf-landscape")


def crop(pdf: pdfium.PdfDocument, source: CellSource) -> np.ndarray:
    """The box rendered: the page at SCALE px/pt (as a viewer shows it, /Rotate honoured), cut out."""
    assert source.page is not None and source.bbox is not None
    image = pdf[source.page - 1].render(scale=SCALE, grayscale=True).to_numpy()
    x0, y0, x1, y1 = (round(v * SCALE) for v in source.bbox)
    return image[y0:y1, x0:x1].squeeze()


def has_ink(pixels: np.ndarray) -> bool:
    return bool((pixels < 128).any())


@pytest.mark.parametrize("name", PDFS)
def test_a_pdf_box_holds_the_printed_text(name: str) -> None:
    data = entry(name).read_bytes()
    record = extract_bytes(data)
    assert_sources_match_the_record(record, "pt")
    rendered = pdfium.PdfDocument(data)
    with pdfplumber.open(io.BytesIO(data)) as plumber:
        for key, source in record.cell_sources.items():
            assert source.bbox is not None and source.page is not None
            x0, top, x1, bottom = source.bbox
            page = plumber.pages[source.page - 1]
            inside = page.within_bbox((x0 - 0.5, top - 0.5, x1 + 0.5, bottom + 0.5)).extract_text()
            assert folded(inside) == folded(source.text), f"{key}: box holds {inside!r}, source says {source.text!r}"
            # What is printed there is on the rendered page too (a blank cell renders blank).
            assert has_ink(crop(rendered, source)) == bool(folded(source.text)), key
            if source.text.strip().isdigit():
                assert record.cells[key] == int(folded(source.text)), key


def test_boxes_on_a_turned_page_are_in_the_upright_page_as_a_viewer_shows_it() -> None:
    """Content drawn a quarter turn with /Rotate 90: the boxes are the upright original's, and the
    page rendered with its /Rotate shows there what the original shows."""
    original = entry("hongze-2024-word-pdf").read_bytes()
    turned = quarter_turned(original, 1, rotate=True)
    upright, sideways = extract_bytes(original), extract_bytes(turned)
    assert sideways.cells == upright.cells
    original_pdf, turned_pdf = pdfium.PdfDocument(original), pdfium.PdfDocument(turned)
    assert turned_pdf[0].get_rotation() == 90
    for key, source in sideways.cell_sources.items():
        twin = upright.cell_sources[key]
        assert source.page == twin.page and source.text == twin.text, key
        assert source.bbox is not None and twin.bbox is not None
        assert np.allclose(source.bbox, twin.bbox, atol=0.6), (key, source.bbox, twin.bbox)
        seen, expected = crop(turned_pdf, source).astype(int), crop(original_pdf, twin).astype(int)
        height, width = min(seen.shape[0], expected.shape[0]), min(seen.shape[1], expected.shape[1])
        difference = np.abs(seen[:height, :width] - expected[:height, :width])
        assert (difference > 96).mean() < 0.02, key


# ---------------------------------------------------------------- grid readers
def _span(value: str | None) -> int:
    return int(value) if value and value.strip().isdigit() else 1


def html_tables(data: bytes) -> list[dict[tuple[int, int], str]]:
    """Every table without a table inside, in reading order: (row, column) → the cell's text."""
    import lxml.html

    tree = lxml.html.document_fromstring(data, parser=lxml.html.HTMLParser(encoding="utf-8"))
    tables = []
    for table in tree.iter("table"):
        if table.xpath(".//table"):
            continue
        grid: dict[tuple[int, int], str] = {}
        for r, tr in enumerate(table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")):
            c = 0
            for td in tr.xpath("./td|./th"):
                while (r, c) in grid:
                    c += 1
                for dr in range(_span(td.get("rowspan"))):
                    for dc in range(_span(td.get("colspan"))):
                        grid[(r + dr, c + dc)] = td.text_content()
                c += _span(td.get("colspan"))
        tables.append(grid)
    return tables


def assert_grid_holds(record: ReportRecord, lookup) -> None:  # type: ignore[no-untyped-def]
    for key, source in record.cell_sources.items():
        assert source.bbox is not None and source.table is not None, key
        x0, y0, x1, y1 = (int(v) for v in source.bbox)
        assert x1 > x0 and y1 > y0, key
        printed = lookup(source, y0, x0)
        assert folded(printed) == folded(source.text), f"{key}: table {source.table} ({y0}, {x0}) holds {printed!r}"


@pytest.mark.parametrize("name", ["chanhe-industry-2023-html", "jlp-erlang-2020-html-gbk", "lg-health-2022-html-text-in-cell"])
def test_an_html_box_is_the_table_cell_holding_the_text(name: str) -> None:
    data = entry(name).read_bytes()
    record = extract_bytes(data)
    assert_sources_match_the_record(record, "grid")
    from extract.readers.html import decode_html

    tables = html_tables(decode_html(data).encode("utf-8"))
    assert all(s.page == 1 for s in record.cell_sources.values())
    assert_grid_holds(record, lambda s, r, c: tables[s.table - 1].get((r, c), ""))


def test_a_flipbook_box_names_its_page() -> None:
    book = entry("guangdong-2021-flipbook")
    record = extract_file(book.path)
    assert_sources_match_the_record(record, "grid")
    pages = {number: html_tables(path.read_bytes()) for number, path in enumerate(book.pages(), start=1)}
    assert len({s.page for s in record.cell_sources.values()}) > 1  # the tables are on several pages
    assert_grid_holds(record, lambda s, r, c: pages[s.page][s.table - 1].get((r, c), ""))


def docx_tables(tables: list) -> list:  # type: ignore[type-arg]
    """The data tables in reading order; a layout table (one cell, or cells holding tables) is
    looked into instead."""
    found = []
    for table in tables:
        cells = [cell for row in table.rows for cell in row.cells]
        if len(cells) == 1 or any(cell.tables for cell in cells):
            unique = {cell._tc: cell for cell in cells}.values()  # a merged cell repeats in every row it spans
            found += docx_tables([inner for cell in unique for inner in cell.tables])
        else:
            found.append(table)
    return found


@pytest.mark.parametrize("name", ["changchun-health-2022-docx", "chanhe-industry-2020-docx"])
def test_a_docx_box_is_the_table_cell_holding_the_text(name: str) -> None:
    import docx

    data = entry(name).read_bytes()
    record = extract_bytes(data)
    assert_sources_match_the_record(record, "grid")
    assert all(s.page is None for s in record.cell_sources.values())  # a DOCX has no pages
    tables = docx_tables(docx.Document(io.BytesIO(data)).tables)
    assert_grid_holds(record, lambda s, r, c: tables[s.table - 1].cell(r, c).text)


def _sheet_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


@pytest.mark.parametrize("name", ["lueyang-land-2022-xlsx", "mingshan-health-2021-xlsx"])
def test_an_xlsx_box_is_the_sheet_cell_holding_the_text(name: str) -> None:
    import openpyxl

    data = entry(name).read_bytes()
    record = extract_bytes(data)
    assert_sources_match_the_record(record, "grid")
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    assert_grid_holds(record, lambda s, r, c: _sheet_text(book.worksheets[s.page - 1].cell(r + 1, c + 1).value))


def test_an_xls_box_is_the_sheet_cell_holding_the_text() -> None:
    import xlrd

    data = entry("lg-health-2023-xls").read_bytes()
    record = extract_bytes(data)
    assert_sources_match_the_record(record, "grid")
    book = xlrd.open_workbook(file_contents=data)
    assert_grid_holds(record, lambda s, r, c: _sheet_text(book.sheet_by_index(s.page - 1).cell_value(r, c)))


# ---------------------------------------------------------------- a plain text layer
def test_a_text_layers_cells_name_the_page_and_line_they_were_printed_on() -> None:
    """No positions in plain text: the source is the page (form feeds count them) and the text,
    which is printed on a line of that page."""
    pdf = pdfium.PdfDocument(entry("hongze-2024-word-pdf").read_bytes())
    pages = [pdf[i].get_textpage().get_text_range().replace("\r", "") for i in range(len(pdf))]
    record = extract_bytes("\f".join(pages).encode("utf-8"))
    assert record.provenance.reader == "text"
    assert_sources_match_the_record(record, None)
    assert len({s.page for s in record.cell_sources.values()}) > 1
    for key, source in record.cell_sources.items():
        assert source.page is not None
        lines = pages[source.page - 1].split("\n")
        assert any(source.text and re.search(rf"(?<![\d.]){re.escape(source.text)}(?![\d.])", line)
                   for line in lines), key


# ---------------------------------------------------------------- OCR
@pytest.mark.slow
def test_an_ocr_box_holds_the_figure_read_again_from_the_page_image() -> None:
    """A scanned page: the box (pixels of the page at the OCR resolution) cut from the page as
    pdfium renders it — not the reader's cleaned crop — shows ink exactly where a figure is
    printed, and the OCR reader's recogniser reads that figure from it; the source carries the
    recogniser's confidence and correction as the OCR pass recorded them."""
    from extract.model import CellRead
    from extract.readers.ocr import DPI, reread

    data = entry("jlp-erlang-2021-scanned-pdf").read_bytes()
    record = extract_bytes(data)
    assert record.provenance.ocr_pages
    assert_sources_match_the_record(record, "px")
    read_cells = record.extraction["ocr_cells"]  # type: ignore[attr-defined]
    assert read_cells and all(record.cell_sources[key].confidence == info["confidence"]
                              and record.cell_sources[key].corrected == info["corrected"] for key, info in read_cells.items())
    pdf = pdfium.PdfDocument(data)
    pages = {n: pdf[n - 1].render(scale=DPI / 72, grayscale=True).to_numpy().squeeze() for n in range(1, len(pdf) + 1)}
    agree = figures = 0
    for key, source in record.cell_sources.items():
        assert source.page is not None and source.bbox is not None, key
        x0, y0, x1, y1 = (round(v) for v in source.bbox)
        inside = np.ascontiguousarray(pages[source.page][y0 + 4:y1 - 4, x0 + 4:x1 - 4])  # clear of the rules
        digits = re.sub(r"\D", "", source.text)
        assert has_ink(inside) == bool(digits), key
        if digits:
            figures += 1
            agree += digits in [re.sub(r"\D", "", text) for text, _ in reread(CellRead(source.page, (inside,), 0.0))]
    # Every box holds ink exactly when it prints a figure (above); the recogniser reading the raw,
    # uncleaned render back misses some lone zeros (it returns 。), so nine in ten must read back:
    # a box off its cell reads back nothing.
    assert figures and agree >= 0.9 * figures, f"{agree}/{figures} boxes read back as their figure"
