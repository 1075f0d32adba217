"""Is a link (its title and URL) an annual 政府信息公开 report, and of which year?

What a title says is `report.titles` (the extractor reads the same verdict).
The URL helps where the title is bare: a report column (…/xxgknb/…, …/ndbg/…) listing
`2022年度报告`, and 大汉's `xxgkAnnualReport.jsp?…&fbtime=YYYY`, one report per year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from report.titles import (
    VERSION,
    is_lookalike,
    is_report_title,
    normalise_title,
    version_of,
    year_from_title,
)

_URL_DATE = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])([0-3]\d)?(?!\d)")
_URL_YEAR_DIR = re.compile(r"/(20\d{2})n?/")
_REPORT_COLUMN = re.compile(r"xxgknb|gknb|ndbg|xxgkndbg|gzndbg|annualreport", re.IGNORECASE)
_BARE_REPORT_TITLE = re.compile(r"^(20\d{2})年度?(工作)?年?度?(报告|年报)$|^(20\d{2})年?年报$")
_ANNUAL_MODULE = re.compile(r"xxgkAnnualReport\.jsp\?(?:.*&)?fbtime=(20\d{2})", re.IGNORECASE)


@dataclass(frozen=True)
class Recognition:
    year: int | None
    version: str | None       # 图片版, 超链版 … when the title says so
    year_from: str            # title | listing-date | url | none


def looks_like_report(title: str, extra_pattern: str | None = None, url: str = "") -> bool:
    text = normalise_title(title)
    if "报" not in text and not extra_pattern:
        # every title rule below needs 报告 or 年报: most links of a list page end here, cheaply
        return bool(_ANNUAL_MODULE.search(url)) and not is_lookalike(text)
    if is_lookalike(text):
        return False
    if _ANNUAL_MODULE.search(url):
        return True
    if not text:
        return False
    if extra_pattern and re.search(extra_pattern, text):
        return True
    if _BARE_REPORT_TITLE.match(VERSION.sub("", text)) and _REPORT_COLUMN.search(url):
        return True
    return is_report_title(text)


def infer_year(title: str, url: str = "", listed: str | None = None) -> tuple[int | None, str]:
    """The report year: from the title, else the year before the listing date, else the URL."""
    year = year_from_title(title)
    if year is not None:
        return year, "title"
    module = _ANNUAL_MODULE.search(url)
    if module:
        return int(module.group(1)), "url"
    published = parse_date(listed) if listed else None
    if published:
        return _report_year_for(published), "listing-date"
    for dated in _URL_DATE.finditer(url):
        if dated.group(3) and 1 <= int(dated.group(3)) <= 31:
            return _report_year_for(date(int(dated.group(1)), int(dated.group(2)), 1)), "url"
    folder = _URL_YEAR_DIR.search(url)
    if folder:
        return int(folder.group(1)), "url"
    return None, "none"


def _report_year_for(published: date) -> int:
    # Reports come out early in the year after the one they cover; a late-year date is unusual
    # (published before year end) but still about that same year.
    return published.year - 1 if published.month <= 9 else published.year


@lru_cache(maxsize=8192)   # a site's side lists (latest news, other columns) repeat on each of its list pages
def recognise(title: str, url: str = "", listed: str | None = None,
              extra_pattern: str | None = None) -> Recognition | None:
    if not looks_like_report(title, extra_pattern, url):
        return None
    year, year_from = infer_year(title, url, listed)
    return Recognition(year=year, version=version_of(title), year_from=year_from)


_DATE = re.compile(r"(20\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def parse_date(text: str | None) -> date | None:
    """The first Y-M-D date in `text` (2025-01-10, 2025/1/10, 2025年1月10日)."""
    match = _DATE.search(text or "")
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
