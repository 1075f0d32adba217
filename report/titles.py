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
REPORT = re.compile(r"年度?报告|年报|工作的?报告|情况的?报告|年度工作报告")
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


# ------------------------------------------------------------------ the agency a title names
# A title quoted inside a sentence: 现将《某局2024年政府信息公开工作年度报告》予以公布
_QUOTED = re.compile(r"《([^《》]{4,80})》")
_CLAUSE_END = re.compile(r"[。；;，,：:！!？?]")
_PUBLISHING = re.compile(r"^(?:现(?:将|予|就)?|特|依法|予以|并)*(?:向社会|向公众)?(?:公布|发布|公开|印发|刊发|公告|报告)?(?:如下)?")
# Where the subject begins: the agency's name stands before it (人民政府信息公开: 人民政府 is the name's).
_SUBJECT_START = re.compile(r"(?:(?<!人民)政府)?信息公开|政务公开")
_DIVISION_END = re.compile(r"[省市县区旗州盟镇乡]$")
_JOINERS = re.compile(r"(?:关于|的|年度|度|年|工作)+$")
_BRACKETS = "《》【】[]“”\"'‘’「」『』()（）:：-—_ "
_CLOSERS = "》】]”\"'’」』:：-—_ "


def title_in_text(text: str | None) -> str | None:
    """The report title inside a line that may be a sentence running into it
    (根据《条例》…，现向社会公布某局2024年政府信息公开工作年度报告), spelt as printed (NFKC, no spaces)."""
    line = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))
    for quoted in _QUOTED.findall(line):
        folded = normalise_title(quoted)
        if REPORT.search(folded) and (SUBJECT.search(folded) or YEAR_IN_TITLE.search(folded)):
            return quoted
    clauses = [c for c in _CLAUSE_END.split(line) if REPORT.search(normalise_title(c))]
    if not clauses:
        return None
    return _PUBLISHING.sub("", clauses[0]).lstrip(_BRACKETS).rstrip(_CLOSERS) or None


def agency_from_title(title: str | None) -> str | None:
    """The body a report title names itself as: what stands before the subject, with the year,
    关于/的 and the title's dressing taken out, wherever the year stands
    (`2019年上海市人民政府办公厅政府信息公开…`, `某局关于2022年…的报告`, `…年度报告（2020年度）`)."""
    text = normalise_title(title_in_text(title))
    if not text:
        return None
    text = VERSION.sub("", text).strip(_BRACKETS)
    subject = _SUBJECT_START.search(text) or REPORT.search(text)
    if subject is None:
        return None
    name = text[: subject.start()]
    if subject.group(0).startswith("政府") and _DIVISION_END.search(name):
        name += "政府"   # 北京市政府信息公开工作年度报告: the 市政府's report
    name = YEAR_IN_TITLE.sub("", name, count=1).strip(_BRACKETS)
    return normalise_agency(_JOINERS.sub("", name).strip(_BRACKETS))


def normalise_agency(name: str | None) -> str | None:
    """One spelling of an agency's name (NFKC, simplified, no spaces or quotes), None if it names nothing."""
    text = normalise_title(name).strip(_BRACKETS)
    if len(text) < 2 or not re.search(r"[\u4e00-\u9fff]{2}", text) or YEAR_IN_TITLE.search(text):
        return None
    return text
