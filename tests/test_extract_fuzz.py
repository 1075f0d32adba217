"""Fuzz: mutated PDFs and HTML pages for a bounded number of examples. Every one
must come back as a record — a finding at worst — and never as a reader crash
(which would surface as the catch-all finding extract-error)."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extract import extract_bytes

HTML_SEED = """<html><head><meta charset="gbk"><title>某局2024年政府信息公开工作年度报告</title></head>
<body><div id="zoom"><p>一、总体情况</p><p>统计期限自2024年1月1日起至2024年12月31日止。</p>
<table><tr><td colspan="3">第二十条第（一）项</td></tr><tr><td>信息内容</td><td>本年制发件数</td><td>现行有效件数</td></tr>
<tr><td rowspan="2">规章</td><td>1</td><td>2</td></tr></table>
<p>三、收到和处理政府信息公开申请情况</p>
<table><tr><td rowspan="2"></td><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>
<tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>
<tr><td>（一）予以公开</td><td>3</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>3</td></tr></table>
</div></body></html>""".encode("gb18030")


def _pdf_seed() -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.setFont("STSong-Light", 11)
    for i, text in enumerate(["某局2024年政府信息公开工作年度报告", "二、主动公开政府信息情况", "第二十条第（一）项",
                              "信息内容 本年制发件数 本年废止件数 现行有效件数", "规章 0 0 0"]):
        page.drawString(72, 760 - 20 * i, text)
    for x in (72, 200, 300, 400, 500):
        page.line(x, 640, x, 680)
    page.line(72, 660, 500, 660)
    page.save()
    return buffer.getvalue()


PDF_SEED = _pdf_seed()


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:at + draw(st.integers(1, 400))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif data:
            chunk = data[at:at + draw(st.integers(1, 64))]
            data[at:at] = chunk * draw(st.integers(1, 20))
    return bytes(data)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


def _check(data: bytes) -> None:
    record = extract_bytes(data, ocr=False)
    crashes = [f.message_en for f in record.findings if f.rule == "extract-error"]
    assert not crashes, crashes
    assert record.provenance.duration_ms is not None


@FUZZ
@given(mutated(PDF_SEED))
def test_mutated_pdfs_end_in_records(data: bytes) -> None:
    _check(data)


@FUZZ
@given(mutated(HTML_SEED))
def test_mutated_html_ends_in_records(data: bytes) -> None:
    _check(data)


def test_the_seeds_themselves_extract() -> None:
    html = extract_bytes(HTML_SEED)
    assert html.cells["t2.rules.issued"] == 1
    assert html.cells["t3.disclosed.total"] == 3
    assert html.year == 2024
    pdf = extract_bytes(PDF_SEED)
    assert pdf.title == "某局2024年政府信息公开工作年度报告"


def _docx_seed() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("某局2024年政府信息公开工作年度报告")
    document.add_paragraph("二、主动公开政府信息情况")
    table = document.add_table(rows=3, cols=4)
    for row, texts in zip(table.rows, [["第二十条第（一）项"] * 4, ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
                                       ["规章", "0", "0", "0"]], strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = text
    table.rows[0].cells[0].merge(table.rows[0].cells[3])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


DOCX_SEED = _docx_seed()


@FUZZ
@given(mutated(DOCX_SEED))
def test_mutated_docx_ends_in_records(data: bytes) -> None:
    _check(data)


def test_the_docx_seed_extracts() -> None:
    record = extract_bytes(DOCX_SEED)
    assert record.cells["t2.rules.in_force"] == 0 and len(record.cells) == 3
