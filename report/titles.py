"""What a title says: is it an annual 政府信息公开 report, a look-alike, and of which year?

Real titles: `{机关}{YYYY}年政府信息公开工作年度报告`, `…{YYYY}年度政府信息公开工作报告`,
`…关于{YYYY}年政府信息公开工作情况的报告`, `…政府信息公开工作年度报告（YYYY年度）`,
`…政府信息公开工作2022年度报告`, with suffixes such as （图片版）/（超链版）.
Look-alikes: 图解, 解读, half-year or quarterly statistics, templates and guides, and
notices about compiling or publishing the reports. The crawler (which links to follow)
and the extractor (is this document a report) read the same verdict from here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

SUBJECT = re.compile(r"(政府)?信息公开|政务公开")
REPORT = re.compile(r"年度?报告|年报|工作报告|情况的?报告|年度工作报告")
# A graphic or explanatory companion of a report (an article page often links it beside the report).
INTERPRETATION = re.compile(r"图解|图说|一图|解读|读懂")
LOOKALIKE = re.compile(
    INTERPRETATION.pattern + r"|问答|半年|季度|第[一二三四]季|月报|统计月|统计表|通知|通告|公告|编制|报送|发布工作|"
    r"模板|格式|样式|指南|目录|要点|工作方案|考核|评估|测评|第三方|培训|会议|征求意见|关于.*(?:函|意见|方案)"
)
VERSION = re.compile(r"[（(]\s*(图片版|超链版|文字版|PDF版|word版|修订版|更正版)\s*[)）]", re.IGNORECASE)
# Where the year stands in a title (the agency's name comes before it).
YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年(?:度)?")
_ANY_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


@lru_cache(maxsize=1)
def _simplifier() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def normalise_title(title: str | None) -> str:
    """NFKC, traditional → simplified, no white space: one spelling for matching."""
    text = unicodedata.normalize("NFKC", title or "")
    return _simplifier().convert(re.sub(r"\s+", "", text))


def is_lookalike(title: str | None) -> bool:
    """Does the title say the document is about a report (图解, 解读, a notice …), not one?"""
    return bool(LOOKALIKE.search(VERSION.sub("", normalise_title(title))))


def is_report_title(title: str | None) -> bool:
    """A title naming an annual disclosure report, and not a look-alike."""
    text = normalise_title(title)
    return bool(SUBJECT.search(text) and REPORT.search(text)) and not is_lookalike(text)


def version_of(title: str | None) -> str | None:
    """图片版, 超链版 … when the title says which edition it is."""
    match = VERSION.search(normalise_title(title))
    return match.group(1) if match else None


def year_from_title(title: str | None) -> int | None:
    """The report year a title names: `YYYY年(度)`, else a lone 20YY."""
    text = normalise_title(title)
    match = YEAR_IN_TITLE.search(text) or _ANY_YEAR.search(text)
    return int(match.group(1)) if match else None
