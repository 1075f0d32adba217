"""Seeded spellings of list markup: one site's choice among several real-looking ways to write
the same rows, so a crawler cannot tune to one (class names, attribute order, quoting, row
layout, date format, truncated titles)."""

from __future__ import annotations

import html
import random
from dataclasses import dataclass
from datetime import date

ROW_LAYOUTS = ("li-span", "table", "div-cells", "dl", "li-date-first")
DATE_FORMATS = ("{:%Y-%m-%d}", "{:%Y/%m/%d}", "{d.year}年{d.month:02d}月{d.day:02d}日", "[{:%Y-%m-%d}]")
LIST_CLASSES = ("list", "news_list", "xxgk-list", "gl_list", "doc-list", "zfxxgk_zdgkc", "lmlist")
DATE_CLASSES = ("date", "time", "fbrq", "pubtime", "right", "rq")
TITLE_CLASSES = ("title", "tit", "bt", "wzbt", "name", "left")


@dataclass(frozen=True)
class Spelling:
    """How one site writes its rows; drawn once per site from a seeded random generator."""

    row_layout: str
    date_format: str
    list_class: str
    date_class: str
    title_class: str
    quote: str                 # ' or "
    shuffle_attributes: bool
    truncate: int | None       # show at most this many characters, the full title in title=""
    seed: int

    @classmethod
    def draw(cls, rng: random.Random) -> Spelling:
        return cls(rng.choice(ROW_LAYOUTS), rng.choice(DATE_FORMATS), rng.choice(LIST_CLASSES),
                   rng.choice(DATE_CLASSES), rng.choice(TITLE_CLASSES), rng.choice(("'", '"')),
                   rng.random() < 0.5, rng.choice((None, 12, 16, 20)), rng.randrange(1 << 30))

    def attributes(self, pairs: list[tuple[str, str]]) -> str:
        """Attributes in this site's order and quoting."""
        if self.shuffle_attributes:
            pairs = list(pairs)
            random.Random(self.seed + len(pairs)).shuffle(pairs)
        quote = self.quote
        escaped = [(name, html.escape(value, quote=False).replace(quote, "&#39;" if quote == "'" else "&quot;"))
                   for name, value in pairs]
        return "".join(f" {name}={quote}{value}{quote}" for name, value in escaped)

    def anchor(self, href: str, title: str, extra: list[tuple[str, str]] | None = None) -> str:
        shown = title if not self.truncate or len(title) <= self.truncate else title[: self.truncate] + "…"
        pairs = [("href", href), *(extra or [])]
        if shown != title or self.seed % 2:
            pairs.append(("title", title))
        return f"<a{self.attributes(pairs)}>{html.escape(shown, quote=False)}</a>"

    def when(self, day: date) -> str:
        return self.date_format.format(day, d=day)

    def row(self, href: str, title: str, day: date, extra: list[tuple[str, str]] | None = None) -> str:
        link, printed = self.anchor(href, title, extra), self.when(day)
        date_cell = f'<span class="{self.date_class}">{printed}</span>'
        if self.row_layout == "li-span":
            return f"<li>{link}{date_cell}</li>"
        if self.row_layout == "table":
            return f'<tr><td class="{self.title_class}">{link}</td><td class="{self.date_class}">{printed}</td></tr>'
        if self.row_layout == "div-cells":
            return (f'<div class="item"><div class="{self.title_class}"><i class="dot"></i>{link}</div>'
                    f'<div class="{self.date_class}">{printed}</div></div>')
        if self.row_layout == "dl":
            return f'<dl><dt class="{self.title_class}">{link}</dt><dd class="{self.date_class}">{printed}</dd></dl>'
        return f'<li>{date_cell}<span class="{self.title_class}">{link}</span></li>'

    def rows(self, rows: list[str]) -> str:
        body = "\n".join(rows)
        if self.row_layout == "table":
            return f'<table class="{self.list_class}" cellspacing="0"><tbody>\n{body}\n</tbody></table>'
        if self.row_layout in ("div-cells", "dl"):
            return f'<div class="{self.list_class}">\n{body}\n</div>'
        return f'<ul class="{self.list_class}">\n{body}\n</ul>'
