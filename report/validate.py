"""The validator: a report record → findings. Pure; the registry `RULES` lists every rule.

Hard rules (severity "error") are the identities the format itself prints, checked per
column, row or group so that a finding names the cells where it breaks. Soft rules
(severity "warning") flag what is suspicious but may be true. How printed-empty cells
count in an identity is explained in `report.rules.base`.
"""

from __future__ import annotations

from report.record import Finding, ReportRecord
from report.rules.base import Rule
from report.rules.domain import check_domain
from report.rules.identities import (
    check_blank_totals,
    check_t3_balance,
    check_t3_results,
    check_t3_rows,
    check_t4_sums,
)
from report.rules.prose import check_prose
from report.rules.soft import (
    check_carry_over,
    check_cells,
    check_empty_shell,
    check_format_year,
    check_rules_level,
    check_sections,
    check_stock,
)

RULES: tuple[Rule, ...] = (
    Rule("T3-BAL", "error", "表三 第一项加第二项之和等于第三项加第四项之和",
         "表三, per column: new + carried_over = result_total + carried_forward", check_t3_balance),
    Rule("T3-RES", "error", "表三 （七）总计等于各项办理结果之和",
         "表三, per column: result_total = every result row, （六） counted once in the form printed "
         "(single row or its three sub-rows; when both are printed the single row must equal the sub-rows)",
         check_t3_results),
    Rule("T3-ROW", "error", "表三 每行总计等于六类申请人之和",
         "表三, per row: total = the six applicant columns", check_t3_rows),
    Rule("T4-SUM", "error", "表四 每组总计等于结果维持、结果纠正、其他结果、尚未审结之和",
         "表四, per group: total = upheld + corrected + other + pending", check_t4_sums),
    Rule("DOM", "error", "单元格取值合法",
         "counts are non-negative integers, t2.fees.amount and amounts non-negative, 2019 change "
         "columns whole numbers of either sign; a printed cell holding text (增98, 0/0) is an error",
         check_domain),
    Rule("BLANK-TOTAL", "warning", "总计留空时由各项推出",
         "a total (表三 总计 row or column, 表四 总计) printed blank while its parts hold numbers: not a 0 "
         "the report printed, so no identity error; the finding gives the total derived from the parts",
         check_blank_totals),
    Rule("CARRY-OVER", "warning", "本年上年结转等于上年报告的结转下年度继续办理",
         "with the previous year's record of the same agency: t3.carried_over.* = its t3.carried_forward.*",
         check_carry_over),
    Rule("STOCK", "warning", "现行有效件数 = 上年现行有效 + 本年制发 − 本年废止",
         "with the previous year's record: t2.{rules,normative_docs}.in_force(Y) = in_force(Y−1) + issued(Y) − repealed(Y)",
         check_stock),
    Rule("FORMAT-YEAR", "warning", "报告格式与年度相符，且不混用两种格式",
         "the 2019 format for 2019–2020, the 2021 format from 2021 (2014 for 2014–2018); no cells that "
         "only the other format has", check_format_year),
    Rule("CELLS", "warning", "表格单元格齐全",
         "every cell of the report's format is in the record (a cell printed blank is there, as null); "
         "表三 （六） in the form printed. A missing row or table is a partial reading, which the "
         "identities cannot see when the row is all zeros", check_cells),
    Rule("SECTIONS", "warning", "六个部分齐全",
         "all six sections (一 总体情况 … 六 其他需要报告的事项) are present in a 2019/2021-format report",
         check_sections),
    Rule("EMPTY-SHELL", "warning", "不是空白模板",
         "the tables print at least one number (not the template published unfilled)", check_empty_shell),
    Rule("PROSE", "warning", "正文引用的数字与表格一致",
         "figures quoted in the text agree with the tables: 受理…申请N件 = t3.new.total, 行政复议N件 = "
         "t4.review.total, 行政诉讼N件 = t4.suit_direct.total + t4.suit_after_review.total", check_prose),
    Rule("RULES-LEVEL", "warning", "只有省级和设区的市级人民政府制定规章",
         "t2.rules.* non-zero only for provincial and prefecture (设区的市) governments (not the 2019 "
         "total_public, which counts rules published, superiors' included)", check_rules_level),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
# The rules that read the previous year's record: loading year Y re-checks them on Y+1.
CROSS_YEAR_RULES: frozenset[str] = frozenset({"CARRY-OVER", "STOCK"})


def validate(record: ReportRecord, previous: ReportRecord | None = None) -> list[Finding]:
    """Every finding of every rule for `record`; `previous` is the same agency's record for
    the year before, used by the rules that compare years (CROSS_YEAR_RULES)."""
    return [finding for rule in RULES for finding in _findings(rule, record, previous)]


def validate_across_years(record: ReportRecord, previous: ReportRecord | None) -> list[Finding]:
    """The findings of the CROSS_YEAR_RULES only (what changes when the previous year arrives)."""
    return [finding for rule in RULES if rule.id in CROSS_YEAR_RULES
            for finding in _findings(rule, record, previous)]


def _findings(rule: Rule, record: ReportRecord, previous: ReportRecord | None) -> list[Finding]:
    return [Finding(rule=rule.id, severity=rule.severity, cells=list(hit.cells), message=hit.message,
                    message_en=hit.message_en, **hit.extra) for hit in rule.check(record, previous)]


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.is_error for finding in findings)
