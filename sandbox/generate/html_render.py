"""The report body as a CMS editor stores it: `<p>` prose and Word-exported tables.

`HtmlStyle` holds the knobs real pages differ in (cell markup, numbers broken by
`<br>`, a single value printed in one cell of a spanned row, blank filler cells,
表二 as one table or one per block); each page picks its own from its seed and the
truth notes say which.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass

from report.catalogue import SECTIONS
from report.record import ReportRecord
from sandbox.generate.html_grid import (
    Cell,
    Grid,
    split_rows,
    table_four,
    table_three,
    table_two,
    table_two_blocks,
)

FILLERS = ("", "&nbsp;", "/", "-")


@dataclass(frozen=True)
class HtmlStyle:
    cells: str = "word"          # word: <p class=MsoNormal><span>…; span: <span>…; font: <font face>…; plain: text
    split_numbers: bool = False  # 1172 printed as 11<br>72 (a narrow column in Word)
    pad_spans: bool = False      # a value under a 3-column header printed in 1 cell + 2 filler cells
    filler: str = "&nbsp;"       # what a filler cell holds; "drop": no filler cells at all
    header_breaks: bool = True   # 商业<br>企业, 结果<br>维持
    t2_blocks: bool = False      # 表二 as one table per 第二十条 block
    heading: str = "strong"      # strong: <p><strong>一、…</strong></p>; h3: <h3>
    amount_unit: str = "万元"    # the unit the 2019 采购总金额 is printed in
    digits: str = "ascii"        # ascii | fullwidth (１２) | thousands (1,172); applied to the raws
    t3_header: str = "full"      # full: 勾稽关系 note + 申请人情况 row; short: only the two label rows
    t3_split_at: int | None = None  # 表三 printed as two tables, cut before this row
    ghost_row: bool = False      # Word's zero-height <![if !supportMisalignedColumns]> row of empty cells
    spaced_labels: bool = False  # short labels padded with ideographic spaces: 规　　章, 总　计
    th_headers: bool = False     # label cells as <th>

    def describe(self) -> str:
        parts = [f"cells as {self.cells} markup"]
        if self.split_numbers:
            parts.append("numbers of 4+ digits split by <br>")
        if self.pad_spans and self.filler == "drop":
            parts.append("single values in spanned rows printed in one cell, the row's other cells dropped")
        elif self.pad_spans:
            parts.append(f"single values in spanned rows padded with {self.filler or 'empty'!r} filler cells")
        if self.t2_blocks:
            parts.append("表二 as one table per 第二十条 block")
        parts.append(f"section headings as {self.heading}")
        if self.amount_unit != "万元":
            parts.append(f"2019 采购总金额 printed in {self.amount_unit}")
        if self.digits != "ascii":
            parts.append(f"numbers printed with {self.digits} digits")
        if self.t3_header == "short":
            parts.append("表三 without the 申请人情况 row")
        if self.t3_split_at:
            parts.append(f"表三 split into two tables before row {self.t3_split_at}")
        if self.ghost_row:
            parts.append("Word's zero-height ghost row closes each table")
        if self.spaced_labels:
            parts.append("short labels spaced with U+3000 (规　　章)")
        if self.th_headers:
            parts.append("label cells as <th>")
        return "; ".join(parts)


def pick_style(rng: random.Random) -> HtmlStyle:
    return HtmlStyle(
        cells=rng.choice(("word", "span", "plain")),
        split_numbers=rng.random() < 0.5,
        pad_spans=rng.random() < 0.5,
        filler=rng.choice(FILLERS),
        header_breaks=rng.random() < 0.7,
        t2_blocks=rng.random() < 0.4,
        heading=rng.choice(("strong", "strong", "h3")),
        t3_header=rng.choice(("full", "full", "short")),
        t3_split_at=rng.choice((None, None, None, 12, 20)),
        spaced_labels=rng.random() < 0.3,
        th_headers=rng.random() < 0.25,
    )


# ---------------------------------------------------------------- tables
_WORD_TD = 'valign="center" style="padding:0pt 5.4pt;border:1pt solid windowtext;"'
_WORD_P = ('<p class="MsoNormal" align="center" style="text-align:center;">'
           '<span style="font-family:宋体;font-size:10.5pt;">{}</span></p>')


def _spaced(text: str) -> str:
    """规章 → 规　　章, 总计 → 总　计: how typists centre short labels."""
    if len(text) == 2:
        return f"{text[0]}　　{text[1]}" if text in ("规章",) else f"{text[0]}　{text[1]}"
    return text


def _cell_text(cell: Cell, style: HtmlStyle) -> str:
    text = html.escape(_spaced(cell.text) if style.spaced_labels and cell.header else cell.text)
    if cell.key and style.split_numbers and len(cell.text) >= 4 and cell.text.replace(".", "").isdigit():
        cut = len(cell.text) // 2
        text = f"{html.escape(cell.text[:cut])}<br/>{html.escape(cell.text[cut:])}"
    text = text.replace("\n", "<br/>" if style.header_breaks else "")
    if not cell.text and not cell.key:
        text = "&nbsp;"
    if cell.key and not cell.text:
        text = style.filler
    if style.cells == "word":
        return _WORD_P.format(text)
    if style.cells == "span":
        return f'<span style="font-size:14px">{text}</span>'
    if style.cells == "font":
        return f'<font face="宋体" size="2">{text}</font>'
    return text


def _td(cell: Cell, style: HtmlStyle) -> str:
    spans = "".join(f' {name}="{value}"' for name, value in (("rowspan", cell.rowspan), ("colspan", cell.colspan))
                    if value > 1)
    attrs = f" {_WORD_TD}" if style.cells == "word" else ' align="center"'
    tag = "th" if style.th_headers and cell.header else "td"
    return f"<{tag}{spans}{attrs}>{_cell_text(cell, style)}</{tag}>"


def _padded(row: list[Cell], style: HtmlStyle) -> list[Cell]:
    """A value cell spanning columns printed instead as the value and empty filler cells
    (or, with filler "drop", the value alone: the row is shorter than the table)."""
    if not style.pad_spans:
        return row
    out: list[Cell] = []
    for cell in row:
        if cell.key and cell.colspan > 1:
            out.append(Cell(cell.text, key=cell.key))
            if style.filler != "drop":
                out.extend(Cell(style.filler.replace("&nbsp;", " ").strip()) for _ in range(cell.colspan - 1))
        else:
            out.append(cell)
    return out


def table_html(grid: Grid, style: HtmlStyle) -> str:
    head = ('<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0" '
            'style="border-collapse:collapse;border:none;width:100%;">' if style.cells == "word"
            else '<table border="1" cellspacing="0" cellpadding="0" width="100%">')
    rows = "\n".join("<tr>" + "".join(_td(c, style) for c in _padded(row, style)) + "</tr>" for row in grid.rows)
    if style.ghost_row:
        ghost = "".join('<td width="60" style="border:none"></td>' for _ in range(grid.width))
        rows += f'\n<![if !supportMisalignedColumns]><tr height="0">{ghost}</tr><![endif]>'
    return f"{head}\n<tbody>\n{rows}\n</tbody>\n</table>"


def tables_html(record: ReportRecord, style: HtmlStyle) -> dict[str, list[str]]:
    """The tables under each section key."""
    if style.t2_blocks:
        t2 = [table_html(Grid("表二", block), style) for block in table_two_blocks(record, style.amount_unit)]
    else:
        t2 = [table_html(table_two(record, style.amount_unit), style)]
    t3 = table_three(record, style.header_breaks, style.t3_header == "short")
    if style.t3_split_at:
        top, bottom = split_rows(t3, style.t3_split_at)
        applications = [table_html(top, style), "<p>&nbsp;</p>", table_html(bottom, style)]
    else:
        applications = [table_html(t3, style)]
    return {
        "proactive": t2,
        "applications": applications,
        "review_litigation": [table_html(table_four(record), style)],
    }


# ---------------------------------------------------------------- prose
def paragraph(text: str) -> str:
    return f'<p style="text-indent:2em;line-height:1.8;">{html.escape(text)}</p>'


def heading_html(text: str, style: HtmlStyle) -> str:
    if style.heading == "h3":
        return f"<h3>{html.escape(text)}</h3>"
    return f'<p style="text-indent:2em;"><strong>{html.escape(text)}</strong></p>'


def intro(record: ReportRecord) -> str:
    return paragraph(intro_text(record))


def intro_text(record: ReportRecord) -> str:
    return ("本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《国务院办公厅政府信息与"
            "政务公开办公室关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》要求编制。"
            f"本报告所列数据的统计期限自{record.year}年1月1日起至{record.year}年12月31日止。")


def signature(agency_name: str, published: str) -> str:
    year, month, day = (int(part) for part in published.split("-"))
    return (f'<p style="text-align:right;">{html.escape(agency_name)}</p>'
            f'<p style="text-align:right;">{year}年{month}月{day}日</p>')


def section_blocks(record: ReportRecord, style: HtmlStyle) -> list[tuple[str, list[str]]]:
    """(section key, html pieces) in order: heading, prose, tables."""
    tables = tables_html(record, style)
    blocks = []
    for key, heading, _ in SECTIONS:
        pieces = [heading_html(heading, style)]
        text = record.sections.get(key, "")
        if text:
            pieces.append(paragraph(text))
        pieces.extend(tables.get(key, []))
        blocks.append((key, pieces))
    return blocks


def report_body(record: ReportRecord, style: HtmlStyle, agency_name: str, published: str) -> str:
    pieces = [intro(record)]
    for _, block in section_blocks(record, style):
        pieces.extend(block)
    pieces.append(signature(agency_name, published))
    return "\n".join(pieces)
