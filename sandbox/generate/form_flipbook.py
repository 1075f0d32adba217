"""Flipbooks: one report split over several HTML pages, as some provincial portals show
a converted document (`<name>/index.html` linking `page-1.html` … `page-N.html`).

The cut follows the printed pages: 表三 breaks across two pages inside the
（四）无法提供 group, so its continuation has no header rows and an empty cell where
the cut group labels were.
"""

from __future__ import annotations

import html
import random
import shutil
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from report.record import ReportRecord
from sandbox.agencies import Agency, Publication, agency, publications, seed_for
from sandbox.corpus import Truth
from sandbox.generate.html_grid import split_rows, table_three
from sandbox.generate.html_pages import Page, encode_page
from sandbox.generate.html_render import (
    HtmlStyle,
    heading_html,
    intro,
    paragraph,
    pick_style,
    section_blocks,
    signature,
    table_html,
)
from sandbox.generate.html_truth import MEDIA_TYPES, printed_record, report_truth, write_truth

T3_CUT_ROW = 16  # before 2.没有现成信息需要另行制作


def report_pages(record: ReportRecord, style: HtmlStyle, agency_name: str, published: str) -> list[str]:
    """The report's body cut into its printed pages (shared with the articles paginated in place)."""
    blocks = dict(section_blocks(record, style))
    top, bottom = split_rows(table_three(record, style.header_breaks), T3_CUT_ROW)
    applications = [heading_html("三、收到和处理政府信息公开申请情况", style)]
    if record.sections.get("applications"):
        applications.append(paragraph(record.sections["applications"]))
    return [
        "\n".join([intro(record), *blocks["overview"], *blocks["proactive"]]),
        "\n".join([*applications, table_html(top, style)]),
        "\n".join([table_html(bottom, style), *blocks["review_litigation"]]),
        "\n".join([*blocks["problems"], *blocks["other"], signature(agency_name, published)]),
    ]


def _pager(number: int, count: int) -> str:
    links = ['<a href="index.html">目录</a>']
    if number > 1:
        links.append(f'<a href="page-{number - 1}.html">上一页</a>')
    if number < count:
        links.append(f'<a href="page-{number + 1}.html">下一页</a>')
    return f'<div class="pager">第{number}页 / 共{count}页　{"　".join(links)}</div>'


def _index(title: str, count: int) -> str:
    items = "".join(f'<li><a href="page-{n}.html">第{n}页</a></li>' for n in range(1, count + 1))
    return (f'<div class="flipbook-index"><p>{html.escape(title)}（共{count}页，点击翻阅）</p>'
            f'<ul class="pages">{items}</ul></div>')


class PagedReport(NamedTuple):
    """A publication printed over several pages, before each form gives them its pager."""

    who: Agency
    style: HtmlStyle
    record: ReportRecord
    title: str
    folder: Path
    bodies: list[str]


def paged_report(publication: Publication, out_dir: Path, seed_prefix: str) -> PagedReport:
    """The report's pages (the style drawn from `seed_prefix` and the publication), and an empty folder for them."""
    who = agency(publication.slug)
    style = replace(pick_style(random.Random(f"{seed_prefix}:{seed_for(publication.slug, publication.year)}")),
                    t2_blocks=False, t3_split_at=None, t3_header="full")
    record = printed_record(publication)
    folder = out_dir / publication.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return PagedReport(who, style, record, record.title or "", folder,
                       report_pages(record, style, who.name, publication.published))


def build_flipbook(publication: Publication, out_dir: Path) -> Truth:
    who, style, record, title, folder, bodies = paged_report(publication, out_dir, "flipbook")
    for number, body in enumerate(bodies, start=1):
        page = Page(who, f"{title}（第{number}页）", publication.published,
                    f"{_pager(number, len(bodies))}\n{body}\n{_pager(number, len(bodies))}")
        (folder / f"page-{number}.html").write_bytes(encode_page(page))
    index = Page(who, title, publication.published, _index(title, len(bodies)))
    (folder / "index.html").write_bytes(encode_page(index))
    notes = (f"{who.family} frame on every page; {len(bodies)} pages plus index.html; 表三 cut before row "
             f"{T3_CUT_ROW} (inside （四）无法提供), continued without header; {style.describe()}")
    return write_truth(out_dir, report_truth(publication, publication.name, MEDIA_TYPES["flipbook"], notes, record))


def build(out_dir: Path) -> list[Truth]:
    return [build_flipbook(publication, out_dir) for publication in publications("flipbook")]
