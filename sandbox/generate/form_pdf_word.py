"""Word-made report PDFs (`word-pdf`): the official template filled in with python-docx,
converted by LibreOffice headless — the way most agencies make theirs.

Made with LibreOffice 7.4.7.2 (Debian 12 package libreoffice-writer-nogui
4:7.4.7-1+deb12u14) and the fonts of fonts-noto-cjk 1:20220127+repack1-1,
fonts-arphic-uming 0.2.20080216.2-11, fonts-arphic-ukai 0.2.20080216.2-5 and
fonts-wqy-zenhei 0.9.45-8; only regenerating the
corpus needs them (tests read the committed PDFs). The PDFs are not byte-identical
across runs (LibreOffice stamps dates), the truth is.

Each document varies, deterministically from its seed: the fonts (宋体/仿宋/黑体
substitutes), body and table font sizes, cell padding, how much space precedes the
tables (so 表三 splits across pages at different rows, sometimes inside a row), a
group column so narrow that 三、本年度办理结果 prints one character per line, value
columns so narrow that long numbers wrap. Variants: `single-other` (（六）其他处理
merged into one row), `wrong-t4-total`, `empty-shell` (the template published with
no figures).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TypedDict

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table, _Cell

from sandbox.agencies import Publication, publications
from sandbox.corpus import Truth
from sandbox.generate.pdf_common import ReportContent, content_for, rng_for, write_truth

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "template-2021.docx"
LIBREOFFICE = "LibreOffice 7.4.7.2 (Debian libreoffice-writer-nogui 4:7.4.7-1+deb12u14)"

# (body font, title font): installed stand-ins for 宋体 / 仿宋 / 黑体 / 楷体.
FONT_SETS: dict[str, tuple[str, str]] = {
    "宋体": ("Noto Serif CJK SC", "Noto Serif CJK SC"),
    "仿宋": ("AR PL UKai CN", "Noto Serif CJK SC"),
    "黑体": ("WenQuanYi Zen Hei", "Noto Sans CJK SC"),
    "明体": ("AR PL UMing CN", "Noto Sans CJK SC"),
}
# Documents whose rendered pages were checked by eye (pypdfium2 → PNG).
REVIEWED: frozenset[str] = frozenset({
    "changchun-health-2021-word-pdf", "changchun-health-2024-word-pdf", "guangdong-2022-word-pdf",
    "guangdong-2023-word-pdf", "hongze-2021-word-pdf", "hongze-2022-word-pdf-single-other",
    "hongze-2023-word-pdf-wrong-t4-total", "hongze-2024-word-pdf", "huaian-2021-word-pdf",
    "huaian-2022-word-pdf", "huaian-2024-word-pdf", "jlp-erlang-2024-word-pdf",
    "lg-health-2023-word-pdf", "lueyang-land-2024-word-pdf", "mingshan-health-2023-word-pdf",
    "qiaokou-health-2023-word-pdf", "weishan-liangcheng-2023-word-pdf-empty-shell",
})

# Where the template keeps things (paragraph and table indexes of template-2021.docx).
_TITLE, _INTRO = 1, 2
_PROSE_PARAGRAPHS = {"overview": 4, "proactive": 7, "applications": 19, "review_litigation": 24,
                     "problems": 29, "other": 31}
_BLANKS_AFTER_T2 = range(9, 18)
_T3_FIRST_DATA_ROW, _T3_OTHER_ROW = 3, 23
_GRID_DXA = 9748


@dataclass(frozen=True)
class WordLook:
    fonts: str
    body_size: float
    table_size: float
    cell_margin: tuple[int, int]   # (left/right, top/bottom) in twentieths of a point
    blank_lines: int               # empty paragraphs kept between 表二 and 三、 (moves 表三's page split)
    narrow_group: bool             # 三、本年度办理结果 one character per line
    narrow_values: bool            # long numbers wrap inside their cells
    repeat_header: bool = False    # 表三's three header rows repeated at the top of its next page
    thousands: bool = False        # 2,581 rather than 2581

    def describe(self) -> str:
        flags = [name for name in ("narrow_group", "narrow_values", "repeat_header", "thousands")
                 if getattr(self, name)]
        return (f"Word template via {LIBREOFFICE}; fonts {self.fonts} ({FONT_SETS[self.fonts][0]}), "
                f"body {self.body_size}pt, tables {self.table_size}pt, cell margins {self.cell_margin}, "
                f"{self.blank_lines} blank lines before 三、 {' '.join(flags)}").strip()


class LookFlags(TypedDict, total=False):
    narrow_group: bool
    narrow_values: bool
    repeat_header: bool
    thousands: bool


# Looks forced where the seed would not show a feature on a document that needs it.
FORCED: dict[tuple[str, int], LookFlags] = {
    ("huaian", 2021): {"narrow_values": True},       # 4-digit figures wrap inside their cells
    ("guangdong", 2022): {"narrow_values": True, "narrow_group": True},
}


def look_for(publication: Publication) -> WordLook:
    rng = rng_for(publication, "word")
    look = WordLook(
        fonts=rng.choice(sorted(FONT_SETS)),
        body_size=rng.choice([16, 14, 12, 15]),
        table_size=rng.choice([10.5, 9, 12, 10]),
        cell_margin=(rng.choice([57, 108, 28, 150]), rng.choice([0, 40, 80])),
        blank_lines=rng.randint(0, 9),
        narrow_group=rng.random() < 0.6,
        narrow_values=rng.random() < 0.4,
        repeat_header=rng.random() < 0.4,
        thousands=rng.random() < 0.3,
    )
    return replace(look, **FORCED.get((publication.slug, publication.year), {}))


def build(out_dir: Path) -> list[Truth]:
    if shutil.which("soffice") is None:
        raise SystemExit("form_pdf_word needs LibreOffice (soffice) to regenerate the word-pdf documents")
    planned = publications("word-pdf")
    truths = []
    with tempfile.TemporaryDirectory(prefix="nianbao-word-") as work:
        work_dir = Path(work)
        made: list[tuple[Publication, ReportContent, WordLook]] = []
        for publication in planned:
            look = look_for(publication)
            content = content_for(publication, thousands=look.thousands)
            fill_template(content, look, publication, rng_for(publication, "docx")).save(
                str(work_dir / f"{publication.name}.docx"))
            made.append((publication, content, look))
        convert(sorted(work_dir.glob("*.docx")), work_dir)
        for publication, content, look in made:
            file = f"{publication.name}.pdf"
            shutil.copyfile(work_dir / file, out_dir / file)
            truths.append(write_truth(out_dir, publication, content, form="word-pdf", file=file,
                                      notes=[look.describe()], reviewed=publication.name in REVIEWED))
    return truths


def convert(documents: list[Path], out_dir: Path) -> None:
    profile = out_dir / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out_dir), *map(str, documents)],
                   check=True, capture_output=True, timeout=600)


# ---------------------------------------------------------------- filling the template
def fill_template(content: ReportContent, look: WordLook, publication: Publication,
                  rng: random.Random) -> docx.document.Document:
    document = docx.Document(str(TEMPLATE))
    body_font, title_font = FONT_SETS[look.fonts]
    paragraphs = document.paragraphs
    _write_paragraph(paragraphs[_TITLE], content.title, title_font, look.body_size + 6, bold=True,
                     align=WD_ALIGN_PARAGRAPH.CENTER)
    _write_paragraph(paragraphs[_INTRO], content.intro, body_font, look.body_size, indent=True)
    sections = dict(content.record.sections)
    for (key, index), (heading, _) in zip(_PROSE_PARAGRAPHS.items(), content.sections, strict=True):
        _write_paragraph(paragraphs[index - 1], heading, title_font, look.body_size, bold=True)
        _write_paragraph(paragraphs[index], sections.get(key, ""), body_font, look.body_size, indent=True)
    for index in list(_BLANKS_AFTER_T2)[look.blank_lines:]:
        _remove(paragraphs[index])
    t2, t3, t4 = document.tables
    if publication.variant == "single-other":
        _merge_other_rows(t3)
    if publication.variant != "empty-shell":
        _fill_t2(t2, content)
        _fill_t3(t3, content)
        _fill_t4(t4, content)
    for table in (t2, t3, t4):
        _restyle(table, body_font, look)
    if look.narrow_group or look.narrow_values:
        _resize_t3(t3, look)
    if look.repeat_header:
        _repeat_header_rows(t3, 3)
    _page_numbers(document, body_font)
    properties = document.core_properties
    properties.title, properties.author, properties.last_modified_by = content.title, content.agency, content.agency
    properties.created = properties.modified = datetime.fromisoformat(publication.published)
    properties.revision = rng.randint(2, 9)
    return document


def _remove(paragraph) -> None:
    paragraph._element.getparent().remove(paragraph._element)


def _set_font(run, font: str, size: float, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = font
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:eastAsia", "w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attribute), font)


def _write_paragraph(paragraph, text: str, font: str, size: float, *, bold: bool = False,
                     indent: bool = False, align=None) -> None:
    for run in list(paragraph.runs):
        run._element.getparent().remove(run._element)
    if text:
        _set_font(paragraph.add_run(text), font, size, bold)
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    if align is not None:
        paragraph.alignment = align


def _write_cell(cell: _Cell, text: str, font: str, size: float, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    first, *rest = cell.paragraphs
    for extra in rest:
        _remove(extra)
    _write_paragraph(first, text, font, size, align=align)


def _value_cells(table: Table, row: int, count: int) -> list[_Cell]:
    return [_Cell(tc, table) for tc in table.rows[row]._tr.tc_lst[-count:]]


def _fill_t2(table: Table, content: ReportContent) -> None:
    rows = iter([values for block in content.t2 for _, values in block.rows])
    for row_index, row in enumerate(table.rows):
        tcs = row._tr.tc_lst
        label = _Cell(tcs[0], table).text.strip()
        if len(tcs) < 2 or label == "信息内容":
            continue
        values = next(rows)
        for cell, value in zip(_value_cells(table, row_index, len(values)), values, strict=True):
            cell.text = value


def _fill_t3(table: Table, content: ReportContent) -> None:
    for offset, row in enumerate(content.t3):
        for cell, value in zip(_value_cells(table, _T3_FIRST_DATA_ROW + offset, 7), row.values, strict=True):
            cell.text = value


def _fill_t4(table: Table, content: ReportContent) -> None:
    values = [v for group in content.t4 for v in group]
    for cell, value in zip(_value_cells(table, 3, 15), values, strict=True):
        cell.text = value


def _merge_other_rows(table: Table) -> None:
    """（六）其他处理 as one row: drop the 2nd and 3rd rows, merge the label across its two columns."""
    rows = table.rows
    for row in (rows[_T3_OTHER_ROW + 2], rows[_T3_OTHER_ROW + 1]):
        row._tr.getparent().remove(row._tr)
    tcs = table.rows[_T3_OTHER_ROW]._tr.tc_lst
    group_tc, label_tc = tcs[1], tcs[2]
    group_properties = group_tc.tcPr
    v_merge = None if group_properties is None else group_properties.find(qn("w:vMerge"))
    if group_properties is not None and v_merge is not None:
        group_properties.remove(v_merge)
    merged = _Cell(group_tc, table).merge(_Cell(label_tc, table))
    merged.text = "（六）其他处理"


def _restyle(table: Table, font: str, look: WordLook) -> None:
    """Every cell in the document's table font, size and padding."""
    for tc in table._tbl.iter(qn("w:tc")):
        cell = _Cell(tc, table)
        text = "\n".join(p.text for p in cell.paragraphs).replace("\u3000", "").strip()
        numeric = not text or text.lstrip("+-").replace(".", "").isdigit()
        _write_cell(cell, text, font, look.table_size, WD_ALIGN_PARAGRAPH.CENTER if numeric else None)
    margins = table._tbl.tblPr.find(qn("w:tblCellMar"))
    if margins is None:
        margins = OxmlElement("w:tblCellMar")
        table._tbl.tblPr.append(margins)
    for side in ("top", "left", "bottom", "right"):
        element = margins.find(qn(f"w:{side}"))
        if element is None:
            element = OxmlElement(f"w:{side}")
            margins.append(element)
        element.set(qn("w:w"), str(look.cell_margin[0] if side in ("left", "right") else look.cell_margin[1]))
        element.set(qn("w:type"), "dxa")


def _resize_t3(table: Table, look: WordLook) -> None:
    widths = [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.iter(qn("w:gridCol"))]
    if look.narrow_group:
        widths[0] = int(look.table_size * 20 + 2 * look.cell_margin[0] + 40)
    if look.narrow_values:
        for column in range(3, 10):
            widths[column] = int(look.table_size * 20 * 1.25 + 2 * look.cell_margin[0])  # two digits a line
    widths[2] = _GRID_DXA - sum(widths) + widths[2]
    for col, width in zip(table._tbl.tblGrid.iter(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(width))
    for tr in table._tbl.tr_lst:
        position = 0
        for tc in tr.tc_lst:
            span = tc.grid_span
            width = tc.get_or_add_tcPr().get_or_add_tcW()
            width.set(qn("w:w"), str(sum(widths[position:position + span])))
            width.set(qn("w:type"), "dxa")
            position += span


def _repeat_header_rows(table: Table, count: int) -> None:
    """Word's 标题行重复: the first rows print again on every page the table continues on."""
    for row in table.rows[:count]:
        properties = row._tr.get_or_add_trPr()
        header = OxmlElement("w:tblHeader")
        header.set(qn("w:val"), "true")
        properties.append(header)


def _page_numbers(document, font: str) -> None:
    """A centred "- N -" footer, as government documents print."""
    paragraph = document.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(paragraph.add_run("- "), font, 10.5)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    _set_font(paragraph.add_run(" -"), font, 10.5)
