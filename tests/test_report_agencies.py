"""Agency levels, kinds and legal deadlines: one definition (report/agencies.py) read by all."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from report.agencies import KINDS, LEVELS, deadline, latest_due_year


def test_deadlines_follow_the_regulation() -> None:
    # 第五十条: every 行政机关 by 31 January; 县级以上地方人民政府 by 31 March.
    assert deadline(2024, "department", "department") == date(2025, 1, 31)
    for level in ("province", "prefecture", "county"):
        assert deadline(2024, "government", level) == date(2025, 3, 31)
    assert deadline(2024, "government", "township") == date(2025, 1, 31)
    assert latest_due_year(date(2025, 4, 15), "government", "county") == 2024
    assert latest_due_year(date(2025, 3, 31), "government", "county") == 2023
    assert latest_due_year(date(2025, 2, 1), "government", "township") == 2024
    assert latest_due_year(date(2025, 2, 1), "department", "department") == 2024
    assert latest_due_year(date(2025, 1, 31), "department", "department") == 2023


def test_a_government_without_its_territorial_level_is_refused() -> None:
    with pytest.raises(ValueError, match="territorial level"):
        deadline(2024, "government", "department")


def test_the_stored_values_stay_what_the_schema_allows() -> None:
    # The migrations' check constraints hold these exact strings; changing them needs a migration.
    assert LEVELS == ("province", "prefecture", "county", "township", "department")
    assert KINDS == ("government", "department")


def test_the_warehouse_and_the_alerts_use_the_same_deadline() -> None:
    from nianbao.alerts.model import ReportFacts
    from nianbao.alerts.rules import late_publications
    from warehouse.models import Agency

    for kind, level in (("government", "county"), ("government", "township"), ("department", "department")):
        due = deadline(2024, kind, level)
        assert Agency(kind=kind, level=level).deadline(2024) == due
        on_time = ReportFacts(agency="某机关", year=2024, sha256="a" * 64, kind=kind, level=level, published=due)
        late = ReportFacts(agency="某机关", year=2024, sha256="b" * 64, kind=kind, level=level,
                           published=date.fromordinal(due.toordinal() + 1))
        assert late_publications([on_time]) == []
        assert [a.details["delay_days"] for a in late_publications([late])] == [1]


@pytest.mark.parametrize("field, good, bad", [("level", LEVELS, "city"), ("kind", KINDS, "bureau")])
def test_the_registry_accepts_exactly_these_values(field: str, good: tuple[str, ...], bad: str) -> None:
    from crawler.registry import Source

    entry = {"id": "x", "agency": "某某县人民政府", "region_code": "320829", "level": "county",
             "kind": "government", "family": "trs", "list_urls": ["http://example.gov.cn/"], "first_year": 2020}
    for value in good:
        assert getattr(Source.model_validate({**entry, field: value}), field) == value
    with pytest.raises(ValidationError):
        Source.model_validate({**entry, field: bad})


@pytest.mark.parametrize("short, full", [
    ("洪泽区", "淮安市洪泽区人民政府"), ("明山区卫健局", "本溪市明山区卫生健康局"), ("淮安市政府", "淮安市人民政府"),
    ("长春市卫健委", "长春市卫生健康委员会"), ("二郎街道办", "重庆市九龙坡区二郎街道办事处"),
    ("两城镇", "微山县两城镇人民政府"), ("瀍河区工信局", "洛阳市瀍河回族区工业和信息化局"), ("广东省", "广东省人民政府"),
])
def test_short_forms_of_a_name_are_the_same_agency(short: str, full: str) -> None:
    from report.agencies import same_agency

    assert same_agency(short, full) and same_agency(full, short)


@pytest.mark.parametrize("other, owner", [
    ("淮安市洪泽区人民政府", "淮安市人民政府"),     # a county on its city's column
    ("洪泽区教育局", "淮安市洪泽区人民政府"),       # a bureau on its government's column
    ("洪泽区", "洪泽区教育局"),                     # the district's report on a bureau's column
    ("两城镇人民政府", "微山县人民政府"),
])
def test_another_agency_is_not_the_column_owner(other: str, owner: str) -> None:
    from report.agencies import same_agency

    assert not same_agency(other, owner)


def test_only_names_that_end_like_an_agency_name_one() -> None:
    from report.agencies import looks_like_agency

    assert [looks_like_agency(n) for n in ("关于", "全文", "洪泽区", "卫健委", "某")] == [False, False, True, True, False]
