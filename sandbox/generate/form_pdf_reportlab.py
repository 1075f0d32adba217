"""reportlab-made report PDFs (`reportlab-pdf`) and the one whose text cannot be read (`cid-pdf`).

Each reportlab-pdf gets its own look (see `STYLES`): full grid, no ruling lines at
all, horizontal rules only, 三线表, 表三 on a landscape page, numbers wrapping in
narrow cells, 表三 rows broken over a page, simulated bold (text drawn twice), a
diagonal watermark in the text layer, labels spaced out (规　　章), the tables pasted
as pictures under real prose; fonts are the non-embedded CID font
STSong-Light or embedded TrueType subsets of AR PL UMing/UKai and WenQuanYi Zen Hei,
pinned in the repository (sandbox.generate.fonts), so no host font is ever used.
2020 reports use the 2019 format; some print 政府集中采购 采购总金额 in 元.

The cid-pdf embeds a TrueType subset whose ToUnicode CMap is empty, so text
extraction yields `(cid:N)` or code garbage while the page renders normally:
only OCR can read it.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from reportlab.pdfbase import ttfonts

from sandbox.agencies import Publication, publications
from sandbox.corpus import Truth
from sandbox.generate.pdf_common import content_for, write_truth
from sandbox.generate.pdf_reportlab_layout import LayoutStyle, write_pdf

# One look per planned document: (slug, year) → (style, 采购总金额 printed in 元).
STYLES: dict[tuple[str, int], tuple[LayoutStyle, bool]] = {
    ("hongze", 2020): (LayoutStyle("grid", "uming", 10.5, split_rows=True), True),
    ("huaian", 2020): (LayoutStyle("none", "stsong", 10.5, vertical_group=False, spaced_labels=True), False),
    ("guangdong", 2020): (LayoutStyle("three-line", "zenhei", 10, vertical_group=False, t3_new_page=True), True),
    ("changchun-health", 2020): (LayoutStyle("horizontal", "ukai", 11, narrow_numbers=True), False),
    ("chanhe-industry", 2021): (LayoutStyle("grid", "stsong", 12, narrow_numbers=True, split_rows=True), False),
    ("jlp-erlang", 2023): (LayoutStyle("none", "uming", 10.5, fake_bold=True), False),
    ("weishan-liangcheng", 2022): (LayoutStyle("grid", "uming", 10.5, vertical_group=False,
                                               tables_as_images=True), False),
    ("lg-health", 2024): (LayoutStyle("horizontal", "zenhei", 10.5, split_rows=True, watermark="政务公开"), False),
    ("chanhe-industry", 2024): (LayoutStyle("grid", "ukai", 12, narrow_numbers=True, spaced_labels=True,
                                            fake_bold=True), False),
    ("changchun-health", 2023): (LayoutStyle("grid", "uming", 10.5, landscape_t3=True), False),
}
CID_STYLE = LayoutStyle("grid", "uming-opaque", 10.5, split_rows=True)

# Documents whose rendered pages were checked by eye (pypdfium2 → PNG).
REVIEWED: frozenset[str] = frozenset({
    "changchun-health-2020-reportlab-pdf", "changchun-health-2023-reportlab-pdf-landscape",
    "chanhe-industry-2021-reportlab-pdf", "chanhe-industry-2022-cid-pdf",
    "chanhe-industry-2024-reportlab-pdf", "guangdong-2020-reportlab-pdf",
    "hongze-2020-reportlab-pdf", "huaian-2020-reportlab-pdf", "jlp-erlang-2023-reportlab-pdf",
    "lg-health-2024-reportlab-pdf", "weishan-liangcheng-2022-reportlab-pdf",
})


def build(out_dir: Path) -> list[Truth]:
    # The cid-pdf first: a TrueType font used earlier in the process leaks readable codes into it.
    truths = [build_cid(out_dir, publication) for publication in publications("cid-pdf")]
    truths += [build_reportlab(out_dir, publication) for publication in publications("reportlab-pdf")]
    return truths


def style_for(publication: Publication) -> tuple[LayoutStyle, bool]:
    return STYLES.get((publication.slug, publication.year), (LayoutStyle(), False))


def build_reportlab(out_dir: Path, publication: Publication) -> Truth:
    style, in_yuan = style_for(publication)
    content = content_for(publication, amount_in_yuan=in_yuan)
    file = f"{publication.name}.pdf"
    font_note = write_pdf(out_dir / file, content, style)
    notes = [style.describe(), font_note]
    if style.tables_as_images:
        notes.append("the three tables are PNG pictures at 200 dpi (no text): only OCR reads the figures; "
                     "every number was read back by rapidocr from its cell crop")
    return write_truth(out_dir, publication, content, form="reportlab-pdf", file=file,
                       notes=notes, reviewed=publication.name in REVIEWED)


def build_cid(out_dir: Path, publication: Publication) -> Truth:
    content = content_for(publication)
    file = f"{publication.name}.pdf"
    with unreadable_text():
        font_note = write_pdf(out_dir / file, content, CID_STYLE)
    note = ("text layer unreadable: embedded TrueType subset with an empty ToUnicode CMap, "
            "pdfplumber gives (cid:N), pypdfium2 gives code garbage; needs OCR")
    return write_truth(out_dir, publication, content, form="cid-pdf", file=file,
                       notes=[CID_STYLE.describe(), font_note, note], reviewed=publication.name in REVIEWED)


_EMPTY_CMAP = """/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<00> <FF>
endcodespacerange
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""


@contextmanager
def unreadable_text():
    """While active, embedded TrueType subsets get a ToUnicode CMap that maps nothing."""
    with mock.patch.object(ttfonts, "makeToUnicodeCMap", lambda fontname, subset: _EMPTY_CMAP):
        yield
