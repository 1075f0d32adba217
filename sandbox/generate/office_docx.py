"""Word attachments built from scratch with python-docx: prose paragraphs and the report
tables with real merged cells (the grids of html_grid), in layouts that differ from
the official template — 表二 split into one table per block, 表三's group labels
written vertically, the whole report nested in a layout table, header rows repeated.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table

from report.catalogue import SECTIONS
from report.record import ReportRecord
from sandbox.generate.html_grid import (
    Grid,
    place,
    split_rows,
    table_four,
    table_three,
    table_two,
    table_two_blocks,
)
from sandbox.generate.office_zip import normalise_zip

FIXED_TIME = datetime(2025, 1, 1, 8, 0, 0)


@dataclass(frozen=True)
class DocxStyle:
    t2_blocks: bool = False        # 表二 as one table per 第二十条 block, each with a caption
    vertical_groups: bool = False  # 表三's 三、本年度办理结果 etc. written top to bottom
    nested: bool = False           # the whole report inside a one-cell layout table
    repeat_header: bool = True     # 表三's header rows repeat on each page
    body_font: str = "仿宋_GB2312"
    heading_font: str = "黑体"
    captions: bool = False         # 表一/表二… captions above the tables
    tracked_changes: bool = False  # 表三's 本年新收 row and 表四's values revised with Word's track changes
    content_control: bool = False  # 表三 inside a block-level content control (w:sdt)
    t3_split_at: int | None = None  # 表三 as two Word tables, cut before this row (pasted page by page)

    def describe(self) -> str:
        parts = ["python-docx, merged cells"]
        if self.t2_blocks:
            parts.append("表二 as one table per 第二十条 block")
        if self.vertical_groups:
            parts.append("表三 group labels in vertical text")
        if self.nested:
            parts.append("the whole report nested in a one-cell layout table")
        if self.captions:
            parts.append("captions above the tables")
        if self.tracked_changes:
            parts.append("tracked changes left in: 表三 本年新收 and 表四 values as w:del old + w:ins new")
        if self.content_control:
            parts.append("表三 inside a w:sdt content control")
        if self.t3_split_at:
            parts.append(f"表三 as two tables, cut before row {self.t3_split_at}")
        return "; ".join(parts)


def _set_font(run, name: str, size: float) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    properties = run._element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _vertical(cell) -> None:
    properties = cell._tc.get_or_add_tcPr()
    direction = OxmlElement("w:textDirection")
    direction.set(qn("w:val"), "tbRlV")
    properties.append(direction)


def _repeat_header(table: Table, rows: int) -> None:
    for row in table.rows[:rows]:
        properties = row._tr.get_or_add_trPr()
        marker = OxmlElement("w:tblHeader")
        marker.set(qn("w:val"), "true")
        properties.append(marker)


def add_grid(container, grid: Grid, style: DocxStyle, ids: Iterator[int], font: str = "宋体") -> Table:
    """A Word table for a grid: spans become merged cells (gridSpan / vMerge); `ids` numbers revisions."""
    table = container.add_table(rows=len(grid.rows), cols=grid.width)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for placed in place(grid):
        cell = table.cell(placed.row, placed.column)
        if placed.cell.rowspan > 1 or placed.cell.colspan > 1:
            cell = cell.merge(table.cell(placed.row + placed.cell.rowspan - 1,
                                         placed.column + placed.cell.colspan - 1))
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if style.tracked_changes and _revised(placed.cell.key):
            _tracked_revision(paragraph, placed.cell.text, font, ids)
            continue
        lines = placed.cell.text.split("\n")
        run = paragraph.add_run(lines[0])
        _set_font(run, font, 10)
        for line in lines[1:]:
            run.add_break()
            run = paragraph.add_run(line)
            _set_font(run, font, 10)
        if style.vertical_groups and placed.cell.header and placed.cell.rowspan > 2 and placed.column == 0:
            _vertical(cell)
    if grid.caption == "表三" and style.repeat_header:
        _repeat_header(table, 3)
    return table


def _revised(key: str | None) -> bool:
    return key is not None and key.startswith(("t3.new.", "t4."))


_REVISION_DATE = "2025-01-10T09:00:00Z"


def _tracked_revision(paragraph, text: str, font: str, ids: Iterator[int]) -> None:
    """The cell as Word keeps an unaccepted edit: the old figure deleted, the new one inserted."""
    old = str(int(text) + 1) if text.isdigit() else "0"
    for tag, text_tag, value in (("w:del", "w:delText", old), ("w:ins", "w:t", text)):
        revision = OxmlElement(tag)
        revision.set(qn("w:id"), str(next(ids)))
        revision.set(qn("w:author"), "Administrator")
        revision.set(qn("w:date"), _REVISION_DATE)
        run = OxmlElement("w:r")
        properties = OxmlElement("w:rPr")
        fonts = OxmlElement("w:rFonts")
        fonts.set(qn("w:eastAsia"), font)
        properties.append(fonts)
        run.append(properties)
        content = OxmlElement(text_tag)
        content.text = value
        run.append(content)
        revision.append(run)
        paragraph._p.append(revision)


def _content_control(table: Table, tag: str) -> None:
    """Move a table into a block-level content control, as form templates do."""
    sdt = OxmlElement("w:sdt")
    properties = OxmlElement("w:sdtPr")
    alias = OxmlElement("w:alias")
    alias.set(qn("w:val"), tag)
    properties.append(alias)
    sdt.append(properties)
    content = OxmlElement("w:sdtContent")
    sdt.append(content)
    table._tbl.addprevious(sdt)
    content.append(table._tbl)


def _paragraph(container, text: str, font: str, size: float, bold: bool = False, indent: bool = True,
               align=None) -> None:
    paragraph = container.add_paragraph()
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    if align is not None:
        paragraph.alignment = align
    run = paragraph.add_run(text)
    run.bold = bold
    _set_font(run, font, size)


def _tables_for(record: ReportRecord, style: DocxStyle) -> dict[str, list[tuple[str, Grid]]]:
    t2 = ([(f"表二之{index + 1}", Grid("表二", block)) for index, block in enumerate(table_two_blocks(record))]
          if style.t2_blocks else [("表二", table_two(record))])
    t3 = [("表三", table_three(record))]
    if style.t3_split_at:
        top, bottom = split_rows(t3[0][1], style.t3_split_at)
        t3 = [("表三", top), ("表三（续）", bottom)]
    return {"proactive": t2, "applications": t3, "review_litigation": [("表四", table_four(record))]}


def write_docx(path: Path, record: ReportRecord, style: DocxStyle, agency_name: str, published: str,
               intro: str) -> None:
    document = Document()
    document.core_properties.author = "Administrator"
    document.core_properties.last_modified_by = "Administrator"
    document.core_properties.created = FIXED_TIME
    document.core_properties.modified = FIXED_TIME
    document.core_properties.title = ""
    section = document.sections[0]
    section.header.paragraphs[0].text = agency_name
    body = document
    if style.nested:
        body = document.add_table(rows=1, cols=1).cell(0, 0)
    _paragraph(body, record.title or "", "方正小标宋简体", 22, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(body, intro, style.body_font, 16)
    tables = _tables_for(record, style)
    revision_ids = itertools.count(1)
    for key, heading, _ in SECTIONS:
        _paragraph(body, heading, style.heading_font, 16, bold=True)
        if record.sections.get(key):
            _paragraph(body, record.sections[key], style.body_font, 16)
        for caption, grid in tables.get(key, []):
            if style.captions:
                _paragraph(body, caption, style.heading_font, 12, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
            table = add_grid(body, grid, style, revision_ids)
            if style.content_control and grid.caption == "表三":
                _content_control(table, "收到和处理政府信息公开申请情况")
    year, month, day = (int(part) for part in published.split("-"))
    _paragraph(body, agency_name, style.body_font, 16, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(body, f"{year}年{month}月{day}日", style.body_font, 16, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    document.save(str(path))
    normalise_zip(path)
