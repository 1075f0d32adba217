"""Agency, report year and title: from the document first, then from what the crawler knew."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from report.titles import (
    REPORT,
    YEAR_IN_TITLE,
    agency_from_title,
    is_lookalike,
    normalise_agency,
    normalise_title,
    title_in_text,
    year_from_title,
)

_PERIOD = re.compile(r"统计期限自\s*((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_PERIOD_LOOSE = re.compile(r"(?:统计期限|统计时限|统计时间|数据统计期|统计区间)[^。]{0,12}?((?:19|20)\d{2})\s*年")
_NOISE = re.compile(r"[_\-|｜—]+[^_\-|｜—]*(?:网|门户|平台)$")
_SUFFIX_TITLE = re.compile(rf"^(.*?{YEAR_IN_TITLE.pattern}.*?(?:年度报告|年报))")
# A title ends with its report word and perhaps a parenthesis: …工作年度报告（2020年度）
_TITLE_END = re.compile(r"^(.*?(?:年度报告|年报|工作的?报告|情况的?报告|年度報告|工作的?報告|情況的?報告)"
                        r"(?:[（(][^（）()]{1,12}[）)])?)")
_LABEL_PREFIX = re.compile(r"^(?:名称|标题|题名|文件名称|信息名称)[:：]")
# A name an agency signs with: it ends as the names of bodies do.
_AGENCY_NAME = re.compile(
    r"[\u4e00-\u9fff（）()]{2,40}?(?:人民政府|政府|办公厅|办公室|委员会|管委会|管理委员会|办事处|局|委|厅|署|院|中心|"
    r"所|馆|站|队|处|会|公司|分局|支队|大队)")
_SIGN_DATE = re.compile(r"(?:(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})年[\d一二三四五六七八九十]{1,3}月[\d一二三四五六七八九十]{1,3}日$")
# A closing sentence that happens to end in an agency's name is no signature.
_NOT_SIGNATURE = re.compile(r"请|咨询|联系|电话|地址|网站|邮箱|负责|详见|本机关|本单位|我")
_SIGN_LABEL = re.compile(r"^(?:发布单位|发布机构|编制单位|报告单位|单位|落款)[:：]")
_NOT_TITLE = re.compile(r"索引号|分类[:：]|发布机构|发文日期|发布日期|发布时间|来源[:：]|浏览次数|文号[:：]|主题分类")


@dataclass
class Metadata:
    title: str | None
    agency: str | None
    year: int | None
    lookalike: str | None = None  # why the title says this is not an annual report


def compact(text: str) -> str:
    """Spaces between CJK characters and digits as a text layer prints them, removed."""
    folded = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", "", folded)


def title_from_lines(lines: list[str]) -> str | None:
    """The report title from the first lines (it often wraps over two or three)."""
    joined = ""
    for line in lines[:8]:
        text = _LABEL_PREFIX.sub("", compact(line))
        if not text or re.fullmatch(r"[-—]?\d+[-—]?", text) or _NOT_TITLE.search(text):
            joined = ""
            continue
        joined += text
        if REPORT.search(joined):
            match = _TITLE_END.match(_title_out_of_sentence(joined))
            if match and len(match.group(1)) <= 80 and YEAR_IN_TITLE.search(normalise_title(match.group(1))):
                return match.group(1)
            joined = ""
            continue
        if len(joined) > 80:
            return None
    return None


def _title_out_of_sentence(text: str) -> str:
    """A first sentence run into the title line (根据《条例》…现向社会公布某局2024年…报告) is not
    the title; a look-alike's own words (图解：…) are kept, they say what the document is."""
    if is_lookalike(text):
        return text
    return title_in_text(text) or text


def clean_listing_title(title: str | None) -> str | None:
    if not title:
        return None
    text = compact(title)
    text = _NOISE.sub("", text)
    match = _SUFFIX_TITLE.match(text)
    return match.group(1) if match else text or None


def agency_from_signature(tail_lines: list[str]) -> str | None:
    """The body that signs the report at its end (`某局` over or before `2024年1月20日`)."""
    for line in reversed(tail_lines[-4:]):
        text = _SIGN_LABEL.sub("", _SIGN_DATE.sub("", compact(line))).strip("（）() ")
        if text and _AGENCY_NAME.fullmatch(text) and not _NOT_SIGNATURE.search(text):
            return normalise_agency(text)
    return None


def agency_from_source(source_line: str | None) -> str | None:
    """The body a page's source line (来源：…) names; `本站`, `本网` name none."""
    text = compact(source_line or "")
    return normalise_agency(text) if _AGENCY_NAME.fullmatch(text) else None


def year_from_text(text: str) -> int | None:
    """The statistics period sentence (统计期限自2024年1月1日…) names the report year."""
    folded = compact(text)
    match = _PERIOD.search(folded) or _PERIOD_LOOSE.search(folded)
    return int(match.group(1)) if match else None


def resolve_metadata(lead_lines: list[str], body_text: str, *, meta_title: str | None,
                     listing_title: str | None, hint_agency: str | None, hint_year: int | None,
                     url: str | None = None, ocr: bool = False, tail_lines: list[str] | None = None,
                     source_line: str | None = None) -> Metadata:
    """The report's own word first: its title, then its signature, then the page's source
    line; what the listing or the registry said is only a hint for what the report does not say."""
    title = title_from_lines(lead_lines) or clean_listing_title(meta_title if _is_report_title(meta_title) else None) \
        or clean_listing_title(listing_title)
    listed = clean_listing_title(listing_title)
    if ocr and title and listed and title != listed and _similar(title, listed):
        title = listed  # OCR misreads rare characters (瀍); the listing spells the same title right
    agency = (agency_from_title(title) or agency_from_signature(tail_lines or [])
              or agency_from_source(source_line) or agency_from_title(listed) or normalise_agency(hint_agency))
    if ocr and agency and hint_agency and agency != hint_agency and _similar(agency, hint_agency):
        agency = hint_agency
    year = (year_from_text(body_text) or year_from_title(title) or hint_year
            or year_from_title(listing_title) or _year_from_url(url))
    lookalike = None
    for candidate in (title, listing_title):
        if candidate and is_lookalike(candidate):
            lookalike = compact(candidate)
            break
    return Metadata(title, agency, year, lookalike)


def _similar(a: str, b: str) -> bool:
    import difflib

    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def _is_report_title(title: str | None) -> bool:
    return bool(REPORT.search(normalise_title(title)))


def _year_from_url(url: str | None) -> int | None:
    if not url:
        return None
    match = re.search(r"(?<!\d)(20[12]\d)(?:nb|年报|ndbg)", url)
    return int(match.group(1)) if match else None


_LEVEL_RULES = (
    ("township", re.compile(r"(?:乡|镇|街道|街道办事处)(?:人民政府)?$|(?:乡|镇)人民政府|街道办事处")),
    ("province", re.compile(r"^[^市县区]{2,4}(?:省|自治区)(?:人民政府)?(?:办公厅)?$|^(?:北京|天津|上海|重庆)市人民政府$")),
    ("county", re.compile(r"(?:县|区|旗|县级市)")),
    ("prefecture", re.compile(r"(?:市|州|盟)")),
    ("province", re.compile(r"(?:省|自治区)")),
)


def agency_level(agency: str | None) -> str | None:
    """A coarse level from the agency's name (the registry knows better)."""
    if not agency:
        return None
    for level, pattern in _LEVEL_RULES:
        if pattern.search(agency):
            return level
    return None


def agency_kind(agency: str | None) -> str | None:
    if not agency:
        return None
    if agency.endswith(("人民政府", "政府", "街道办事处", "管委会", "管理委员会")):
        return "government"
    return "department"
