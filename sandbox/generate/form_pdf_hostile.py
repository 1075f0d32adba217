"""Hostile PDFs: what a crawler gets when it follows a link to a report PDF and the file is not one.

Each truth has `form == "hostile"`, `kind == "broken"`, no record, and names the finding
the extractor must answer with (`expected_finding`); the portal publishes it on `site`
under a report title. Year is in the name (hostile entries carry no year of their own).

| name | what | expected_finding |
|---|---|---|
| qiaokou-health-2022-empty-pdf | zero bytes named .pdf | empty-file |
| guangdong-2023-truncated-pdf | a report PDF cut off at 55 %: no xref, no trailer, no %%EOF | broken-pdf |
| changchun-health-2022-encrypted-pdf | a complete report, RC4-128 encrypted with a user password | encrypted |
| yw-ershisanli-2023-bomb-pdf | 1 page whose content stream, Flate inside Flate, inflates to 2 GiB of spaces from a file of a few KB | extract-oom (broken-pdf acceptable) |
| huaian-2023-500-pages-pdf | 500 pages, each drawing one shared form XObject (a 表三 page) | too-many-pages |
| mingshan-health-2024-maintenance-pdf | an HTML "系统维护中" page served as application/pdf | not-a-report |

The 500-page PDF is refused rather than read: a report never runs to 500 pages, and
reading one costs minutes of table parsing; the extractor should stop at a page limit
(finding `too-many-pages`) before parsing any page.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from sandbox.agencies import Publication, agency, publications
from sandbox.corpus import Truth
from sandbox.generate.pdf_common import PDF_MEDIA_TYPE, content_for, save_truth
from sandbox.generate.pdf_reportlab_layout import LayoutStyle, register_font, write_pdf

USER_PASSWORD = "hz2023"
BOMB_INFLATED_BYTES = 2 * 1024**3
BOMB_CHUNK = 16 * 1024**2
MANY_PAGES = 500
TRUNCATE_AT = 0.55

MAINTENANCE_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>系统维护中</title>
<style>body{font-family:"Microsoft YaHei",sans-serif;background:#f5f5f5;text-align:center;padding-top:100px}
.box{display:inline-block;background:#fff;border:1px solid #ddd;padding:40px 60px}</style></head>
<body><div class="box"><h2>系统维护中</h2>
<p>为提供更优质的服务，本站正在进行系统升级维护，预计于今日18:00恢复访问。</p>
<p>给您带来的不便，敬请谅解！</p><p><a href="/">返回首页</a></p></div></body></html>
"""


def build(out_dir: Path) -> list[Truth]:
    return [
        _hostile(out_dir, "qiaokou-health", 2022, "empty-pdf", b"", "empty-file", "zero bytes named .pdf"),
        _hostile(out_dir, "guangdong", 2023, "truncated-pdf", truncated_report(), "broken-pdf",
                 f"the reportlab PDF of a report cut off at {TRUNCATE_AT:.0%} of its bytes: "
                 "mid content stream, no xref, no trailer, no %%EOF; pdfium refuses it"),
        _hostile(out_dir, "changchun-health", 2022, "encrypted-pdf", encrypted_report(), "encrypted",
                 f"a complete report PDF encrypted (RC4 128-bit) with user password {USER_PASSWORD!r}; "
                 "without it nothing can be read", password=USER_PASSWORD),
        _hostile(out_dir, "yw-ershisanli", 2023, "bomb-pdf", decompression_bomb(), "extract-oom",
                 f"one page whose content stream is /FlateDecode twice over and inflates to "
                 f"{BOMB_INFLATED_BYTES} bytes of spaces; the extractor must bound memory "
                 "(extract-oom), or refuse the stream (broken-pdf)",
                 acceptable_findings=["extract-oom", "broken-pdf"], inflated_bytes=BOMB_INFLATED_BYTES),
        _hostile(out_dir, "huaian", 2023, "500-pages-pdf", many_pages(), "too-many-pages",
                 f"{MANY_PAGES} pages, each drawing the same form XObject (a 表三 page of a real layout); "
                 "the extractor must refuse it at a page limit before parsing pages", pages=MANY_PAGES),
        _hostile(out_dir, "mingshan-health", 2024, "maintenance-pdf", MAINTENANCE_PAGE.encode(), "not-a-report",
                 "an HTML 系统维护中 page served as application/pdf under a report link"),
    ]


def _hostile(out_dir: Path, slug: str, year: int, what: str, data: bytes, finding: str, notes: str,
             **extra: object) -> Truth:
    who = agency(slug)
    name = f"{slug}-{year}-{what}"
    file = f"{name}.pdf"
    (out_dir / file).write_bytes(data)
    truth = Truth(name=name, file=file, form="hostile", kind="broken", media_type=PDF_MEDIA_TYPE,
                  agency=who.name, level=who.level, agency_kind=who.kind, region_code=who.region_code,
                  expected_finding=finding, reviewed=True, notes=notes, site=slug).model_copy(update=extra)
    save_truth(out_dir, truth)
    return truth


def _publication(slug: str, year: int) -> Publication:
    return next(p for p in publications() if p.slug == slug and p.year == year)


def _report_bytes(publication: Publication, style: LayoutStyle) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="nianbao-hostile-") as work:
        path = Path(work) / "report.pdf"
        write_pdf(path, content_for(publication), style)
        return path.read_bytes()


def truncated_report() -> bytes:
    data = _report_bytes(_publication("guangdong", 2023), LayoutStyle("grid", "stsong", 10.5))
    return data[: int(len(data) * TRUNCATE_AT)]


def encrypted_report() -> bytes:
    """The report's pages drawn again onto an encrypted canvas (reportlab encrypts whole documents)."""
    content = content_for(_publication("changchun-health", 2022))
    font, _ = register_font("stsong")
    encryption = StandardEncryption(USER_PASSWORD, ownerPassword="owner-" + USER_PASSWORD, strength=128)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, encrypt=encryption)
    pdf.setTitle(content.title)
    y = A4[1] - 72
    pdf.setFont(font, 16)
    pdf.drawCentredString(A4[0] / 2, y, content.title)
    pdf.setFont(font, 11)
    for line in [content.intro, *(f"{heading} {prose}" for heading, prose in content.sections)]:
        y -= 24
        pdf.drawString(60, y, line[:40])
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def decompression_bomb() -> bytes:
    """A one-page PDF whose only content stream is zlib(zlib(2 GiB of spaces))."""
    inner = zlib.compressobj(9)
    chunk = b" " * BOMB_CHUNK
    layer = b"".join(inner.compress(chunk) for _ in range(BOMB_INFLATED_BYTES // BOMB_CHUNK)) + inner.flush()
    stream = zlib.compress(layer, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return _raw_pdf(objects)


def _raw_pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def many_pages() -> bytes:
    """MANY_PAGES pages sharing one form XObject, so the file stays small."""
    content = content_for(_publication("huaian", 2023))
    font, _ = register_font("stsong")
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(content.title)
    pdf.beginForm("t3page")
    pdf.setFont(font, 9)
    y = A4[1] - 60
    pdf.drawString(50, y, "三、收到和处理政府信息公开申请情况  申请人情况  自然人  商业企业  科研机构  总计")
    for row in content.t3:
        y -= 22
        pdf.drawString(50, y, (row.label or row.subgroup or row.group)[:24])
        for column, value in enumerate(row.values):
            pdf.drawRightString(330 + column * 34, y, value)
        pdf.line(48, y - 6, 550, y - 6)
    pdf.endForm()
    for number in range(MANY_PAGES):
        pdf.doForm("t3page")
        pdf.drawCentredString(A4[0] / 2, 30, f"- {number + 1} -")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
