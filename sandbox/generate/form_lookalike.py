"""Pages that look like annual reports but are not: a 图解 (一图读懂…), a 解读, half-year
statistics with 表三's own labels, and the notice about compiling the reports with
the empty template table. Each has a title a keyword filter would take for a report;
the extractor must answer `not-a-report`.
"""

from __future__ import annotations

import html
from pathlib import Path

from sandbox.agencies import agency, figures_for, seed_for
from sandbox.corpus import Truth
from sandbox.figures import generate
from sandbox.generate.html_grid import Cell, Grid, table_three
from sandbox.generate.html_pages import Page, encode_page
from sandbox.generate.html_render import HtmlStyle, paragraph, table_html
from sandbox.generate.html_truth import MEDIA_TYPES, other_truth, write_truth


def _tujie(slug: str, year: int) -> tuple[str, str]:
    who, cells = agency(slug), figures_for(slug, year).record.cells
    title = f"一图读懂{who.name}{year}年政府信息公开工作年度报告"
    images = "".join(f'<p style="text-align:center"><img src="/{slug}/images/tujie-{year}-{n}.jpg" '
                     f'alt="{html.escape(title)}（{n}）" width="750" /></p>' for n in range(1, 5))
    figures = Grid("图解", [
        [Cell("主动公开", header=True), Cell("依申请公开", header=True), Cell("行政复议", header=True)],
        [Cell(f"{cells.get('t2.normative_docs.issued', 0)}件规范性文件"),
         Cell(f"{cells['t3.new.total']}件"), Cell(f"{cells['t4.review.total']}件")],
    ])
    body = "\n".join([images, paragraph(f"{year}年，全年受理政府信息公开申请{cells['t3.new.total']}件，"
                                        f"办结{cells['t3.result_total.total']}件。"),
                      table_html(figures, HtmlStyle(cells="plain")),
                      paragraph("相关链接：" + f"{who.name}{year}年政府信息公开工作年度报告")])
    return title, body


def _jiedu(slug: str, year: int) -> tuple[str, str]:
    who, cells = agency(slug), figures_for(slug, year).record.cells
    title = f"《{who.name}{year}年政府信息公开工作年度报告》解读"
    body = "\n".join(paragraph(text) for text in (
        "一、出台背景",
        f"根据《中华人民共和国政府信息公开条例》规定，{who.name}编制并发布了{year}年政府信息公开工作年度报告。",
        "二、主要内容",
        f"报告共分为总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、"
        f"存在的主要问题及改进情况、其他需要报告的事项六个部分。{year}年共收到政府信息公开申请{cells['t3.new.total']}件，"
        f"因政府信息公开引起行政复议{cells['t4.review.total']}件。",
        "三、解读机构及联系方式",
        f"解读机构：{who.name}办公室　联系电话：0000-12345678",
    ))
    return title, body


def _half_year(slug: str, year: int) -> tuple[str, str]:
    """Half-year statistics printed in 表三's layout; the figures balance like a report's."""
    who = agency(slug)
    half = generate(seed_for(slug, year) + 6, agency=who.name, year=year, busy=who.busy / 2).record
    grid = table_three(half)
    grid.rows[3][0] = Cell("一、上半年新收政府信息公开申请数量", colspan=3, header=True)
    title = f"{who.name}{year}年上半年政府信息公开工作统计"
    body = "\n".join([paragraph(f"现将{who.name}{year}年1月1日至6月30日政府信息公开工作情况统计如下。"),
                      table_html(grid, HtmlStyle(cells="span")),
                      paragraph("（注：本表为半年度统计数据，全年数据以年度报告为准。）")])
    return title, body


def _notice(slug: str, year: int) -> tuple[str, str]:
    """The notice asking units to compile their reports, with the template's empty table."""
    empty = figures_for(slug, year).record.model_copy(deep=True)
    empty.raw = {key: "" for key in empty.cells}
    title = f"关于做好{year}年度政府信息公开工作年度报告编制发布工作的通知"
    body = "\n".join([
        paragraph("各乡镇人民政府、街道办事处，区政府各部门、各直属单位："),
        paragraph(f"为做好{year}年度政府信息公开工作年度报告编制和发布工作，现将有关事项通知如下："),
        paragraph("一、严格按照《中华人民共和国政府信息公开工作年度报告格式》编制年度报告，"
                  f"各部门于{year + 1}年1月31日前、各乡镇（街道）于{year + 1}年1月31日前在政府网站公开。"),
        paragraph("二、年度报告应包括以下六部分内容：总体情况；主动公开政府信息情况；收到和处理政府信息公开申请情况；"
                  "政府信息公开行政复议、行政诉讼情况；存在的主要问题及改进情况；其他需要报告的事项。"),
        paragraph("附件：收到和处理政府信息公开申请情况表（样表）"),
        table_html(table_three(empty), HtmlStyle(cells="plain")),
        paragraph(f"{agency(slug).name}办公室"),
    ])
    return title, body


# name → (builder, site, year, published)
LOOKALIKES = {
    "changchun-health-2024-tujie": (_tujie, "changchun-health", 2024, "2025-01-23"),
    "hongze-2023-jiedu": (_jiedu, "hongze", 2023, "2024-03-22"),
    "mingshan-health-2024-half-year": (_half_year, "mingshan-health", 2024, "2024-07-15"),
    "huaian-2024-notice": (_notice, "huaian", 2024, "2024-12-05"),
}
KINDS = {"_tujie": "图解 page (一图读懂…): images and a few figures",
         "_jiedu": "解读 of the report: prose quoting its figures",
         "_half_year": "half-year statistics in 表三's layout (上半年)",
         "_notice": "notice about compiling the reports, with the empty 表三 template"}


def build(out_dir: Path) -> list[Truth]:
    truths = []
    for name, (builder, slug, year, published) in LOOKALIKES.items():
        title, body = builder(slug, year)
        file = f"{name}.html"
        (out_dir / file).write_bytes(encode_page(Page(agency(slug), title, published, body)))
        notes = f"{KINDS[builder.__name__]}; {agency(slug).family} article page"
        truths.append(write_truth(out_dir, other_truth(
            name, file, "lookalike", "not-report", MEDIA_TYPES["html"], slug, "not-a-report", notes,
            title=title, year=year, published=published)))
    return truths
