"""Lay out a `ReportContent` as a PDF with reportlab: several table styles, fonts and page shapes.

Shared by the reportlab-pdf, cid-pdf and scanned-pdf forms. Output is reproducible
(`invariant=1`: fixed dates and document id).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pypdfium2
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from sandbox.generate.fonts import check_drawable, pinned_font
from sandbox.generate.pdf_common import (
    T3_CHECK_NOTE,
    T3_COLUMN_LABELS,
    T3_RESULTS_GROUP,
    ReportContent,
)
from sandbox.generate.pdf_ocr_check import misread_in_images, number_boxes

Rules = Literal["grid", "none", "horizontal", "three-line"]

# Font choices: (reportlab name, pinned family (sandbox.generate.fonts) or None for the non-embedded CID font).
FONTS: dict[str, tuple[str, str | None]] = {
    "stsong": ("STSong-Light", None),
    "uming": ("ARPLUMing", "AR PL UMing CN"),
    "ukai": ("ARPLUKai", "AR PL UKai CN"),
    "zenhei": ("WQYZenHei", "WenQuanYi Zen Hei"),
    "uming-opaque": ("ARPLUMingOpaque", "AR PL UMing CN"),   # ASCII not kept readable either
}


@dataclass(frozen=True)
class LayoutStyle:
    """How one document looks."""

    rules: Rules = "grid"
    font: str = "stsong"
    font_size: float = 10.5
    landscape_t3: bool = False
    vertical_group: bool = True     # 三、本年度办理结果 one character per line
    narrow_numbers: bool = False    # number columns so narrow that long numbers wrap
    split_rows: bool = False        # let a 表三 row break over a page
    t3_new_page: bool = False       # start 表三 on a fresh page (else it follows the prose)
    spaced_labels: bool = False     # short labels spaced out to the column width: 规　　章, 行 政 许 可
    fake_bold: bool = False         # headings and 表三's 总计 row drawn twice, 0.4 pt apart (simulated bold)
    watermark: str = ""             # light diagonal text over every page, part of the text layer
    tables_as_images: bool = False  # the tables pasted as pictures (screenshots), the prose as text

    def describe(self) -> str:
        parts = [f"rules={self.rules}", f"font={self.font}", f"size={self.font_size}"]
        parts += [name for name in ("landscape_t3", "vertical_group", "narrow_numbers", "split_rows", "t3_new_page",
                                    "spaced_labels", "fake_bold", "tables_as_images") if getattr(self, name)]
        if self.watermark:
            parts.append(f"watermark={self.watermark}")
        return "reportlab layout " + " ".join(parts)


def register_font(key: str) -> tuple[str, str]:
    """Register a font (a pinned file, never the host's); return (reportlab font name, what was used)."""
    name, family = FONTS[key]
    if family is None:
        pdfmetrics.registerFont(UnicodeCIDFont(name))
        return name, "STSong-Light (reportlab CID font, not embedded)"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(pinned_font(family)), subfontIndex=0,
                                       asciiReadable=not key.endswith("-opaque")))
    return name, f"{family} (embedded TrueType subset)"


def check_printable(content: ReportContent, style: LayoutStyle) -> None:
    """Fail (MissingGlyphs) before writing a PDF whose text the pinned font cannot draw."""
    name, family = FONTS[style.font]
    if family is not None:
        printed = repr((content.title, content.agency, content.intro, content.sections, content.t2, content.t3,
                        content.t4, style.watermark))
        check_drawable(family, printed, pdfmetrics.getFont(name).face.charToGlyph)


class DoubleStruck(Paragraph):
    """Bold simulated the way some PDF makers do it: the same text drawn twice, slightly apart.

    The text layer then holds every character twice (一一、、总总体体…), as in real reports.
    """

    def draw(self) -> None:
        super().draw()
        self.canv.translate(0.4, 0)
        super().draw()


def _spaced(label: str) -> str:
    """規章 → 规　　章; 行政许可 → 行 政 许 可 (typists align short labels with spaces)."""
    if len(label) == 2:
        return label[0] + "\u3000\u3000" + label[1]
    if len(label) <= 4:
        return " ".join(label)
    return label


class _Styles:
    def __init__(self, font: str, size: float) -> None:
        self.title = ParagraphStyle("title", fontName=font, fontSize=size + 7, leading=size * 2.4,
                                    alignment=TA_CENTER, wordWrap="CJK", spaceAfter=size)
        self.body = ParagraphStyle("body", fontName=font, fontSize=size, leading=size * 1.6,
                                   firstLineIndent=size * 2, wordWrap="CJK", spaceAfter=size * 0.4)
        self.heading = ParagraphStyle("heading", parent=self.body, firstLineIndent=0, fontSize=size + 1,
                                      spaceBefore=size * 0.6)
        cell_size = size - 1.5
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=cell_size, leading=cell_size * 1.25,
                                   alignment=TA_LEFT, wordWrap="CJK")
        self.cell_centre = ParagraphStyle("cellc", parent=self.cell, alignment=TA_CENTER)
        self.number = ParagraphStyle("num", parent=self.cell_centre, fontSize=cell_size + 0.5)


def _cells(values: list[str], style: ParagraphStyle) -> list[Paragraph]:
    return [Paragraph(v or "", style) for v in values]


def _rule_commands(rules: Rules, n_rows: int, header_rows: int,
                   merged: Sequence[tuple[int, int, int]] = ()) -> list[tuple]:
    """Ruling lines; `merged` (column, first row, last row) blocks look like one merged cell."""
    if rules == "grid":
        return ([("BOX", (0, 0), (-1, -1), 0.8, colors.black), ("LINEAFTER", (0, 0), (-2, -1), 0.6, colors.black)]
                + _row_lines(n_rows, merged, 0.6))
    if rules == "horizontal":
        return [("LINEABOVE", (0, 0), (-1, 0), 1.0, colors.black)] + _row_lines(n_rows, merged, 0.5)
    if rules == "three-line":
        return [("LINEABOVE", (0, 0), (-1, 0), 1.2, colors.black),
                ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.6, colors.black),
                ("LINEBELOW", (0, -1), (-1, -1), 1.2, colors.black)]
    return []


def _row_lines(n_rows: int, merged: Sequence[tuple[int, int, int]], weight: float) -> list[tuple]:
    """A line below every row, left open where a merged-looking block continues."""
    commands = []
    for r in range(n_rows):
        inside = [column for column, first, last in merged if first <= r < last]
        start = max(inside) + 1 if inside else 0
        commands.append(("LINEBELOW", (start, r), (-1, r), weight, colors.black))
    return commands


def _base_commands() -> list[tuple]:
    return [("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]


def t2_table(content: ReportContent, st: _Styles, style: LayoutStyle, width: float) -> Table:
    n_cols = max(len(block.columns) for block in content.t2)
    data: list[list] = []
    spans: list[tuple] = []
    shaded: list[int] = []
    for block in content.t2:
        top = len(data)
        data.append([Paragraph(block.heading, st.cell_centre)] + [""] * (n_cols - 1))
        spans.append(("SPAN", (0, top), (-1, top)))
        shaded.append(top)
        data.append(_padded(_cells(block.columns, st.cell_centre), n_cols))
        for label, values in block.rows:
            printed = _spaced(label) if style.spaced_labels else label
            data.append(_padded([Paragraph(printed, st.cell)] + _cells(values, st.number), n_cols))
        if len(block.columns) < n_cols:  # the last column spans to the table's edge
            last = len(block.columns) - 1
            spans += [("SPAN", (last, r), (-1, r)) for r in range(top + 1, len(data))]
    first = width * 0.3
    table = Table(data, colWidths=[first] + [(width - first) / (n_cols - 1)] * (n_cols - 1))
    commands = _base_commands() + spans + _rule_commands(style.rules, len(data), 2)
    if style.rules == "grid":
        commands += [("BACKGROUND", (0, r), (-1, r), colors.HexColor("#c6d9f0")) for r in shaded]
    table.setStyle(TableStyle(commands))
    return table


def _padded(cells: list, n: int) -> list:
    return cells + [""] * (n - len(cells))


def t3_table(content: ReportContent, st: _Styles, style: LayoutStyle, width: float) -> Table:
    """表三 as printed by the template: 3 label columns and 7 value columns, 3 header rows.

    Group labels that a merged cell would hold are written into the middle rows of
    their block instead, the block boxed without inner lines (so that the table can
    split across pages anywhere): 三、本年度办理结果 one character per row, as the
    text layer of a real vertically-merged cell reads.
    """
    data: list[list] = [
        [Paragraph(T3_CHECK_NOTE, st.cell), "", "", Paragraph("申请人情况", st.cell_centre)] + [""] * 6,
        ["", "", "", Paragraph("自然人", st.cell_centre), Paragraph("法人或其他组织", st.cell_centre),
         "", "", "", "", Paragraph("总计", st.cell_centre)],
        ["", "", "", ""] + _cells(list(T3_COLUMN_LABELS[1:6]), st.cell_centre) + [""],
    ]
    commands: list[tuple] = [("SPAN", (0, 0), (2, 2)), ("SPAN", (3, 0), (9, 0)), ("SPAN", (3, 1), (3, 2)),
                             ("SPAN", (4, 1), (8, 1)), ("SPAN", (9, 1), (9, 2))]
    header = len(data)
    results = [i for i, row in enumerate(content.t3) if row.group == T3_RESULTS_GROUP]
    group_text = _group_column(len(results), style.vertical_group)
    blocks: list[tuple[int, int]] = []   # (first, last) table rows of each multi-row subgroup
    for index, row in enumerate(content.t3):
        r = len(data)
        bold = style.fake_bold and row.subgroup == "（七）总计"
        values = [DoubleStruck(v, st.number) for v in row.values] if bold else _cells(row.values, st.number)
        if row.group != T3_RESULTS_GROUP:
            data.append([Paragraph(row.group, st.cell), "", ""] + values)
            commands.append(("SPAN", (0, r), (2, r)))
            continue
        group_cell = Paragraph(group_text[index - results[0]], st.cell_centre)
        if not row.label:
            data.append([group_cell, Paragraph(row.subgroup, st.cell), ""] + values)
            commands.append(("SPAN", (1, r), (2, r)))
            continue
        members = [i for i, other in enumerate(content.t3) if other.subgroup == row.subgroup and other.label]
        position = members.index(index)
        sub_cell = Paragraph(row.subgroup, st.cell) if position == (len(members) - 1) // 2 else ""
        data.append([group_cell, sub_cell, Paragraph(row.label, st.cell)] + values)
        if position == 0:
            blocks.append((r, r + len(members) - 1))
    number_width = (6.2 if style.narrow_numbers else 11.5) * mm
    group_width = 7 * mm if style.vertical_group else 16 * mm
    rest = width - 7 * number_width - group_width
    widths = [group_width, rest * 0.35, rest * 0.65] + [number_width] * 7
    table = Table(data, colWidths=widths, repeatRows=0, splitInRow=1 if style.split_rows else 0)
    first, last = header + results[0], header + results[-1]
    commands += _rule_commands(style.rules, len(data), 3, merged=[(0, first, last)] + [(1, a, b) for a, b in blocks])
    table.setStyle(TableStyle(_base_commands() + commands))
    return table


def _group_column(n_rows: int, vertical: bool) -> list[str]:
    """The text of the group column, row by row, centred in its block."""
    chars = list(T3_RESULTS_GROUP) if vertical else [T3_RESULTS_GROUP]
    top = max(0, (n_rows - len(chars)) // 2)
    column = [""] * n_rows
    for offset, char in enumerate(chars):
        column[top + offset] = char
    return column


def t4_table(content: ReportContent, st: _Styles, style: LayoutStyle, width: float) -> Table:
    short = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    data = [
        [Paragraph("行政复议", st.cell_centre)] + [""] * 4 + [Paragraph("行政诉讼", st.cell_centre)] + [""] * 9,
        _cells(short, st.cell_centre) + [Paragraph("未经复议直接起诉", st.cell_centre)] + [""] * 4
        + [Paragraph("复议后起诉", st.cell_centre)] + [""] * 4,
        [""] * 5 + _cells(short * 2, st.cell_centre),
        _cells([v for group in content.t4 for v in group], st.number),
    ]
    commands = [("SPAN", (0, 0), (4, 0)), ("SPAN", (5, 0), (14, 0)), ("SPAN", (5, 1), (9, 1)),
                ("SPAN", (10, 1), (14, 1))] + [("SPAN", (c, 1), (c, 2)) for c in range(5)]
    table = Table(data, colWidths=[width / 15] * 15)
    table.setStyle(TableStyle(_base_commands() + commands + _rule_commands(style.rules, len(data), 3)))
    return table


def _page_decoration(watermark: str, font: str):
    def decorate(canvas, doc) -> None:
        width, height = doc.pageTemplate.pagesize
        canvas.saveState()
        canvas.setFont("Helvetica", 9)
        canvas.drawCentredString(width / 2, 12 * mm, f"- {doc.page} -")
        if watermark:
            canvas.setFillColor(colors.Color(0.6, 0.6, 0.6, alpha=0.25))
            canvas.setFont(font, 44)
            canvas.translate(width / 2, height / 2)
            canvas.rotate(35)
            for offset in (-220, 0, 220):
                canvas.drawCentredString(0, offset, watermark)
        canvas.restoreState()
    return decorate


def build_story(content: ReportContent, style: LayoutStyle, font: str) -> list[Flowable]:
    st = _Styles(font, style.font_size)
    portrait_width = A4[0] - 50 * mm
    landscape_width = A4[1] - 50 * mm
    story: list[Flowable] = [Paragraph(content.title, st.title), Paragraph(content.intro, st.body)]
    for number, (heading, prose) in enumerate(content.sections):
        story.append((DoubleStruck if style.fake_bold else Paragraph)(heading, st.heading))
        if prose:
            story.append(Paragraph(prose, st.body))
        if number == 1:
            story.append(_maybe_picture(t2_table(content, st, style, portrait_width), style))
        elif number == 2:
            if style.landscape_t3:
                story += [NextPageTemplate("landscape"), PageBreak(),
                          t3_table(content, st, style, landscape_width), NextPageTemplate("portrait"), PageBreak()]
            else:
                if style.t3_new_page:
                    story.append(PageBreak())
                story.append(_maybe_picture(t3_table(content, st, style, portrait_width), style))
        elif number == 3:
            story.append(_maybe_picture(t4_table(content, st, style, portrait_width), style))
        story.append(Spacer(1, style.font_size * 0.5))
    return story


PICTURE_DPI = 200
_FRAME_HEIGHT = A4[1] - 47 * mm


def _maybe_picture(table: Table, style: LayoutStyle) -> Flowable:
    return table_picture(table) if style.tables_as_images else table


def table_picture(table: Table) -> Image:
    """The table as a screenshot: drawn alone, rendered to a PNG, placed as an image (no text)."""
    width, height = table.wrap(A4[0], 10 * A4[1])
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=(width + 4, height + 4), invariant=1)
    table.drawOn(sheet, 2, 2)
    sheet.save()
    document = pypdfium2.PdfDocument(buffer.getvalue())
    try:
        bitmap = document[0].render(scale=PICTURE_DPI / 72).to_pil().convert("L")
    finally:
        document.close()
    misread = misread_in_images([bitmap], number_boxes(buffer.getvalue(), PICTURE_DPI, [0.0]))
    if misread:
        raise RuntimeError(f"rapidocr misreads numbers of a pictured table: {misread[:5]}")
    png = io.BytesIO()
    bitmap.save(png, format="PNG", optimize=True)
    scale = min(1.0, (_FRAME_HEIGHT - 12) / (height + 4))  # a picture cannot break over a page
    return Image(io.BytesIO(png.getvalue()), width=(width + 4) * scale, height=(height + 4) * scale)


def write_pdf(path: Path, content: ReportContent, style: LayoutStyle) -> str:
    """Write the report; return a note on the font actually used."""
    font, font_note = register_font(style.font)
    check_printable(content, style)
    doc = BaseDocTemplate(str(path), pagesize=A4, invariant=1, title=content.title, author=content.agency,
                          creator="Microsoft Word" if style.rules == "grid" else "", subject="",
                          leftMargin=25 * mm, rightMargin=25 * mm, topMargin=25 * mm, bottomMargin=22 * mm)
    portrait = Frame(25 * mm, 22 * mm, A4[0] - 50 * mm, A4[1] - 47 * mm, id="p")
    wide = landscape(A4)
    landscape_frame = Frame(25 * mm, 22 * mm, wide[0] - 50 * mm, wide[1] - 47 * mm, id="l")
    decorate = _page_decoration(style.watermark, font)
    doc.addPageTemplates([PageTemplate("portrait", [portrait], onPage=decorate, pagesize=A4),
                          PageTemplate("landscape", [landscape_frame], onPage=decorate, pagesize=wide)])
    doc.build(build_story(content, style, font))
    return font_note
