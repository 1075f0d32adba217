"""Articles paginated in place: the report is the body of an article page that goes on over
several pages, each with the pager at its foot, as CMSs cut a long article (`paged-html`).

The pager's spelling is seeded per publication, so the crawler is never matching one spelling:

- `next-link`: 上一页 / 下一页 links between pages named part-a.html, part-b.html …;
- `ordinal-links`: 第1页 第2页 … links (the current page not a link);
- `numbered-links`: [1] [2] [3] … links;
- `index-n`: the TRS numbering index.html, index_1.html, index_2.html … behind arrow images
  (no link text: only the file names say which page follows);
- `page-n`: page-1.html, page-2.html … behind arrow images.

The pages are cut as the flipbook's (表三 breaks inside （四）无法提供); the document is a
directory of the pages, whose file-name order is the reading order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from sandbox.agencies import Publication, publications
from sandbox.corpus import Truth
from sandbox.generate.form_flipbook import T3_CUT_ROW, paged_report
from sandbox.generate.html_pages import Page, encode_page
from sandbox.generate.html_truth import MEDIA_TYPES, report_truth, write_truth

FORM = "paged-html"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ARROW = '<img src="/static/images/{0}.gif" alt="" />'


def _lettered(number: int) -> str:
    return f"part-{_LETTERS[number - 1]}.html"


def _trs(number: int) -> str:
    return "index.html" if number == 1 else f"index_{number - 1}.html"


def _page_n(number: int) -> str:
    return f"page-{number}.html"


def _next_links(names: list[str], number: int) -> str:
    links = [f'<a href="{names[number - 2]}">上一页</a>'] if number > 1 else []
    links += [f'<a href="{names[number]}">下一页</a>'] if number < len(names) else []
    return "　".join(links)


def _ordinal_links(names: list[str], number: int) -> str:
    return " ".join(f"<span>第{n}页</span>" if n == number else f'<a href="{name}">第{n}页</a>'
                    for n, name in enumerate(names, 1))


def _numbered_links(names: list[str], number: int) -> str:
    return " ".join(f"<b>[{n}]</b>" if n == number else f'<a href="{name}">[{n}]</a>'
                    for n, name in enumerate(names, 1))


def _arrow_links(names: list[str], number: int) -> str:
    links = [f'<a href="{names[number - 2]}">{_ARROW.format("prev")}</a>'] if number > 1 else []
    links += [f'<a href="{names[number]}">{_ARROW.format("next")}</a>'] if number < len(names) else []
    return " ".join(links)


# spelling → (the file name of page N, the pager of page N among the names)
SPELLINGS: dict[str, tuple[Callable[[int], str], Callable[[list[str], int], str]]] = {
    "next-link": (_lettered, _next_links),
    "ordinal-links": (_lettered, _ordinal_links),
    "numbered-links": (_lettered, _numbered_links),
    "index-n": (_trs, _arrow_links),
    "page-n": (_page_n, _arrow_links),
}


def spelling_for(publication: Publication) -> str:
    """The pager a publication's pages carry: the spellings in a seeded order, dealt to the
    paged publications in plan order, so that the corpus holds as many spellings as it can."""
    dealt = sorted(SPELLINGS)
    random.Random(FORM).shuffle(dealt)
    return dealt[publications(FORM).index(publication) % len(dealt)]


def write_pages(publication: Publication, out_dir: Path, spelling: str) -> Truth:
    """The publication as a directory of article pages with `spelling`'s pager, and its truth."""
    who, style, record, title, folder, bodies = paged_report(publication, out_dir, "paged")
    name_of, pager_of = SPELLINGS[spelling]
    names = [name_of(number) for number in range(1, len(bodies) + 1)]
    for number, (name, body) in enumerate(zip(names, bodies, strict=True), start=1):
        page_title = title if number == 1 else f"{title}（{number}）"
        pager = f'<div class="page-turn">{pager_of(names, number)}</div>'
        (folder / name).write_bytes(encode_page(Page(who, page_title, publication.published, f"{body}\n{pager}")))
    notes = (f"{who.family} article paginated in place over {len(bodies)} pages ({', '.join(names)}), "
             f"pager {spelling}; 表三 cut before row {T3_CUT_ROW}, continued without header; {style.describe()}")
    truth = report_truth(publication, publication.name, MEDIA_TYPES[FORM], notes, record)
    return write_truth(out_dir, Truth.model_validate({**truth.model_dump(), "pager": spelling}))


def build(out_dir: Path) -> list[Truth]:
    return [write_pages(publication, out_dir, spelling_for(publication)) for publication in publications(FORM)]
