"""Is a link (its title and URL) an annual 政府信息公开 report, and of which year?

Real titles: `{机关}{YYYY}年政府信息公开工作年度报告`, `…{YYYY}年度政府信息公开工作报告`,
`…关于{YYYY}年政府信息公开工作情况的报告`, `…政府信息公开工作年度报告（YYYY年度）`,
`…政府信息公开工作2022年度报告`, with suffixes such as （图片版）/（超链版）.
Look-alikes that are excluded: 图解, 解读, half-year or quarterly statistics, and
notices about compiling or publishing the reports.

The URL helps where the title is bare: a report column (…/xxgknb/…, …/ndbg/…) listing
`2022年度报告`, and 大汉's `xxgkAnnualReport.jsp?…&fbtime=YYYY`, one report per year.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import opencc

_SUBJECT = re.compile(r"(政府)?信息公开|政务公开")
_REPORT = re.compile(r"年度?报告|年报|工作报告|情况的?报告|年度工作报告")
_LOOKALIKE = re.compile(
    r"图解|图说|一图|解读|读懂|问答|半年|上半年|下半年|季度|月报|统计表|通知|通告|公告|编制|报送|发布工作|"
    r"模板|格式|样式|指南|目录|要点|工作方案|考核|评估|测评|第三方|培训|会议|征求意见"
)
_VERSION = re.compile(r"[（(]\s*(图片版|超链版|文字版|PDF版|word版|修订版|更正版)\s*[)）]", re.IGNORECASE)
_YEAR_IN_TITLE = re.compile(r"(20\d{2})\s*年")
_ANY_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
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


@lru_cache(maxsize=1)
def _simplifier() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def normalise_title(title: str) -> str:
    """NFKC, traditional → simplified, no white space: one spelling for matching."""
    text = unicodedata.normalize("NFKC", title or "")
    return _simplifier().convert(re.sub(r"\s+", "", text))


def looks_like_report(title: str, extra_pattern: str | None = None, url: str = "") -> bool:
    text = normalise_title(title)
    if _ANNUAL_MODULE.search(url) and not _LOOKALIKE.search(text):
        return True
    if not text or _LOOKALIKE.search(_VERSION.sub("", text)):
        return False
    if extra_pattern and re.search(extra_pattern, text):
        return True
    if _BARE_REPORT_TITLE.match(_VERSION.sub("", text)) and _REPORT_COLUMN.search(url):
        return True
    return bool(_SUBJECT.search(text) and _REPORT.search(text))


def infer_year(title: str, url: str = "", listed: str | None = None) -> tuple[int | None, str]:
    """The report year: from the title, else the year before the listing date, else the URL."""
    text = normalise_title(title)
    match = _YEAR_IN_TITLE.search(text) or _ANY_YEAR.search(text)
    if match:
        return int(match.group(1)), "title"
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


def recognise(title: str, url: str = "", listed: str | None = None,
              extra_pattern: str | None = None) -> Recognition | None:
    if not looks_like_report(title, extra_pattern, url):
        return None
    year, year_from = infer_year(title, url, listed)
    version = _VERSION.search(normalise_title(title))
    return Recognition(year=year, version=version.group(1) if version else None, year_from=year_from)


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
