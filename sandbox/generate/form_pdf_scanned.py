"""Scanned reports (`scanned-pdf`): printed, scanned, and published as page images only.

Each report is laid out (by reportlab, or by the Word template through LibreOffice),
rendered with pypdfium2 at 150–200 dpi, then "scanned": turned by up to 1.5°, given
an uneven background, sensor noise and a slight blur, and JPEG-compressed. The
pages are wrapped in a PDF with no text layer at all — only OCR can read them.
Reproducible: the noise is seeded and the PDF written with reportlab `invariant=1`
(the Word-laid-out pages come from LibreOffice, whose rendering is stable).
"""

from __future__ import annotations

import io
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pypdfium2
from PIL import Image, ImageFilter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from sandbox.agencies import Publication, publications
from sandbox.corpus import Truth
from sandbox.generate.pdf_common import ReportContent, content_for, rng_for, save_truth, write_truth
from sandbox.generate.pdf_ocr_check import misread_numbers, number_boxes
from sandbox.generate.pdf_reportlab_layout import LayoutStyle, write_pdf

POINTS_PER_INCH = 72
MAX_TURN = 1.5  # degrees


@dataclass(frozen=True)
class Scan:
    """How one report was laid out and scanned."""

    layout: str            # reportlab | word
    dpi: int
    angle: float           # degrees, ≤ 1.5 either way
    noise: float           # standard deviation of the grey-level noise
    quality: int           # JPEG quality
    grey: bool
    style: LayoutStyle = LayoutStyle()

    def describe(self) -> str:
        return (f"scanned: {self.layout} layout rendered at {self.dpi} dpi, turned {self.angle:+.2f}°, "
                f"noise σ={self.noise}, JPEG q{self.quality}, {'grey' if self.grey else 'colour'}; no text layer")


SCANS: dict[tuple[str, int], Scan] = {
    ("jlp-erlang", 2021): Scan("reportlab", 170, 0.8, 6.0, 55, True, LayoutStyle("grid", "stsong", 11)),
    ("weishan-liangcheng", 2021): Scan("word", 190, -1.2, 4.0, 50, True),
    ("lueyang-land", 2023): Scan("reportlab", 200, -0.5, 4.0, 50, False,
                                 LayoutStyle("grid", "zenhei", 10.5, split_rows=True)),
    ("mingshan-health", 2022): Scan("word", 180, 1.4, 6.0, 50, True),
}
# Documents whose pages were checked by eye, and one page of which rapidocr read in full.
REVIEWED: frozenset[str] = frozenset({
    "jlp-erlang-2021-scanned-pdf", "weishan-liangcheng-2021-scanned-pdf", "lueyang-land-2023-scanned-pdf",
    "mingshan-health-2022-scanned-pdf",
})


def build(out_dir: Path) -> list[Truth]:
    truths = []
    with tempfile.TemporaryDirectory(prefix="nianbao-scan-") as work:
        for publication in publications("scanned-pdf"):
            truths.append(build_scanned(out_dir, publication, Path(work)))
    return truths


def scan_for(publication: Publication) -> Scan:
    return SCANS.get((publication.slug, publication.year), Scan("reportlab", 150, 0.5, 5.0, 60, True))


def build_scanned(out_dir: Path, publication: Publication, work: Path) -> Truth:
    scan = scan_for(publication)
    content = content_for(publication, thousands=scan.layout == "word" and _word_look(publication).thousands)
    clean = work / f"{publication.name}.clean.pdf"
    notes = [scan.describe()]
    if scan.layout == "word":
        notes.append(_word_layout(content, publication, clean))
    else:
        notes.append(scan.style.describe() + "; " + write_pdf(clean, content, scan.style))
    rng = np.random.default_rng(rng_for(publication, "scan").randrange(2**32))
    angles = [round(max(-MAX_TURN, min(MAX_TURN, scan.angle + float(rng.uniform(-0.15, 0.15)))), 3)
              for _ in range(_page_count(clean))]
    pages = [_scan_page(image, angle, scan, rng) for image, angle in zip(_render(clean, scan.dpi), angles, strict=True)]
    file = f"{publication.name}.pdf"
    _wrap_images(out_dir / file, pages, scan.dpi, content.title)
    misread = misread_numbers(out_dir / file, number_boxes(clean, scan.dpi, angles))
    if misread:
        raise RuntimeError(f"{publication.name}: rapidocr misreads {misread[:5]}… — make the scan more legible")
    notes.append("every printed number read back correctly by rapidocr from its cell crop")
    truth = write_truth(out_dir, publication, content, form="scanned-pdf", file=file, notes=notes,
                        reviewed=publication.name in REVIEWED)
    truth.scan = {"dpi": scan.dpi, "angles": angles, "layout": scan.layout}  # type: ignore[attr-defined]
    save_truth(out_dir, truth)
    return truth


def _page_count(pdf: Path) -> int:
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return len(document)
    finally:
        document.close()


def _word_look(publication: Publication):
    from sandbox.generate import form_pdf_word as word

    return replace(word.look_for(publication), table_size=11)  # printed large enough to survive the scan


def _word_layout(content: ReportContent, publication: Publication, target: Path) -> str:
    from sandbox.generate import form_pdf_word as word

    if shutil.which("soffice") is None:
        raise SystemExit("form_pdf_scanned needs LibreOffice (soffice) for its Word-laid-out scans")
    look = _word_look(publication)
    document = word.fill_template(content, look, publication, rng_for(publication, "docx"))
    source = target.with_suffix(".docx")
    document.save(str(source))
    word.convert([source], target.parent)
    source.with_suffix(".pdf").replace(target)
    return look.describe()


def _render(pdf: Path, dpi: int) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return [document[i].render(scale=dpi / POINTS_PER_INCH).to_pil().convert("RGB") for i in range(len(document))]
    finally:
        document.close()


def _scan_page(image: Image.Image, angle: float, scan: Scan, rng: np.random.Generator) -> bytes:
    page = image.convert("L") if scan.grey else image
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False,
                       fillcolor=255 if scan.grey else (255, 255, 255))
    page = page.filter(ImageFilter.GaussianBlur(radius=0.35))
    pixels = np.asarray(page, dtype=np.float32)
    pixels = 255 - (255 - pixels) * 1.35  # toner prints darker than the screen rendering
    height, width = pixels.shape[:2]
    # Paper that is not quite white, darker towards one edge, as a flatbed scan.
    shade = np.linspace(0, float(rng.uniform(12, 30)), width, dtype=np.float32)[None, :]
    shade = shade if pixels.ndim == 2 else shade[..., None]
    pixels = pixels - 8 - shade + rng.normal(0, scan.noise, pixels.shape).astype(np.float32)
    page = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    page.save(buffer, format="JPEG", quality=scan.quality, optimize=True)
    return buffer.getvalue()


def _wrap_images(path: Path, pages: list[bytes], dpi: int, title: str) -> None:
    """One image per page, no text; page size from the image size at its dpi."""
    pdf = canvas.Canvas(str(path), invariant=1, pageCompression=1)
    pdf.setTitle("")  # scanners write no title; keep the real one out of the metadata
    for data in pages:
        reader = ImageReader(io.BytesIO(data))
        width, height = reader.getSize()
        size = (width * POINTS_PER_INCH / dpi, height * POINTS_PER_INCH / dpi)
        pdf.setPageSize(size)
        pdf.drawImage(reader, 0, 0, *size)
        pdf.showPage()
    pdf.setCreator("Scanner")
    pdf.setProducer("Scanner")
    pdf.save()
