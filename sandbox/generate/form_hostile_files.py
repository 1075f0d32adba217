"""Hostile non-PDF files: what a crawler really gets besides reports. Each truth names the
finding the extractor must answer with (`expected_finding`) and never a record.

| name | what | expected_finding |
|---|---|---|
| lueyang-land-2024-empty | zero bytes named .html | empty-file |
| jlp-erlang-2024-report-404 | an HTML 404 page named .pdf (served as application/pdf) | not-a-report |
| weishan-liangcheng-2023-broken | a DOCX cut off mid-archive | broken-docx |
| huaian-2024-xxe | a complete report DOCX whose document.xml declares an external entity (file:///etc/passwd) | unsafe-xml |
| lg-health-2024-challenge | a WAF JavaScript challenge page served with status 200 | challenge-page |
| changchun-health-2023-cover | an image-only PNG attachment (the cover page) | needs-ocr (no-tables with OCR) |

The XXE file: the extractor must not resolve the entity. Refusing a DTD is the expected
answer (`unsafe-xml`); an extractor that drops the DTD and reads on must still never
print the entity's target (`forbidden_text`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from sandbox.agencies import Publication, agency
from sandbox.corpus import Truth
from sandbox.generate.fonts import pinned_font
from sandbox.generate.html_render import intro_text
from sandbox.generate.html_truth import MEDIA_TYPES, other_truth, printed_record, write_truth
from sandbox.generate.office_docx import DocxStyle, write_docx
from sandbox.generate.office_zip import FIXED_ZIP_TIME

XXE_DOCTYPE = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'

NOT_FOUND_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>404 页面不存在</title>
<style>body{font-family:"Microsoft YaHei";text-align:center;padding-top:120px;color:#666}</style></head>
<body><h1>404</h1><p>抱歉，您访问的页面不存在或已被删除！</p>
<p><a href="/">返回首页</a>　<span id="sec">5</span>秒后自动跳转</p>
<script>var s=5;setInterval(function(){if(--s<=0){location.href='/';}document.getElementById('sec').innerHTML=s;},1000);</script>
</body></html>
"""

CHALLENGE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta id="9DhefwqGPrzGxEp9hPaoag" content="WxTFpc8r3pQ9hH0sV2lqE5uN7kMa4YbRz1.Jt6Dw">
<title></title>
<script type="text/javascript" r="m">$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=61735;$_ts.cd="qrcArrAlrGVqcqAq";
$_ts.lcd=function(){return document.cookie.indexOf('FSSBBIl1UgzbN7N80S')>-1};</script>
<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/c.FxJzG50F.b1f3a8e.js" r="m"></script>
</head>
<body>
<noscript><p>请开启浏览器的JavaScript功能并刷新本页面，以完成安全验证后继续访问。</p></noscript>
<div id="verify" style="display:none">安全验证中，请稍候……</div>
</body></html>
"""


def _empty(out_dir: Path, name: str) -> str:
    (out_dir / f"{name}.html").write_bytes(b"")
    return f"{name}.html"


def _not_found_as_pdf(out_dir: Path, name: str) -> str:
    (out_dir / f"{name}.pdf").write_text(NOT_FOUND_PAGE, encoding="utf-8")
    return f"{name}.pdf"


def _report_docx(path: Path, slug: str, year: int) -> None:
    publication = Publication(slug, year, "docx")
    record = printed_record(publication)
    write_docx(path, record, DocxStyle(), agency(slug).name, f"{year + 1}-03-20", intro_text(record))


def _broken_docx(out_dir: Path, name: str) -> str:
    path = out_dir / f"{name}.docx"
    _report_docx(path, "weishan-liangcheng", 2023)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 5])  # the central directory is gone, the first entries remain
    return path.name


def _xxe_docx(out_dir: Path, name: str) -> str:
    path = out_dir / f"{name}.docx"
    _report_docx(path, "huaian", 2024)
    with zipfile.ZipFile(path) as archive:
        entries = [(info.filename, archive.read(info.filename)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry_name, data in entries:
            if entry_name == "word/document.xml":
                declaration_end = data.index(b"?>") + 2
                data = data[:declaration_end] + b"\n" + XXE_DOCTYPE + data[declaration_end:]
                data = data.replace("一、总体情况".encode(), "一、总体情况&xxe;".encode(), 1)
            info = zipfile.ZipInfo(entry_name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path.name


def _challenge(out_dir: Path, name: str) -> str:
    (out_dir / f"{name}.html").write_text(CHALLENGE_PAGE, encoding="utf-8")
    return f"{name}.html"


def _cjk_font(size: int) -> ImageFont.FreeTypeFont:
    """The pinned WenQuanYi Zen Hei (sandbox.generate.fonts), never a host font."""
    return ImageFont.truetype(str(pinned_font("WenQuanYi Zen Hei")), size, index=0)


def _cover_png(out_dir: Path, name: str) -> str:
    who = agency("changchun-health")
    image = Image.new("L", (620, 877), 255)
    draw = ImageDraw.Draw(image)
    for line, text in enumerate((who.name, "2023年政府信息公开工作年度报告")):
        draw.text((310, 300 + line * 60), text, fill=0, font=_cjk_font(30), anchor="mm")
    draw.text((310, 700), "2024年1月", fill=0, font=_cjk_font(22), anchor="mm")
    path = out_dir / f"{name}.png"
    image.save(path, optimize=True)
    return path.name


# name → (writer, site, media type, expected finding, notes, extra truth keys)
HOSTILE: dict[str, tuple[Callable[[Path, str], str], str, str, str, str, dict[str, object]]] = {
    "lueyang-land-2024-empty": (_empty, "lueyang-land", MEDIA_TYPES["html"], "empty-file",
                                "zero bytes named .html", {}),
    "jlp-erlang-2024-report-404": (_not_found_as_pdf, "jlp-erlang", "application/pdf", "not-a-report",
                                   "an HTML 404 page named .pdf; serve it as application/pdf",
                                   {"actual_type": "text/html"}),
    "weishan-liangcheng-2023-broken": (_broken_docx, "weishan-liangcheng", MEDIA_TYPES["docx"], "broken-docx",
                                       "a report DOCX cut to 40% of its bytes: no central directory", {}),
    "huaian-2024-xxe": (_xxe_docx, "huaian", MEDIA_TYPES["docx"], "unsafe-xml",
                        "a complete report DOCX whose word/document.xml declares <!ENTITY xxe SYSTEM "
                        "\"file:///etc/passwd\"> and uses &xxe; after 一、总体情况; the extractor must refuse it "
                        "(unsafe-xml) and never resolve the entity",
                        {"forbidden_text": "root:"}),
    "lg-health-2024-challenge": (_challenge, "lg-health", MEDIA_TYPES["html"], "challenge-page",
                                 "a WAF JavaScript challenge page (瑞数-style $_ts script) served with status 200",
                                 {"status": 200}),
    "changchun-health-2023-cover": (_cover_png, "changchun-health", MEDIA_TYPES["png"], "needs-ocr",
                                    "an image-only PNG attachment: the report's cover page, no tables; without OCR "
                                    "the extractor answers needs-ocr, with OCR it reads the title and finds no tables",
                                    {"expected_finding_with_ocr": "no-tables"}),
}


def build(out_dir: Path) -> list[Truth]:
    truths = []
    for name, (writer, site, media_type, finding, notes, extra) in HOSTILE.items():
        file = writer(out_dir, name)
        truth = other_truth(name, file, "hostile", "broken", media_type, site, finding, notes)
        truths.append(write_truth(out_dir, truth.model_copy(update=extra)))
    return truths
