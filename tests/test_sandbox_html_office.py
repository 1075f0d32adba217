"""The office, flipbook, look-alike and hostile documents of the sandbox corpus are what
their truth says. Office tables are read back with python-docx / openpyxl / xlrd, the
merged cells expanded into full grids, and checked cell by cell against the truth."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import docx.table
import lxml.etree
import openpyxl
import pytest
import xlrd

from sandbox.agencies import agency, publications
from sandbox.corpus import CorpusEntry, load_corpus
from tests.test_sandbox_html_pages import matrix, page_tree, printed_from_grids, t2_format


def entries(form: str) -> list[CorpusEntry]:
    return [e for e in load_corpus() if e.truth.form == form]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _number_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return _squash(str(value))


# ---------------------------------------------------------------- grids from each format
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_cell_text(cell) -> str:
    """What Word shows with revisions accepted: w:t (inserted text included), never w:delText."""
    return _squash("".join(t.text or "" for t in cell._tc.iter(f"{W}t")))


def docx_grids(path: Path) -> list[list[list[str]]]:
    """Every table of the body, wherever it sits (nested, inside content controls)."""
    document = docx.Document(str(path))
    grids = []
    for element in document.element.body.iter(f"{W}tbl"):
        table = docx.table.Table(element, document)
        grid = [[_docx_cell_text(cell) for cell in row.cells] for row in table.rows]
        if len(grid) > 1 or len(grid[0]) > 1:  # not the one-cell layout table
            grids.append(grid)
    return grids


def _segments(rows: list[list[str]], prose_width: int) -> list[list[list[str]]]:
    """Split a sheet's rows into tables: prose rows (one text spanning the sheet) and blank rows end a table."""
    tables, current = [], []
    for row in rows:
        filled = [text for text in row if text]
        is_prose = not filled or (len(set(row[:prose_width])) == 1 and len(row) >= prose_width)
        if is_prose:
            if current:
                tables.append(current)
            current = []
        else:
            current.append(row)
    if current:
        tables.append(current)
    width = lambda table: max(i + 1 for row in table for i, text in enumerate(row) if text)  # noqa: E731
    return [[row[: width(table)] for row in table] for table in tables]


def xlsx_grids(path: Path) -> list[list[list[str]]]:
    workbook = openpyxl.load_workbook(path)
    grids = []
    for sheet in workbook.worksheets:
        values = {(c.row, c.column): _number_text(c.value) for row in sheet.iter_rows() for c in row}
        for merged in sheet.merged_cells.ranges:
            top_left = values.get((merged.min_row, merged.min_col), "")
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    values[(r, c)] = top_left
        rows = [[values.get((r, c), "") for c in range(1, sheet.max_column + 1)] for r in range(1, sheet.max_row + 1)]
        grids += _segments(rows, 15)
    return grids


def xls_grids(path: Path) -> list[list[list[str]]]:
    book = xlrd.open_workbook(str(path), formatting_info=True)
    grids = []
    for sheet in book.sheets():
        values = {(r, c): _number_text(sheet.cell_value(r, c)) for r in range(sheet.nrows) for c in range(sheet.ncols)}
        for r0, r1, c0, c1 in sheet.merged_cells:
            for r in range(r0, r1):
                for c in range(c0, c1):
                    values[(r, c)] = values.get((r0, c0), "")
        rows = [[values.get((r, c), "") for c in range(sheet.ncols)] for r in range(sheet.nrows)]
        grids += _segments(rows, 15)
    return grids


def flipbook_grids(folder: Path) -> list[list[list[str]]]:
    pages = sorted(folder.glob("page-*.html"), key=lambda p: int(p.stem.split("-")[1]))
    return [matrix(table) for page in pages
            for table in page_tree(page.read_bytes()).xpath("//div[contains(@class,'article-content')]//table")]


def assert_prints_truth(entry: CorpusEntry, grids: list[list[list[str]]]) -> None:
    record = entry.truth.record
    assert record is not None
    printed = printed_from_grids(grids, t2_format(record.cells), record.format)
    assert set(printed) == set(record.cells)
    for key, raw in record.raw.items():
        assert printed[key] == raw, key


# ---------------------------------------------------------------- reports
@pytest.mark.parametrize("entry", entries("docx"), ids=lambda e: e.name)
def test_docx_prints_its_truth_in_merged_tables(entry: CorpusEntry) -> None:
    assert_prints_truth(entry, docx_grids(entry.path))
    body = zipfile.ZipFile(entry.path).read("word/document.xml")
    assert b'w:vMerge' in body and b'w:gridSpan w:val="5"' in body  # 法人或其他组织 spans five columns
    text = "".join(t.text or "" for t in docx.Document(str(entry.path)).element.body.iter(f"{W}t"))
    for heading in ("一、总体情况", "三、收到和处理政府信息公开申请情况", "六、其他需要报告的事项"):
        assert heading in text


@pytest.mark.parametrize("entry", entries("xlsx"), ids=lambda e: e.name)
def test_xlsx_prints_its_truth_with_merged_headers(entry: CorpusEntry) -> None:
    assert_prints_truth(entry, xlsx_grids(entry.path))
    workbook = openpyxl.load_workbook(entry.path)
    assert any(len(sheet.merged_cells.ranges) > 10 for sheet in workbook.worksheets)


def test_docx_hard_cases_hide_from_naive_readers() -> None:
    by_name = {e.name: e for e in entries("docx")}
    tracked = [e for e in by_name.values() if "tracked changes" in e.truth.notes]
    controlled = [e for e in by_name.values() if "content control" in e.truth.notes]
    assert tracked and controlled
    body = zipfile.ZipFile(tracked[0].path).read("word/document.xml")
    assert b"<w:del " in body and b"<w:ins " in body and b"w:delText" in body
    # python-docx's own tables list misses the table inside the content control
    document = docx.Document(str(controlled[0].path))
    assert len(document.tables) < len(docx_grids(controlled[0].path))


def test_the_office_styles_differ() -> None:
    docx_notes = {e.truth.notes for e in entries("docx")}
    assert len(docx_notes) >= 5
    assert any("nested" in n for n in docx_notes) and any("vertical" in n for n in docx_notes)
    xlsx_notes = {e.truth.notes for e in entries("xlsx")}
    assert len(xlsx_notes) == 3 and any("one sheet per table" in n for n in xlsx_notes)
    assert any("everything on one sheet" in n for n in xlsx_notes)


def test_legacy_xls_prints_its_truth_with_formulas_cached() -> None:
    (entry,) = entries("xls")
    assert entry.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    assert_prints_truth(entry, xls_grids(entry.path))


def test_legacy_doc_is_a_word_97_file_that_needs_libreoffice() -> None:
    (entry,) = entries("doc")
    data = entry.read_bytes()
    assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and "WordDocument".encode("utf-16-le") in data
    assert entry.truth.expected_finding == "needs-libreoffice" and entry.truth.record is not None


def test_the_flipbook_is_a_directory_of_pages_with_a_cut_table() -> None:
    (entry,) = entries("flipbook")
    assert entry.path.is_dir() and entry.truth.file == entry.path.name
    index = page_tree((entry.path / "index.html").read_bytes())
    pages = sorted(p.name for p in entry.path.glob("page-*.html"))
    assert sorted(index.xpath("//ul[@class='pages']//a/@href")) == pages and len(pages) >= 3
    grids = flipbook_grids(entry.path)
    assert_prints_truth(entry, grids)
    continued = [g for g in grids if len(g[0]) == 10 and "申请人情况" not in "".join(g[0])]
    assert continued and continued[0][0][0] == "", "the continued 表三 starts with an emptied group cell"


def test_every_planned_office_and_flipbook_document_exists() -> None:
    names = {e.name for e in load_corpus()}
    for form in ("docx", "xlsx", "flipbook"):
        planned = {p.name for p in publications(form)}
        assert planned and planned <= names, planned - names


# ---------------------------------------------------------------- not reports
def test_lookalikes_look_like_reports_but_are_not() -> None:
    found = entries("lookalike")
    titles = " ".join(e.truth.title or "" for e in found)
    for marker in ("一图读懂", "解读", "上半年", "通知"):
        assert marker in titles
    for entry in found:
        assert entry.truth.kind == "not-report" and entry.truth.record is None
        assert entry.truth.expected_finding == "not-a-report"
        assert "年度报告" in entry.truth.title or "统计" in entry.truth.title
        tree = page_tree(entry.read_bytes())
        assert entry.truth.title in tree.xpath("string(//title)")
    half_year = next(e for e in found if "上半年" in e.truth.title)
    assert "上半年新收政府信息公开申请数量" in half_year.read_bytes().decode("utf-8")


def test_hostile_files_are_what_they_claim() -> None:
    by_finding = {e.truth.expected_finding: e for e in entries("hostile")}
    assert set(by_finding) >= {"empty-file", "not-a-report", "broken-docx", "unsafe-xml", "challenge-page",
                               "needs-ocr"}
    assert by_finding["empty-file"].read_bytes() == b""
    fake_pdf = by_finding["not-a-report"]
    assert fake_pdf.path.suffix == ".pdf" and fake_pdf.read_bytes().lstrip().lower().startswith(b"<!doctype html")
    assert fake_pdf.truth.media_type == "application/pdf"
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(by_finding["broken-docx"].path)
    assert by_finding["broken-docx"].read_bytes()[:4] == b"PK\x03\x04"
    assert by_finding["challenge-page"].truth.model_extra["status"] == 200
    assert by_finding["needs-ocr"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for entry in entries("hostile"):
        assert entry.truth.kind == "broken" and entry.truth.record is None


def test_the_xxe_docx_declares_an_external_entity_that_a_safe_parser_refuses() -> None:
    entry = next(e for e in entries("hostile") if e.truth.expected_finding == "unsafe-xml")
    body = zipfile.ZipFile(entry.path).read("word/document.xml")
    assert b'<!ENTITY xxe SYSTEM "file:///etc/passwd">' in body and b"&xxe;" in body
    safe = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    tree = lxml.etree.fromstring(body, safe)
    assert entry.truth.model_extra["forbidden_text"] not in "".join(tree.itertext())


def test_every_hostile_and_lookalike_document_names_a_site() -> None:
    for entry in entries("hostile") + entries("lookalike"):
        assert agency(entry.truth.site).slug == entry.truth.site


@pytest.mark.parametrize("entry", entries("paged-html"), ids=lambda e: e.name)
def test_an_article_paginated_in_place_prints_its_truth_over_its_pages(entry: CorpusEntry) -> None:
    pages = sorted(entry.path.glob("*.html"))     # file-name order is reading order
    trees = [page_tree(page.read_bytes()) for page in pages]
    grids = [matrix(table) for tree in trees for table in tree.xpath("//table[not(.//table)][.//td[2]]")
             if "索引号" not in "".join(table.itertext())]
    assert len(pages) >= 3
    assert_prints_truth(entry, grids)
    for tree, following in zip(trees, pages[1:], strict=False):   # each page's pager links the next one
        assert following.name in tree.xpath("//div[@class='page-turn']//a/@href")
