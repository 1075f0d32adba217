"""Office documents → rows: DOCX natively, XLSX/XLS sheets, DOC/WPS through LibreOffice."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from extract.findings import Findings
from extract.model import Cell, Document, ReaderError, Row

_MAX_PART = 200 * 1024 * 1024  # no Office part of a real report is anywhere near this
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


# ---------------------------------------------------------------- DOCX
def refuse_unsafe_xml(data: bytes, kind: str) -> None:
    """An Office package whose XML declares a DTD or entities is refused, never parsed
    (XXE: an entity can name a local file; billion laughs: nested entities)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if not info.filename.endswith((".xml", ".rels")):
                    continue
                if info.file_size > _MAX_PART or info.file_size > 5_000_000 and info.file_size > 1000 * max(info.compress_size, 1):
                    raise ReaderError(Findings.ZIP_BOMB, f"{kind.upper()} 内的 {info.filename} 解压后过大",
                                      f"{info.filename} in the {kind.upper()} inflates too much (zip bomb)")
                with archive.open(info) as member:
                    head = member.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise ReaderError(Findings.UNSAFE_XML, f"{kind.upper()} 内的 {info.filename} 声明了 DTD/实体，拒绝解析",
                                      f"{info.filename} in the {kind.upper()} declares a DTD or entities; refused")
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, NotImplementedError, KeyError) as exc:
        raise ReaderError(Findings.of(f"broken-{kind}"), f"{kind.upper()} 文件已损坏：{exc}", f"the {kind.upper()} package is damaged: {exc}") from exc


def read_docx(data: bytes) -> Document:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    refuse_unsafe_xml(data, "docx")
    try:
        word = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise ReaderError(Findings.BROKEN_DOCX, f"DOCX 无法解析：{exc}", f"the DOCX cannot be parsed: {exc}") from exc
    except Exception as exc:  # lxml and zipfile raise many kinds on damaged packages
        raise ReaderError(Findings.BROKEN_DOCX, f"DOCX 无法解析：{exc}", f"the DOCX cannot be parsed: {exc}") from exc
    document = Document(reader="docx", pages=None)
    title = word.core_properties.title
    document.meta_title = title.strip() if title and title.strip() else None
    _walk_blocks(word.element.body, document.rows, [0])
    return document


def _walk_blocks(container: Any, rows: list[Row], tables: list[int]) -> None:
    """Paragraphs and tables in reading order; a layout table (one cell, or cells that
    hold tables) is walked into instead of read as a grid."""
    for block in container.iterchildren():
        if block.tag == f"{_W}p":
            text = _paragraph_text(block)
            if text.strip():
                rows.append(Row([Cell(text.strip())]))
        elif block.tag == f"{_W}tbl":
            cells = list(block.iter(f"{_W}tc"))
            if len(cells) == 1 or any(tc.find(f"{_W}tbl") is not None for tc in cells):
                for tr in block.iterchildren(f"{_W}tr"):
                    for tc in tr.iterchildren(f"{_W}tc"):
                        _walk_blocks(tc, rows, tables)
            else:
                tables[0] += 1
                rows.extend(_docx_table(block, f"docx-t{tables[0]}", tables[0]))
        elif block.tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"):
            inner = block.find(f"{_W}sdtContent") if block.tag == f"{_W}sdt" else block
            if inner is not None:
                _walk_blocks(inner, rows, tables)


def _paragraph_text(paragraph: Any) -> str:
    parts = []
    for node in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br"):
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag == f"{_W}tab":
            parts.append(" ")
        else:
            parts.append("\n")
    return "".join(parts)


def _docx_table(table: Any, space: str, number: int) -> list[Row]:
    """A w:tbl as grid rows: gridSpan is the colspan; vMerge continuations are left out."""
    rows = []
    for r, tr in enumerate(table.iterchildren(f"{_W}tr")):
        column = 0
        properties = tr.find(f"{_W}trPr")
        if properties is not None:
            before = properties.find(f"{_W}gridBefore")
            if before is not None:
                column += int(before.get(f"{_W}val", "0") or 0)
        cells = []
        for tc in tr.iterchildren(f"{_W}tc"):
            span, continued = _tc_span(tc)
            if not continued:
                text = "\n".join(_paragraph_text(p) for p in tc.iter(f"{_W}p")).strip()
                cells.append(Cell(text, float(column), float(column + span), y0=float(r), y1=float(r + 1)))
            column += span
        if any(c.text for c in cells):
            rows.append(Row(cells, 1, space, gridded=True, table=number))
    return rows


def _tc_span(tc: Any) -> tuple[int, bool]:
    properties = tc.find(f"{_W}tcPr")
    if properties is None:
        return 1, False
    span_element = properties.find(f"{_W}gridSpan")
    span = int(span_element.get(f"{_W}val", "1") or 1) if span_element is not None else 1
    merge = properties.find(f"{_W}vMerge")
    continued = merge is not None and merge.get(f"{_W}val", "continue") != "restart"
    return max(span, 1), continued


# ---------------------------------------------------------------- XLSX / XLS
def read_sheet(data: bytes, kind: str) -> Document:
    if kind == "xlsx":
        refuse_unsafe_xml(data, kind)
    try:
        sheets = _xlsx_sheets(data) if kind == "xlsx" else _xls_sheets(data)
    except ReaderError:
        raise
    except Exception as exc:  # openpyxl/xlrd raise many kinds on damaged files
        raise ReaderError(Findings.of(f"broken-{kind}"), f"表格文件无法解析：{exc}", f"the {kind} file cannot be parsed: {exc}") from exc
    document = Document(reader=kind, pages=len(sheets))
    for number, (name, grid) in enumerate(sheets, start=1):
        for cells in grid:
            if any(c.text for c in cells):
                document.rows.append(Row(cells, number, f"{kind}-{name}", gridded=True, table=1))
    return document


def _format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    return str(value).strip()


def _xlsx_sheets(data: bytes) -> list[tuple[str, list[list[Cell]]]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    sheets = []
    for sheet in book.worksheets:
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        covered: set[tuple[int, int]] = set()
        for merged in sheet.merged_cells.ranges:
            spans[(merged.min_row, merged.min_col)] = (merged.max_row - merged.min_row + 1,
                                                       merged.max_col - merged.min_col + 1)
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    if (r, c) != (merged.min_row, merged.min_col):
                        covered.add((r, c))
        grid = []
        for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = []
            for c, value in enumerate(row, start=1):
                if (r, c) in covered:
                    continue
                rowspan, colspan = spans.get((r, c), (1, 1))
                cells.append(Cell(_format_value(value), float(c - 1), float(c - 1 + colspan),
                                  y0=float(r - 1), y1=float(r - 1 + rowspan)))
            grid.append(_trim(cells))
        sheets.append((sheet.title, grid))
    return sheets


def _xls_sheets(data: bytes) -> list[tuple[str, list[list[Cell]]]]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True)
    except (xlrd.XLRDError, NotImplementedError):
        book = xlrd.open_workbook(file_contents=data)
    sheets = []
    for sheet in book.sheets():
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        covered: set[tuple[int, int]] = set()
        for r0, r1, c0, c1 in getattr(sheet, "merged_cells", []):
            spans[(r0, c0)] = (r1 - r0, c1 - c0)
            covered.update((r, c) for r in range(r0, r1) for c in range(c0, c1) if (r, c) != (r0, c0))
        grid = []
        for r in range(sheet.nrows):
            cells = [_xls_cell(sheet, r, c, spans.get((r, c), (1, 1))) for c in range(sheet.ncols) if (r, c) not in covered]
            grid.append(_trim(cells))
        sheets.append((sheet.name, grid))
    return sheets


def _xls_cell(sheet: Any, r: int, c: int, span: tuple[int, int]) -> Cell:
    rowspan, colspan = span
    return Cell(_format_value(sheet.cell_value(r, c)), float(c), float(c + colspan), y0=float(r), y1=float(r + rowspan))


def _trim(cells: list[Cell]) -> list[Cell]:
    """Drop the empty cells after the last filled one (sheets are ragged)."""
    while cells and not cells[-1].text:
        cells.pop()
    return cells


# ---------------------------------------------------------------- DOC / WPS
def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def read_legacy(data: bytes, kind: str, *, convert: Callable[[bytes], Document], timeout_s: float = 90) -> Document:
    """A binary Word/WPS file: converted to DOCX by LibreOffice when it is installed."""
    binary = soffice()
    if binary is None:
        raise ReaderError(Findings.NEEDS_LIBREOFFICE, f"{kind.upper()} 文件需要 LibreOffice 转换，本机未安装；原文件已保留",
                          f"a {kind.upper()} file needs LibreOffice to convert it, which is not installed; raw kept")
    with tempfile.TemporaryDirectory(prefix="nianbao-soffice-") as work:
        source = Path(work) / f"document.{kind}"
        source.write_bytes(data)
        try:
            subprocess.run(
                [binary, "--headless", "--norestore", f"-env:UserInstallation=file://{work}/profile",
                 "--convert-to", "docx", "--outdir", work, str(source)],
                check=True, capture_output=True, timeout=timeout_s)
        except (subprocess.SubprocessError, OSError) as exc:
            raise ReaderError(Findings.BROKEN_DOC, f"LibreOffice 转换失败：{exc}", f"LibreOffice could not convert it: {exc}") from exc
        converted = Path(work) / "document.docx"
        if not converted.exists():
            raise ReaderError(Findings.BROKEN_DOC, "LibreOffice 未能转换该文件", "LibreOffice produced no DOCX")
        document = convert(converted.read_bytes())
    document.reader = f"{kind}+libreoffice"
    return document
