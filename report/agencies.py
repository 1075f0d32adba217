"""Agencies: their levels and kinds, and when each must publish its annual report.

《政府信息公开条例》第五十条: a department (政府部门) publishes its report on year Y by
31 January of Y+1; a government (本级政府) by 31 March of Y+1. The registry, the
warehouse (its check constraints store exactly these values) and the alert rules all
read them from here.
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

_DEPARTMENT_DEADLINE = (1, 31)   # (month, day) of the year after the report year
_GOVERNMENT_DEADLINE = (3, 31)


CHINA = ZoneInfo("Asia/Shanghai")   # the deadlines are dates in China, wherever the machine is


def today_in_china(now: datetime | None = None) -> date:
    """The date in China at `now` (default: this moment): "today" for every deadline and alert."""
    return (now or datetime.now(UTC)).astimezone(CHINA).date()


def deadline(year: int, kind: str) -> date:
    """The legal deadline of report year `year`: 31 January for departments (政府部门),
    31 March for governments (本级政府) — 《政府信息公开条例》第五十条."""
    month, day = _DEPARTMENT_DEADLINE if kind == "department" else _GOVERNMENT_DEADLINE
    return date(year + 1, month, day)


def latest_due_year(today: date, kind: str) -> int | None:
    """The latest report year whose deadline has passed by `today`."""
    year = today.year - 1
    while year > 1900:
        if today > deadline(year, kind):
            return year
        year -= 1
    return None
