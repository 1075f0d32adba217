"""Agencies: their levels and kinds, and when each must publish its annual report.

《政府信息公开条例》第五十条: every administrative body (行政机关) publishes its report on
year Y by 31 January of Y+1; only a local government at county level or above (县级以上地方
人民政府, whose report is the consolidated 本级政府 one) has until 31 March of Y+1. A township
government (乡镇人民政府) or a sub-district office (街道办事处) is a government but not a county-level
one: 31 January. The registry, the warehouse (its check constraints store exactly these
values) and the alert rules all read them from here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

Level = Literal["province", "prefecture", "county", "township", "department"]
Kind = Literal["government", "department"]
LEVELS: tuple[str, ...] = get_args(Level)
KINDS: tuple[str, ...] = get_args(Kind)

# Who may make 规章 (立法法): provincial governments and those of 设区的市.
RULE_MAKING_LEVELS: frozenset[str] = frozenset({"province", "prefecture"})

# The governments that have until 31 March: 县级以上地方人民政府.
COUNTY_OR_ABOVE_LEVELS: frozenset[str] = frozenset({"province", "prefecture", "county"})

_EVERY_BODY_DEADLINE = (1, 31)   # (month, day) of the year after the report year
_COUNTY_GOVERNMENT_DEADLINE = (3, 31)


CHINA = ZoneInfo("Asia/Shanghai")   # the deadlines are dates in China, wherever the machine is


def today_in_china(now: datetime | None = None) -> date:
    """The date in China at `now` (default: this moment): "today" for every deadline and alert."""
    return (now or datetime.now(UTC)).astimezone(CHINA).date()


def deadline(year: int, kind: str, level: str) -> date:
    """The legal deadline of report year `year` (《政府信息公开条例》第五十条): 31 March for a
    government of a province, prefecture or county, 31 January for every other body —
    departments, and township governments."""
    if kind == "government" and level == "department":
        raise ValueError("a government has a territorial level (province … township), not 'department'")
    county_government = kind == "government" and level in COUNTY_OR_ABOVE_LEVELS
    month, day = _COUNTY_GOVERNMENT_DEADLINE if county_government else _EVERY_BODY_DEADLINE
    return date(year + 1, month, day)


def latest_due_year(today: date, kind: str, level: str) -> int | None:
    """The latest report year whose deadline has passed by `today`."""
    year = today.year - 1
    while year > 1900:
        if today > deadline(year, kind, level):
            return year
        year -= 1
    return None


# The last character of an agency's name: 局, 委(员会), 办(公室), 政府, 街道, 中心 …
_AGENCY_ENDINGS = frozenset("局委办厅府处院会所心站队室区县市镇乡道部署馆社司行盟旗州省团")


def looks_like_agency(name: str) -> bool:
    """Whether a name (the part of a title before its year) can be an agency's, not 关于 or 全文."""
    name = "".join(name.split())
    return len(name) >= 2 and name[-1] in _AGENCY_ENDINGS


def same_agency(a: str, b: str) -> bool:
    """Whether two spellings name one agency: the shorter is the longer with characters left out,
    the way titles shorten names — higher divisions in front (洪泽区 for 淮安市洪泽区人民政府),
    characters inside (明山区卫健局 for 本溪市明山区卫生健康局), the end of 人民政府, 办事处 or
    委员会 — but never a division inside (淮安市人民政府 is not 淮安市洪泽区人民政府) nor any
    other ending (洪泽区教育局 is not 洪泽区)."""
    short, long = sorted(("".join(a.split()), "".join(b.split())), key=len)
    if not short:
        return False
    positions, start = [], 0
    for character in short:
        start = long.find(character, start)
        if start < 0:
            return False
        positions.append(start)
        start += 1
    inner = [long[left + 1:right] for left, right in zip(positions, positions[1:], strict=False) if right > left + 1]
    tail = long[positions[-1] + 1:]
    return not any(run[-1] in _DIVISION_ENDINGS or run.endswith("街道") for run in inner) and (
        not tail or any(ending.endswith(tail) for ending in _DROPPABLE_ENDINGS))


_DIVISION_ENDINGS = frozenset("省市州盟区县旗镇乡")
_DROPPABLE_ENDINGS = ("人民政府", "街道办事处", "管理委员会")
