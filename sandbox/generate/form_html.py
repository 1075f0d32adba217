"""HTML report pages: the report as the body of a CMS article page of its site's family.

Each page takes its table markup style from its seed (html_render.HtmlStyle) and
its frame from its CMS family (html_pages). Variant `gbk` pages are encoded in GBK
and declare gb2312/gbk in a `<meta charset>` and/or only a Content-Type http-equiv.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

from report.record import ReportRecord
from sandbox.agencies import Publication, agency, publications, seed_for
from sandbox.corpus import Truth
from sandbox.generate.html_pages import Page, encode_page
from sandbox.generate.html_render import HtmlStyle, pick_style, report_body
from sandbox.generate.html_truth import MEDIA_TYPES, printed_record, report_truth, write_truth

# GBK pages: (declared charset, which declarations the page carries).
GBK_DECLARATIONS = {
    ("jlp-erlang", 2020): ("gb2312", "meta"),
    ("qiaokou-health", 2021): ("gbk", "http-equiv"),
    ("weishan-liangcheng", 2020): ("gb2312", "both"),
}
# Pages that print the 2019 采购总金额 in 元 rather than 万元.
AMOUNT_IN_YUAN = {"yw-ershisanli-2020-html", "weishan-liangcheng-2020-html-gbk"}
GBK_ONLY_CONTACT = "如有疑问，请联系办公室王喆，联系电话：0000-68000000。"
OTHER_ARTICLES = ("关于公布{year}年度行政权力事项清单的通知", "{short}{year}年法治政府建设情况报告",
                  "{year}年政府信息公开指南")


# Pages whose style is set by hand on top of the seeded one, so that every hard case is present.
STYLE_OVERRIDES: dict[str, dict] = {
    "qiaokou-health-2024-html": {"digits": "fullwidth"},
    "jlp-erlang-2020-html-gbk": {"digits": "fullwidth"},
    "guangdong-2024-html": {"digits": "thousands", "t3_header": "short"},
    "huaian-2023-html": {"digits": "thousands", "cells": "word", "t3_split_at": 14},
    "hongze-2024-html": {"t3_header": "short", "pad_spans": True, "filler": "/"},
    "lueyang-land-2020-html": {"cells": "font", "th_headers": True},
    "chanhe-industry-2023-html": {"pad_spans": True, "filler": "drop"},
}


def style_for(publication: Publication) -> HtmlStyle:
    style = pick_style(random.Random(f"html:{seed_for(publication.slug, publication.year)}"))
    style = replace(style, **STYLE_OVERRIDES.get(publication.name, {}))
    if publication.name in AMOUNT_IN_YUAN:
        style = replace(style, amount_unit="元")
    return replace(style, ghost_row=style.cells == "word")  # Word's HTML export always writes it


def related_titles(publication: Publication) -> tuple[str, ...]:
    """The site's other reports and articles, as the related-links box lists them."""
    who = agency(publication.slug)
    reports = [f"{who.name}{p.year}年政府信息公开工作年度报告" for p in publications()
               if p.slug == publication.slug and p.year != publication.year]
    short = who.name.replace("人民政府", "")
    others = [title.format(year=publication.year, short=short) for title in OTHER_ARTICLES]
    return tuple(reports[-3:] + others[:2])


def page_for(publication: Publication) -> tuple[Page, HtmlStyle, ReportRecord]:
    who = agency(publication.slug)
    style = style_for(publication)
    charset, declaration = GBK_DECLARATIONS.get((publication.slug, publication.year), ("utf-8", "both"))
    record = printed_record(publication, style.amount_unit, style.digits)
    if charset == "gb2312":  # GBK-only characters (喆) in a page that declares gb2312: a strict decoder fails
        record.sections["other"] = record.sections.get("other", "") + GBK_ONLY_CONTACT
    if publication.variant == "gbk" and charset == "utf-8":
        raise ValueError(f"{publication.name}: a gbk page needs an entry in GBK_DECLARATIONS")
    body = report_body(record, style, who.name, publication.published)
    page = Page(who, record.title or "", publication.published, body, related_titles(publication),
                charset, declaration)
    return page, style, record


def notes_for(publication: Publication, page: Page, style: HtmlStyle) -> str:
    notes = [f"{page.agency.family} article page; {style.describe()}"]
    if page.charset != "utf-8":
        notes.append(f"encoded GBK, declared {page.charset} via {page.charset_meta}")
        if page.charset == "gb2312":
            notes.append("六 names a contact 王喆: 喆 is GBK-only, so a strict gb2312 decoder fails")
    variant_notes = {
        "mixed-formats": "表二 printed with the 2019 columns, 表三/表四 in the 2021 form",
        "2019-format-late": "a 2021 report printed entirely in the 2019 format (（六）其他处理 one row)",
        "text-in-cell": "表三 商业企业 本年新收 printed as the text 增98 (cell null, raw kept)",
    }
    if publication.variant in variant_notes:
        notes.append(variant_notes[publication.variant])
    if publication.year <= 2020:
        notes.append("2019 trial format: 表二 five blocks, （六）其他处理 one row")
    return "; ".join(notes)


def build(out_dir: Path) -> list[Truth]:
    truths = []
    for publication in publications("html"):
        page, style, record = page_for(publication)
        file = f"{publication.name}.html"
        (out_dir / file).write_bytes(encode_page(page))
        truth = report_truth(publication, file, MEDIA_TYPES["html"], notes_for(publication, page, style),
                             record)
        truths.append(write_truth(out_dir, truth))
    return truths
