"""Excel attachments with openpyxl: merged header cells, the prose in rows above the
tables, one sheet per table or everything on one sheet, numbers stored as numbers,
as text (WPS exports) or as floats."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from report.catalogue import SECTIONS
from report.record import ReportRecord
from sandbox.generate.html_grid import Grid, place, table_four, table_three, table_two
from sandbox.generate.office_docx import FIXED_TIME
from sandbox.generate.office_zip import normalise_zip

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
WIDTH = 15  # columns the prose rows span (表四 is 15 wide)


@dataclass(frozen=True)
class XlsxStyle:
    layout: str = "sheets"     # sheets: 正文, 表二, 表三, 表四 | one-sheet
    numbers: str = "int"       # int | text | float
    sheet_names: tuple[str, ...] = ("正文", "表二", "表三", "表四")
    formulas: bool = False     # 表三's 总计 column as =SUM() of the six applicant columns

    def describe(self) -> str:
        where = "one sheet per table" if self.layout == "sheets" else "everything on one sheet"
        text = f"openpyxl, merged header cells, {where} (sheets {', '.join(self.sheet_names)}), numbers stored as {self.numbers}"
        return text + ("; 表三 总计 column as =SUM() formulas" if self.formulas else "")


def _number(raw: str, mode: str) -> str | int | float:
    if mode == "text" or not raw:
        return raw
    try:
        value = float(raw)
    except ValueError:
        return raw
    if mode == "float" or not value.is_integer() or "." in raw:
        return value
    return int(value)


def write_grid(sheet: Worksheet, grid: Grid, top: int, style: XlsxStyle) -> int:
    """Write a grid with its top-left at row `top` (1-based), column A; return the next free row."""
    for placed in place(grid):
        row, column = top + placed.row, 1 + placed.column
        cell = sheet.cell(row=row, column=column)
        cell.value = _number(placed.cell.text, style.numbers) if placed.cell.key else placed.cell.text
        if style.formulas and placed.cell.key and placed.cell.key.startswith("t3.") and placed.cell.key.endswith(".total"):
            first, last = get_column_letter(column - 6), get_column_letter(column - 1)
            cell.value = f"=SUM({first}{row}:{last}{row})"
        cell.alignment = _CENTRE
        for dr in range(placed.cell.rowspan):
            for dc in range(placed.cell.colspan):
                sheet.cell(row=row + dr, column=column + dc).border = _BOX
        if placed.cell.rowspan > 1 or placed.cell.colspan > 1:
            sheet.merge_cells(start_row=row, start_column=column, end_row=row + placed.cell.rowspan - 1,
                              end_column=column + placed.cell.colspan - 1)
    return top + len(grid.rows)


def _text_row(sheet: Worksheet, row: int, text: str, bold: bool = False) -> int:
    cell = sheet.cell(row=row, column=1, value=text)
    cell.font = Font(bold=bold, name="宋体")
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=WIDTH)
    return row + 1


def write_xlsx(path: Path, record: ReportRecord, style: XlsxStyle, agency_name: str, published: str) -> None:
    workbook = Workbook()
    workbook.properties.creator = "Administrator"
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    grids = {"proactive": table_two(record), "applications": table_three(record),
             "review_litigation": table_four(record)}
    prose = workbook.active
    prose.title = style.sheet_names[0]
    row = _text_row(prose, 1, record.title or "", bold=True)
    for key, heading, _ in SECTIONS:
        row = _text_row(prose, row, heading, bold=True)
        if record.sections.get(key):
            row = _text_row(prose, row, record.sections[key])
        if key in grids:
            if style.layout == "one-sheet":
                row = write_grid(prose, grids[key], row, style) + 1
            else:
                name = style.sheet_names[1 + list(grids).index(key)]
                write_grid(workbook.create_sheet(name), grids[key], 1, style)
    year, month, day = (int(part) for part in published.split("-"))
    row = _text_row(prose, row + 1, agency_name)
    _text_row(prose, row, f"{year}年{month}月{day}日")
    for sheet in workbook.worksheets:
        sheet.column_dimensions["A"].width = 18
    workbook.save(path)
    normalise_zip(path)
