"""PDF → rows. pypdfium2 reads every page's plain text fast; pdfplumber reads the
pages that hold tables cell by cell; pages without a usable text layer go to OCR.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pypdfium2 as pdfium

from extract.findings import Findings
from extract.model import Cell, Document, ReaderError, Row, finding
from extract.readers.lines import PAGE_NUMBER, split_line, word_cells, word_lines

log = logging.getLogger(__name__)
T = TypeVar("T")

# Words that only a page with one of the report's tables prints.
_TABLE_MARKERS = re.compile(
    r"信息内容|本年制发|处理决定|新制作数量|申请人情况|自然人|本年新收|予以公开|不予公开|无法提供|不予处理|"
    r"结转下年度|结果维持|结果\s*\n?\s*维持|复议后起诉|收费金额|上一年项目"
)
_COMMON = set(
    "政府信息公开工作年度报告的情况和一二三四五六七八九十年月日本区县市省局委办人民主动申请处理"
    "行政复议诉讼规章文件数量总计其他不予法律网站平台建设监督保障存在问题改进事项规范性有关要求"
    "加强推进落实制度管理进一步全面发展服务群众开展了在是为中国对以及将通过"
)
# The standard 14 fonts (and their common aliases), which pdfium carries itself.
_STANDARD_FONT = re.compile(r"^(?:[A-Z]{6}\+)?(?:Helvetica|Times|Courier|Symbol|ZapfDingbats|Arial)", re.IGNORECASE)
# Tables from pdfium's own objects (fast); pdfplumber only where that path gives up.
PDFIUM_TABLES = True
# An annual report runs to a few dozen pages; hundreds are a hostile or a wrong file.
MAX_PAGES = 200
_PLUMBER_SETTINGS: dict[str, Any] = {"vertical_strategy": "lines", "horizontal_strategy": "lines",
                                     "snap_tolerance": 3, "join_tolerance": 3, "intersection_tolerance": 3}


def read_pdf(data: bytes, *, ocr: bool = True) -> Document:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise ReaderError(Findings.ENCRYPTED, "文档已加密，无法读取", "the PDF is encrypted") from exc
        raise ReaderError(Findings.BROKEN_PDF, f"PDF 无法解析：{exc}", f"the PDF cannot be parsed: {exc}") from exc
    document = Document(reader="pdf-text", pages=len(pdf))
    try:
        if len(pdf) == 0:
            raise ReaderError(Findings.BROKEN_PDF, "PDF 没有页面", "the PDF has no pages")
        if len(pdf) > MAX_PAGES:
            raise ReaderError(Findings.TOO_MANY_PAGES, f"PDF 有 {len(pdf)} 页，超过 {MAX_PAGES} 页的上限，不是一份年度报告",
                              f"the PDF has {len(pdf)} pages, over the limit of {MAX_PAGES}")
        document.meta_title = _meta_title(pdf)
        plumber = _LazyPlumber(data)
        ocr_wanted: list[int] = []
        for index in range(len(pdf)):
            try:
                page = pdf[index]
                text, turned = _page_text(page)
            except pdfium.PdfiumError as exc:
                document.findings.append(finding(
                    Findings.BROKEN_PAGE, f"第 {index + 1} 页无法读取：{exc}", f"page {index + 1} cannot be read: {exc}"))
                continue
            if not usable_text(text):
                if _has_content(page, text):
                    ocr_wanted.append(index)
                    document.rows.append(Row([Cell(f"\x00ocr-page:{index}")], index + 1))
                page.close()
                continue
            if relies_on_host_fonts(page):
                reader = _LazyPlumber(_upright_page(pdf, page, index), first=index) if turned else plumber
                document.rows.extend(_font_free_rows(reader, index, text))
                reader.close()
            elif _TABLE_MARKERS.search(text):
                rows = _grid_rows(page, index + 1) if PDFIUM_TABLES else None
                if rows is None:
                    rows = plumber.page_rows(index)
                if rows is None:
                    rows = _text_rows(text, index + 1)
                document.rows.extend(rows)
            elif ocr and _large_pictures(page):
                document.rows.extend(_text_with_picture_tables(page, index + 1, document))
            else:
                document.rows.extend(_text_rows(text, index + 1))
            page.close()
        plumber.close()
        if ocr_wanted:
            _ocr_pages(pdf, ocr_wanted, document, enabled=ocr)
    finally:
        pdf.close()
    return document


def _ocr_pages(pdf: pdfium.PdfDocument, indexes: list[int], document: Document, *, enabled: bool) -> None:
    if not enabled:
        document.rows = [r for r in document.rows if not r.cells[0].text.startswith("\x00ocr-page:")]
        document.findings.append(finding(
            Findings.NEEDS_OCR, f"第 {', '.join(str(i + 1) for i in indexes)} 页没有可用的文字层，需要 OCR",
            f"pages {', '.join(str(i + 1) for i in indexes)} have no usable text layer and need OCR"))
        return
    from extract.readers.ocr import ocr_pdf_page

    by_page: dict[int, list[Row]] = {}
    for index in indexes:
        rows, confidence = ocr_pdf_page(pdf[index], index + 1)
        by_page[index] = rows
        document.ocr_pages.append(_ocr_page(index + 1, confidence))
    merged: list[Row] = []
    for row in document.rows:
        marker = row.cells[0].text if row.cells else ""
        if marker.startswith("\x00ocr-page:"):
            merged.extend(by_page.get(int(marker.split(":")[1]), []))
        else:
            merged.append(row)
    document.rows = merged
    document.reader = "pdf-ocr" if len(indexes) == len(pdf) else "pdf-text+ocr"


def _ocr_page(page: int, confidence: float) -> Any:
    from report.record import OcrPage

    return OcrPage(page=page, confidence=round(confidence, 4))


def _large_pictures(page: pdfium.PdfPage) -> bool:
    """Does the page carry a picture big enough to be a table (a pasted screenshot or scan)?"""
    import pypdfium2.raw as pdfium_c

    area = page.get_width() * page.get_height()
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) > 0.03 * area and (right - left) > 0.4 * page.get_width():
            return True
    return False


def _text_with_picture_tables(page: pdfium.PdfPage, number: int, document: Document) -> list[Row]:
    """A text page whose tables are pictures: the prose from the text layer, the tables by OCR."""
    from extract.readers.ocr import ocr_picture_tables
    from extract.readers.pdf_grid import placed_rows

    textpage = page.get_textpage()
    try:
        text_rows = placed_rows(page, textpage, number) or []
    finally:
        textpage.close()
    table_rows, confidence = ocr_picture_tables(page, number)
    if table_rows:
        document.ocr_pages.append(_ocr_page(number, confidence))
        document.reader = "pdf-text+ocr"
    placed = sorted(text_rows + table_rows, key=lambda item: item[0])
    return [row for _, row in placed]


def _grid_rows(page: pdfium.PdfPage, number: int) -> list[Row] | None:
    from extract.readers.pdf_grid import page_rows

    textpage = page.get_textpage()
    try:
        return page_rows(page, textpage, number)
    except Exception as exc:  # an odd drawing: pdfplumber gets its chance
        log.warning("pdfium table reading failed on page %s: %s", number, exc)
        return None
    finally:
        textpage.close()


def relies_on_host_fonts(page: pdfium.PdfPage) -> bool:
    """Is text on this page drawn in a font the PDF does not embed (beyond the standard 14)?

    pdfium then decodes and places those characters through the machine's own fonts: the same
    file reads differently on a machine without CJK fonts (figures of a non-embedded STSong-Light
    simply vanish). pdfminer decodes them from the PDF's CMaps alone, so such a page is read by
    pdfplumber, whatever the machine has installed."""
    import pypdfium2.raw as pdfium_c

    seen: set[int] = set()
    raw = page.raw
    for index in range(pdfium_c.FPDFPage_CountObjects(raw)):   # the raw calls: a page has thousands
        obj = pdfium_c.FPDFPage_GetObject(raw, index)
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_TEXT:
            continue
        font = pdfium_c.FPDFTextObj_GetFont(obj)
        handle = ctypes.cast(font, ctypes.c_void_p).value
        if not handle or handle in seen:
            continue
        seen.add(handle)
        if not pdfium_c.FPDFFont_GetIsEmbedded(font) and not _STANDARD_FONT.match(_base_font_name(font)):
            return True
    return False


def _base_font_name(font: Any) -> str:
    import pypdfium2.raw as pdfium_c

    size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    if size <= 0:
        return ""
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
    return buffer.value.decode("latin-1")


def _font_free_rows(plumber: _LazyPlumber, index: int, pdfium_text: str) -> list[Row]:
    """A page read by pdfplumber alone (relies_on_host_fonts): its tables cell by cell, else its lines."""
    text = plumber.page_text(index)
    if text is None:
        text = pdfium_text
    rows = plumber.page_rows(index) if _TABLE_MARKERS.search(text) else None
    return rows if rows is not None else _text_rows(text, index + 1)


def _page_text(page: pdfium.PdfPage) -> tuple[str, bool]:
    """The page's text, after turning a page whose text runs sideways upright (pdf_rotation),
    and whether it was turned (in memory only)."""
    from extract.readers.pdf_rotation import page_text

    rotation = page.get_rotation()
    text, turns = page_text(page)
    return text, bool(turns or rotation)


def _upright_page(pdf: pdfium.PdfDocument, page: pdfium.PdfPage, index: int) -> bytes:
    """A one-page PDF of the page as made upright in memory, for pdfplumber to read."""
    page.gen_content()
    single = pdfium.PdfDocument.new()
    try:
        single.import_pages(pdf, [index])
        buffer = io.BytesIO()
        single.save(buffer)
        return buffer.getvalue()
    finally:
        single.close()


def usable_text(text: str) -> bool:
    """Does this page's text layer say something readable (not (cid:N) glyph soup)?"""
    stripped = "".join(text.split())
    if len(stripped) < 10:
        return False
    bad = sum(1 for ch in stripped if ch == "\ufffd" or "\ue000" <= ch <= "\uf8ff" or ord(ch) < 32)
    if "(cid:" in stripped or bad > 0.1 * len(stripped):
        return False
    cjk = [ch for ch in stripped if "\u4e00" <= ch <= "\u9fff"]
    if len(cjk) >= 20:
        return sum(ch in _COMMON for ch in cjk) >= 0.15 * len(cjk)
    return len(cjk) > 0


def _has_content(page: pdfium.PdfPage, text: str) -> bool:
    if text.strip():
        return True
    return any(True for _ in page.get_objects(max_depth=1))


def _meta_title(pdf: pdfium.PdfDocument) -> str | None:
    try:
        title = pdf.get_metadata_dict().get("Title")
    except Exception:  # a damaged info dictionary is no reason to fail
        return None
    return title.strip() if title and title.strip() else None


def _text_rows(text: str, page: int) -> list[Row]:
    """Plain text lines (no positions): prose, or a text layer's table lines."""
    lines = [line for line in text.splitlines() if line.strip()]
    # pdfium gives the page's header and footer lines first and last.
    while lines and PAGE_NUMBER.match("".join(lines[0].split())):
        lines.pop(0)
    while lines and PAGE_NUMBER.match("".join(lines[-1].split())):
        lines.pop()
    return [Row([Cell(part) for part in split_line(line)], page) for line in lines]


class _LazyPlumber:
    """pdfplumber opened only if a page needs cell-by-cell reading."""

    def __init__(self, data: bytes, *, first: int = 0) -> None:
        self._data = data
        self._first = first   # the document's page index of the data's first page
        self._pdf: Any = None

    def page_rows(self, index: int) -> list[Row] | None:
        return self._read(index, lambda page: list(_plumber_rows(page, index + 1)))

    def page_text(self, index: int) -> str | None:
        return self._read(index, lambda page: page.extract_text() or "")

    def _read(self, index: int, read: Callable[[Any], T]) -> T | None:
        try:
            if self._pdf is None:
                import pdfplumber

                self._pdf = pdfplumber.open(io.BytesIO(self._data))
            page = self._pdf.pages[index - self._first]
            result = read(page)
            page.close()
            return result
        except Exception as exc:  # pdfminer trips over some files pdfium reads fine
            log.warning("pdfplumber failed on page %s: %s", index + 1, exc)
            return None

    def close(self) -> None:
        if self._pdf is not None:
            with contextlib.suppress(Exception):  # pdfminer may still trip over a damaged file here
                self._pdf.close()


def _plumber_rows(page: Any, number: int) -> Iterator[Row]:
    tables = page.find_tables(_PLUMBER_SETTINGS)
    placed: list[tuple[float, Row]] = []
    boxes = []
    for table in tables:
        if all(sum(1 for bbox in row.cells if bbox is not None) <= 1 for row in table.rows):
            continue  # a framed text box, not a table: its lines are read as lines
        boxes.append(table.bbox)
        number_on_page = len(boxes)
        for row_cells, texts in zip(table.rows, table.extract(), strict=False):
            cells = [Cell(text or "", float(bbox[0]), float(bbox[2]), y0=float(bbox[1]), y1=float(bbox[3]))
                     for bbox, text in zip(row_cells.cells, texts, strict=False) if bbox is not None]
            if cells:
                placed.append((row_cells.bbox[1], Row(cells, number, "pdf", gridded=True, table=number_on_page)))
    words = [w for w in page.extract_words(x_tolerance=1.5, y_tolerance=2, use_text_flow=False)
             if not any(b[0] - 1 <= (w["x0"] + w["x1"]) / 2 <= b[2] + 1 and b[1] - 1 <= (w["top"] + w["bottom"]) / 2 <= b[3] + 1
                        for b in boxes)]
    margin = 0.07 * float(page.height)
    for top, line_words in word_lines(words):
        cells = word_cells(line_words)
        text = "".join(c.text for c in cells)
        if PAGE_NUMBER.match(text) and (top < margin or top > float(page.height) - margin):
            continue  # a page number in the header or footer margin
        placed.append((top, Row(cells, number, "pdf")))
    placed.sort(key=lambda item: item[0])
    for _, row in placed:
        yield row
