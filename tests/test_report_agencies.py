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
