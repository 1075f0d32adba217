"""Every rule of the validator passes on a real report and fails on a located defect.

The records start from the hand-reviewed reference truth in tests/reference/ and change
one thing each, so every failure is the real figures of a real report plus one defect.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from report.catalogue import T3_COLUMNS
from report.record import Finding, ReportRecord
from report.rules.identities import T3_COLUMN_KEYS
from report.validate import RULES, RULES_BY_ID, has_errors, validate

REFERENCE = Path(__file__).parent / "reference"


def reference(name: str) -> ReportRecord:
    return ReportRecord.from_json((REFERENCE / f"{name}.record.json").read_bytes())


def hongze() -> ReportRecord:
    return reference("hongze-2024")


def chanhe() -> ReportRecord:
    return reference("chanhe-industry-2024")


def with_cells(record: ReportRecord, **changes: int | float | None) -> ReportRecord:
    """A copy with some cells reprinted; keys use __ for dots (t3__new__total)."""
    copy = record.model_copy(deep=True)
    for name, value in changes.items():
        key = name.replace("__", ".")
        copy.cells[key] = value
        copy.raw[key] = "" if value is None else str(value)
    return copy


def rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [finding for finding in findings if finding.rule == rule_id]


def the_previous_year(record: ReportRecord, **changes: int | float | None) -> ReportRecord:
    previous = with_cells(record, **changes)
    previous.year = (record.year or 0) - 1
    return previous


# ---------------------------------------------------------------- the reference reports
def test_hongze_balances_with_only_the_prose_warning() -> None:
    findings = validate(hongze())
    assert not has_errors(findings)
    assert [f.rule for f in findings] == ["PROSE"]


def test_chanhe_all_zeros_has_no_finding() -> None:
    assert validate(chanhe()) == []


# ---------------------------------------------------------------- T3-BAL
def test_t3_balance_fails_on_the_column_that_does_not_balance() -> None:
    record = with_cells(hongze(), t3__carried_forward__natural_person=3, t3__carried_forward__total=3)
    found = rule(validate(record), "T3-BAL")
    assert [f.severity for f in found] == ["error", "error"]
    assert {"t3.carried_forward.natural_person", "t3.new.natural_person"} <= set(found[0].cells)
    assert "t3.carried_forward.total" in found[1].cells
    assert "第一项加第二项之和为 95，但第三项加第四项之和为 98" in found[0].message
    assert "natural_person" in found[0].message_en


def test_t3_balance_passes_when_last_year_was_carried_over_and_handled() -> None:
    record = with_cells(hongze(), t3__carried_over__natural_person=5, t3__carried_over__total=5,
                        t3__disclosed__natural_person=55, t3__disclosed__total=55,
                        t3__result_total__natural_person=100, t3__result_total__total=100)
    assert validate(record) == validate(hongze())


# ---------------------------------------------------------------- T3-RES
def test_t3_results_fails_when_a_result_row_does_not_add_up() -> None:
    record = with_cells(hongze(), t3__withheld__security__natural_person=2, t3__withheld__security__total=2)
    found = rule(validate(record), "T3-RES")
    assert len(found) == 2
    assert all("t3.withheld.security.natural_person" in f.cells or "t3.withheld.security.total" in f.cells
               for f in found)
    assert "（七）总计 印为 95，但各项办理结果之和为 96" in found[0].message
    assert not rule(validate(record), "T3-ROW")


def test_t3_results_counts_the_single_other_row_of_hongze() -> None:
    record = with_cells(hongze(), t3__other__natural_person=4, t3__other__total=4)
    found = rule(validate(record), "T3-RES")
    assert found and "t3.other.natural_person" in found[0].cells


def test_t3_results_counts_the_split_other_rows_of_chanhe() -> None:
    record = with_cells(chanhe(), t3__other__fee_unpaid__research=1, t3__other__fee_unpaid__total=1)
    found = rule(validate(record), "T3-RES")
    assert {"t3.other.fee_unpaid.research", "t3.result_total.research"} <= set(found[0].cells)


def test_t3_results_does_not_count_other_twice_when_both_forms_are_printed() -> None:
    both = with_cells(chanhe(), **{f"t3__other__{c.key}": 0 for c in T3_COLUMNS})
    both = with_cells(both, t3__new__natural_person=2, t3__new__total=2,
                      t3__other__other__natural_person=2, t3__other__other__total=2,
                      t3__other__natural_person=2, t3__other__total=2,
                      t3__result_total__natural_person=2, t3__result_total__total=2)
    assert not has_errors(validate(both))

    subtotal_wrong = with_cells(both, t3__other__natural_person=3, t3__other__total=3)
    found = rule(validate(subtotal_wrong), "T3-RES")
    assert [f.cells[0] for f in found] == ["t3.other.natural_person", "t3.other.total"]
    assert "其下三项之和为 2" in found[0].message


# ---------------------------------------------------------------- T3-ROW
def test_t3_row_fails_on_the_row_whose_total_is_wrong() -> None:
    record = with_cells(hongze(), t3__disclosed__total=51)
    found = rule(validate(record), "T3-ROW")
    assert len(found) == 1
    assert found[0].cells[0] == "t3.disclosed.total"
    assert "t3.disclosed.natural_person" in found[0].cells
    assert "总计 印为 51，但六类申请人之和为 50" in found[0].message


def test_t3_row_passes_when_applicants_are_spread_over_columns() -> None:
    record = with_cells(hongze(), t3__disclosed__natural_person=45, t3__disclosed__commercial=5)
    assert not rule(validate(record), "T3-ROW")


# ---------------------------------------------------------------- T4-SUM
def test_t4_total_printed_zero_while_its_cells_sum_to_eleven() -> None:
    record = with_cells(hongze(), t4__review__upheld=5, t4__review__corrected=6, t4__review__total=0)
    found = rule(validate(record), "T4-SUM")
    assert len(found) == 1
    assert found[0].severity == "error"
    assert found[0].cells[0] == "t4.review.total"
    assert found[0].message == "表四 行政复议 总计 印为 0，但各项之和为 11"
    assert found[0].message_en == "t4 review total printed 0 but its parts sum to 11"


def test_t4_sum_passes_on_hongze_groups() -> None:
    record = hongze()
    assert (record.cells["t4.suit_after_review.upheld"], record.cells["t4.suit_after_review.other"],
            record.cells["t4.suit_after_review.total"]) == (2, 1, 3)
    assert not rule(validate(record), "T4-SUM")


# ---------------------------------------------------------------- empty cells in identities
def test_blank_cells_count_as_zero_when_the_identity_holds_numbers() -> None:
    blank_row = with_cells(hongze(), **{f"t3__carried_forward__{c.key}": None for c in T3_COLUMNS})
    assert not has_errors(validate(blank_row))

    zero_total = with_cells(hongze(), t4__review__total=0)
    found = rule(validate(zero_total), "T4-SUM")
    assert found and "印为 0，但各项之和为 2" in found[0].message


# ---------------------------------------------------------------- blank totals are not zeros
def a_2019_report() -> ReportRecord:
    """A provincial government's 2019-format report (the shape of 上海市人民政府办公厅 2019)."""
    from sandbox.corpus import load_corpus

    [entry] = [e for e in load_corpus() if e.name == "guangdong-2020-reportlab-pdf"]
    assert entry.truth.record is not None and entry.truth.record.format == "2019"
    return entry.truth.record


def test_a_total_printed_blank_beside_its_parts_is_a_warning_not_a_zero() -> None:
    blank_total = with_cells(hongze(), t4__review__total=None)
    findings = validate(blank_total)
    assert not has_errors(findings)
    [found] = rule(findings, "BLANK-TOTAL")
    assert found.severity == "warning"
    assert found.cells[0] == "t4.review.total"
    assert found.derived == {"t4.review.total": 2}
    assert "印为 0" not in found.message and "推出" in found.message


def test_a_2019_report_printing_its_whole_total_column_blank_is_not_quarantined() -> None:
    record = a_2019_report()
    totals = {key: value for key, value in record.cells.items() if key.startswith("t3.") and key.endswith(".total")}
    assert sum(1 for value in totals.values() if value) >= 12
    blank = with_cells(record, **{key.replace(".", "__"): None for key in totals})
    findings = validate(blank)
    assert not has_errors(findings), [f.message for f in findings if f.is_error]
    assert not [f for f in findings if "印为 0" in f.message]
    [found] = rule(findings, "BLANK-TOTAL")
    # Every row total is derived from the six applicant columns, and equals what was printed.
    assert {key: value for key, value in found.derived.items() if key in totals} == \
        {key: value for key, value in totals.items() if value}


def test_a_blank_total_does_not_hide_parts_that_disagree() -> None:
    record = a_2019_report()
    totals = [key for key in record.cells if key.startswith("t3.") and key.endswith(".total")]
    blank = with_cells(record, **{key.replace(".", "__"): None for key in totals})
    broken = with_cells(blank, t3__new__natural_person=(blank.cells["t3.new.natural_person"] or 0) + 5)
    assert [f.cells[:2] for f in validate(broken) if f.is_error] == \
        [["t3.new.natural_person", "t3.carried_over.natural_person"]]


def test_prose_compares_a_blank_total_as_derived_and_says_so() -> None:
    record = with_cells(hongze(), t3__new__total=None)
    record.sections["overview"] = "全年共受理政府信息公开申请96件。"
    [found] = rule(validate(record), "PROSE")
    assert "推出 95" in found.message
    record.sections["overview"] = "全年共受理政府信息公开申请95件。"
    assert not rule(validate(record), "PROSE")


def test_identities_of_unprinted_or_blank_tables_are_skipped() -> None:
    record = hongze()
    no_t4 = record.model_copy(deep=True)
    no_t4.cells = {k: v for k, v in record.cells.items() if not k.startswith("t4.")}
    assert not rule(validate(no_t4), "T4-SUM")

    blank_t4 = with_cells(record, **{k.replace(".", "__"): None for k in record.cells if k.startswith("t4.")})
    assert not rule(validate(blank_t4), "T4-SUM")


def test_a_cell_printing_text_is_one_dom_error_not_an_identity_cascade() -> None:
    record = hongze().model_copy(deep=True)
    record.cells["t3.new.natural_person"] = None
    record.raw["t3.new.natural_person"] = "增98"
    assert [(f.rule, f.cells) for f in validate(record) if f.is_error] == [("DOM", ["t3.new.natural_person"])]


# ---------------------------------------------------------------- DOM
@pytest.mark.parametrize(("key", "value"), [
    ("t3.new.commercial", -1),
    ("t4.review.pending", 2.5),
    ("t2.fees.amount", -7545),
    ("t2.licensing.decisions", -9487),
])
def test_dom_rejects_negative_and_fractional_counts(key: str, value: int | float) -> None:
    record = with_cells(hongze(), **{key.replace(".", "__"): value})
    found = rule(validate(record), "DOM")
    assert [f.cells for f in found] == [[key]]
    assert found[0].severity == "error"


@pytest.mark.parametrize("printed", ["增98", "0/0", "12 件"])
def test_dom_rejects_text_printed_in_a_number_cell(printed: str) -> None:
    record = hongze().model_copy(deep=True)
    record.cells["t2.penalty.decisions"] = None
    record.raw["t2.penalty.decisions"] = printed
    found = rule(validate(record), "DOM")
    assert [f.cells for f in found] == [["t2.penalty.decisions"]]
    assert printed in found[0].message


@pytest.mark.parametrize("printed", ["", "/", "—", "-", "无"])
def test_dom_accepts_printed_empty_markers(printed: str) -> None:
    record = hongze().model_copy(deep=True)
    record.cells["t2.penalty.decisions"] = None
    record.raw["t2.penalty.decisions"] = printed
    assert not rule(validate(record), "DOM")


def test_dom_accepts_a_decimal_fee_and_signed_2019_changes() -> None:
    assert not rule(validate(with_cells(hongze(), t2__fees__amount=12.5)), "DOM")
    record_2019 = ReportRecord(format="2019", year=2020, cells={"t2.licensing.change": -3, "t2.fees.change": 98},
                               raw={"t2.licensing.change": "减3", "t2.fees.change": "增98"})
    assert not rule(validate(record_2019), "DOM")
    fractional = record_2019.model_copy(update={"cells": {"t2.licensing.change": -2.5}})
    assert rule(validate(fractional), "DOM")[0].cells == ["t2.licensing.change"]


# ---------------------------------------------------------------- CARRY-OVER
def test_carry_over_matches_last_years_carried_forward() -> None:
    record = with_cells(hongze(), t3__carried_over__natural_person=4, t3__carried_over__total=4,
                        t3__new__natural_person=91, t3__new__total=91)
    matching = the_previous_year(record, t3__carried_forward__natural_person=4, t3__carried_forward__total=4)
    assert not rule(validate(record, matching), "CARRY-OVER")

    found = rule(validate(record, the_previous_year(hongze())), "CARRY-OVER")
    assert [f.cells for f in found] == [["t3.carried_over.natural_person"], ["t3.carried_over.total"]]
    assert found[0].severity == "warning"
    assert "2023年报告的结转下年度继续办理为 0" in found[0].message


def test_carry_over_ignores_another_agencys_record() -> None:
    other = the_previous_year(hongze(), t3__carried_forward__natural_person=9)
    other.agency = "淮安市淮阴区人民政府"
    assert not rule(validate(hongze(), other), "CARRY-OVER")


# ---------------------------------------------------------------- STOCK
def test_stock_of_normative_documents() -> None:
    record = hongze()  # 行政规范性文件: issued 3, repealed 0, in force 8
    assert not rule(validate(record, the_previous_year(record, t2__normative_docs__in_force=5)), "STOCK")
    found = rule(validate(record, the_previous_year(record, t2__normative_docs__in_force=7)), "STOCK")
    assert len(found) == 1
    assert found[0].cells == ["t2.normative_docs.in_force", "t2.normative_docs.issued", "t2.normative_docs.repealed"]
    assert "= 10" in found[0].message


# ---------------------------------------------------------------- FORMAT-YEAR
def test_format_year_accepts_the_2021_format_for_2024() -> None:
    assert not rule(validate(hongze()), "FORMAT-YEAR")


@pytest.mark.parametrize(("year", "format"), [(2024, "2019"), (2020, "2021"), (2017, "2021")])
def test_format_year_flags_a_format_not_in_force(year: int, format: str) -> None:
    record = hongze().model_copy(update={"year": year, "format": format})
    found = rule(validate(record), "FORMAT-YEAR")
    assert found and found[0].severity == "warning"
    assert str(year) in found[0].message


def test_format_year_flags_2019_columns_in_a_2021_format_report() -> None:
    record = with_cells(hongze(), t2__licensing__prev_items=12, t2__licensing__change=3)
    record.year = 2022
    found = rule(validate(record), "FORMAT-YEAR")
    assert len(found) == 1
    assert set(found[0].cells) == {"t2.licensing.prev_items", "t2.licensing.change"}


# ---------------------------------------------------------------- SECTIONS
def test_sections_flags_a_missing_section() -> None:
    assert not rule(validate(hongze()), "SECTIONS")
    record = hongze()
    del record.sections["problems"]
    found = rule(validate(record), "SECTIONS")
    assert len(found) == 1
    assert "五、存在的主要问题及改进情况" in found[0].message
    assert found[0].model_extra == {"sections": ["problems"]}


# ---------------------------------------------------------------- EMPTY-SHELL
def test_empty_shell_flags_a_template_published_unfilled() -> None:
    assert not rule(validate(chanhe()), "EMPTY-SHELL")  # all zeros is a filled-in report
    record = chanhe()
    shell = with_cells(record, **{k.replace(".", "__"): None for k in record.cells})
    assert [f.rule for f in validate(shell)] == ["EMPTY-SHELL"]

    nothing_printed = record.model_copy(update={"cells": {}, "raw": {}})
    assert [f.rule for f in validate(nothing_printed)] == ["EMPTY-SHELL"]


# ---------------------------------------------------------------- PROSE
def test_prose_of_hongze_quotes_17_applications_while_the_table_prints_95() -> None:
    found = rule(validate(hongze()), "PROSE")
    assert len(found) == 1
    assert found[0].cells == ["t3.new.total"]
    assert "17" in found[0].message and "95" in found[0].message


def test_prose_agreeing_with_the_tables_passes() -> None:
    record = hongze()
    record.sections["overview"] = record.sections["overview"].replace("申请 17 件", "申请 95 件")
    record.sections["review_litigation"] = "本年度发生政府信息公开行政复议 2 件，行政诉讼 4 件。"
    assert not rule(validate(record), "PROSE")


def test_prose_quoting_other_review_and_suit_figures_fails() -> None:
    record = chanhe()
    record.sections["review_litigation"] = "本年度因政府信息公开引起行政复议１件、行政诉讼3起。"
    found = rule(validate(record), "PROSE")
    assert [f.cells for f in found] == [["t4.review.total"], ["t4.suit_direct.total", "t4.suit_after_review.total"]]


# ---------------------------------------------------------------- RULES-LEVEL
def test_rules_level_only_prefecture_and_provincial_governments_make_rules() -> None:
    county = with_cells(hongze(), t2__rules__issued=2, t2__rules__in_force=2)
    found = rule(validate(county), "RULES-LEVEL")
    assert found and found[0].cells == ["t2.rules.in_force", "t2.rules.issued"]

    prefecture = county.model_copy(update={"agency_level": "prefecture"})
    assert not rule(validate(prefecture), "RULES-LEVEL")

    department = with_cells(chanhe(), t2__rules__in_force=1)
    department.agency_level = "prefecture"
    assert rule(validate(department), "RULES-LEVEL")


def test_rules_level_passes_with_zero_rules_or_unknown_level() -> None:
    assert not rule(validate(hongze()), "RULES-LEVEL")
    unknown = with_cells(hongze(), t2__rules__issued=2).model_copy(update={"agency_level": None, "agency_kind": None})
    assert not rule(validate(unknown), "RULES-LEVEL")


# ---------------------------------------------------------------- CELLS
def without(record: ReportRecord, prefix: str) -> ReportRecord:
    copy = record.model_copy(deep=True)
    for key in [k for k in copy.cells if k.startswith(prefix)]:
        del copy.cells[key]
        copy.raw.pop(key, None)
    return copy


def test_a_row_of_zeros_the_reader_missed_is_a_cells_warning_the_identities_cannot_give() -> None:
    record = hongze()
    assert all(record.cells[f"t3.withheld.state_secret.{c}"] == 0 for c in T3_COLUMN_KEYS)
    partial = without(record, "t3.withheld.state_secret.")
    findings = validate(partial)
    assert not [f for f in findings if f.severity == "error"]       # the sums still hold without it
    (missing,) = rule(findings, "CELLS")
    assert missing.severity == "warning"
    assert sorted(missing.cells) == sorted(f"t3.withheld.state_secret.{c}" for c in T3_COLUMN_KEYS)
    assert "1 rows" in missing.message_en or "1 行" in missing.message


def test_cells_counts_the_other_row_in_the_form_printed_and_a_missing_table() -> None:
    record = hongze()
    assert not rule(validate(record), "CELLS")
    single = without(record, "t3.other.")
    single.cells.update({f"t3.other.{c}": 0 for c in T3_COLUMN_KEYS})   # （六） printed as one row
    assert not rule(validate(single), "CELLS")
    (no_t4,) = rule(validate(without(record, "t4.")), "CELLS")
    assert all(key.startswith("t4.") for key in no_t4.cells) and len(no_t4.cells) == 15
    blank = with_cells(record, t3__new__total=None)                       # printed blank: still there
    assert not rule(validate(blank), "CELLS")


# ---------------------------------------------------------------- the registry
def test_the_registry_lists_every_rule_once_with_its_severity() -> None:
    assert len(RULES_BY_ID) == len(RULES)
    hard = {r.id for r in RULES if r.severity == "error"}
    soft = {r.id for r in RULES if r.severity == "warning"}
    assert hard == {"T3-BAL", "T3-RES", "T3-ROW", "T4-SUM", "DOM"}
    assert soft == {"BLANK-TOTAL", "CARRY-OVER", "STOCK", "FORMAT-YEAR", "CELLS", "SECTIONS", "EMPTY-SHELL", "PROSE",
                    "RULES-LEVEL"}
    assert all(r.title and r.description for r in RULES)


def test_validate_is_pure() -> None:
    record = hongze()
    before = record.model_dump()
    validate(record, the_previous_year(record))
    assert record.model_dump() == before


def test_the_documented_rules_table_lists_the_registry() -> None:
    page = (Path(__file__).parents[1] / "docs" / "report-model.md").read_text(encoding="utf-8")
    table = page[page.index("| rule | severity | what it checks |"):]
    section = table[:table.find("\n\n") % (len(table) + 1)]
    documented = {line.split("|")[1].strip().strip("`"): line.split("|")[2].strip()
                  for line in section.splitlines() if line.startswith("| `")}
    assert documented == {r.id: r.severity for r in RULES}


@pytest.mark.parametrize(("text", "quoted"), [
    ("全年共受理政府信息公开申请95件，均按时答复。", True),
    ("本年度共收到政府信息公开申请共计95件。", True),
    ("受理依申请公开95件。", True),
    ("新收政府信息公开申请９５件，上年结转0件。", True),
    ("受理政府信息公开申请 12 件。", False),
    ("受理申请数量较上年增加12件。", None),
    ("未收到政府信息公开申请。", None),
])
def test_prose_phrasings_of_the_applications_figure(text: str, quoted: bool | None) -> None:
    record = hongze()
    record.sections = {key: "" for key in record.sections} | {"overview": text}
    found = rule(validate(record), "PROSE")
    if quoted is None:
        assert found == []  # no figure quoted: nothing to compare
    else:
        assert (found == []) is quoted


@pytest.mark.parametrize(("text", "rules"), [
    ("行政复议2件，行政诉讼4件。", []),
    ("提起行政复议2件，其中维持1件；行政诉讼案件4起。", []),
    ("未发生政府信息公开行政复议和行政诉讼案件。", []),
    ("行政复议和行政诉讼0件。", ["t4.suit_direct.total"]),
    ("行政复议3件。", ["t4.review.total"]),
])
def test_prose_phrasings_of_review_and_suits(text: str, rules: list[str]) -> None:
    record = hongze()
    record.sections = {key: "" for key in record.sections} | {"review_litigation": text}
    assert [f.cells[0] for f in rule(validate(record), "PROSE")] == rules


def test_prose_matching_the_parts_of_a_broken_total_leaves_it_to_t4_sum() -> None:
    record = with_cells(hongze(), t4__review__upheld=5, t4__review__corrected=6, t4__review__total=0)
    record.sections["review_litigation"] = "本年度因政府信息公开引起行政复议11件、行政诉讼4件。"
    findings = validate(record)
    assert [f.cells[0] for f in findings if f.rule in ("T4-SUM", "PROSE")] == ["t4.review.total", "t3.new.total"]
    record.sections["review_litigation"] = "本年度因政府信息公开引起行政复议12件、行政诉讼4件。"
    assert "t4.review.total" in [f.cells[0] for f in rule(validate(record), "PROSE")]


def test_rules_level_in_the_2019_format_looks_at_rules_made_not_rules_published() -> None:
    county_2020 = ReportRecord(format="2019", year=2020, agency_level="county", agency_kind="government",
                               cells={"t2.rules.made": 0, "t2.rules.published": 0, "t2.rules.total_public": 37})
    assert not rule(validate(county_2020), "RULES-LEVEL")
    county_2020.cells["t2.rules.made"] = 2
    assert rule(validate(county_2020), "RULES-LEVEL")[0].cells == ["t2.rules.made"]
