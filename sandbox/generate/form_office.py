"""Word and Excel attachments: the plan's docx and xlsx reports, plus one legacy .doc and
one .xls converted from them with LibreOffice.

The legacy files are only regenerated when `soffice` is on the PATH (their bytes are
committed; LibreOffice is never needed by the tests). The .doc's truth says
`expected_finding: needs-libreoffice`: an extractor without LibreOffice must say so
rather than guess; with LibreOffice it must extract the record.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from report.record import ReportRecord
from sandbox.agencies import Publication, agency, publications
from sandbox.corpus import Truth
from sandbox.generate.html_render import intro_text
from sandbox.generate.html_truth import MEDIA_TYPES, printed_record, report_truth, write_truth
from sandbox.generate.office_docx import DocxStyle, write_docx
from sandbox.generate.office_xlsx import XlsxStyle, write_xlsx

DOCX_STYLES = {
    "qiaokou-health-2022-docx": DocxStyle(),
    "yw-ershisanli-2022-docx": DocxStyle(t2_blocks=True, captions=True, t3_split_at=17),
    "weishan-liangcheng-2024-docx": DocxStyle(vertical_groups=True, tracked_changes=True),
    "chanhe-industry-2020-docx": DocxStyle(t2_blocks=True, vertical_groups=True, body_font="宋体"),
    "changchun-health-2022-docx": DocxStyle(nested=True),
    "mingshan-health-2020-docx": DocxStyle(captions=True, repeat_header=False),
    "mingshan-health-2024-docx": DocxStyle(vertical_groups=True, t2_blocks=True, heading_font="楷体_GB2312",
                                           content_control=True),
}
XLSX_STYLES = {
    "yw-ershisanli-2023-xlsx": XlsxStyle(),
    "lueyang-land-2022-xlsx": XlsxStyle(layout="one-sheet", numbers="text", sheet_names=("年度报告",)),
    "mingshan-health-2021-xlsx": XlsxStyle(numbers="float", sheet_names=("Sheet1", "Sheet2", "Sheet3", "Sheet4")),
}
# Legacy formats: (slug, year, form) → the source style; the agency-year also has a planned document,
# so the figures are the same (the site offers the report twice, as sites do).
LEGACY: dict[tuple[str, int, str], DocxStyle | XlsxStyle] = {
    ("qiaokou-health", 2023, "doc"): DocxStyle(t2_blocks=True),
    ("lg-health", 2023, "xls"): XlsxStyle(sheet_names=("封面", "表二", "表三", "表四"), formulas=True),
}


def _write_docx(publication: Publication, path: Path, style: DocxStyle) -> ReportRecord:
    record = printed_record(publication)
    write_docx(path, record, style, agency(publication.slug).name, publication.published, intro_text(record))
    return record


def _write_xlsx(publication: Publication, path: Path, style: XlsxStyle) -> ReportRecord:
    record = printed_record(publication)
    write_xlsx(path, record, style, agency(publication.slug).name, publication.published)
    return record


def legacy_publication(slug: str, year: int, form: str) -> Publication:
    planned = next(p for p in publications() if p.slug == slug and p.year == year)
    return Publication(slug, year, form, "clean", planned.published)


def convert(source: Path, target_ext: str, out_dir: Path) -> Path:
    """LibreOffice headless conversion with a private profile (other soffice runs may be active)."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        target_ext, "--outdir", str(out_dir), str(source)],
                       check=True, capture_output=True, timeout=180)
    return out_dir / f"{source.stem}.{target_ext}"


def _legacy(out_dir: Path) -> list[Truth]:
    truths = []
    have_soffice = shutil.which("soffice") is not None
    for (slug, year, form), style in LEGACY.items():
        publication = legacy_publication(slug, year, form)
        target = out_dir / f"{publication.name}.{form}"
        if have_soffice:
            with tempfile.TemporaryDirectory() as work:
                source = Path(work) / f"{publication.name}.{'docx' if form == 'doc' else 'xlsx'}"
                if isinstance(style, DocxStyle):
                    _write_docx(publication, source, style)
                else:
                    _write_xlsx(publication, source, style)
                shutil.move(convert(source, form, Path(work)), target)
        elif not target.exists():
            print(f"form_office: soffice not found, {target.name} not generated", file=sys.stderr)
            continue
        notes = f"converted by LibreOffice from {style.describe()}; the same figures as the agency's planned {year} document"
        truth = report_truth(publication, target.name, MEDIA_TYPES[form], notes, printed_record(publication))
        if form == "doc":
            truth = truth.model_copy(update={"expected_finding": "needs-libreoffice", "needs": "libreoffice",
                                             "notes": notes + "; without LibreOffice the extractor must report "
                                                              "needs-libreoffice, with it the record"})
        truths.append(write_truth(out_dir, truth))
    return truths


def build(out_dir: Path) -> list[Truth]:
    truths = []
    for publication in publications("docx"):
        file = f"{publication.name}.docx"
        style = DOCX_STYLES[publication.name]
        record = _write_docx(publication, out_dir / file, style)
        truths.append(write_truth(out_dir, report_truth(publication, file, MEDIA_TYPES["docx"], style.describe(),
                                                        record)))
    for publication in publications("xlsx"):
        file = f"{publication.name}.xlsx"
        xlsx_style = XLSX_STYLES[publication.name]
        record = _write_xlsx(publication, out_dir / file, xlsx_style)
        truths.append(write_truth(out_dir, report_truth(publication, file, MEDIA_TYPES["xlsx"],
                                                        xlsx_style.describe(), record)))
    return truths + _legacy(out_dir)
