"""Random but consistent report figures for a seed: the truth a generated document prints.

Every identity of the format holds (T3-BAL, T3-RES, T3-ROW, T4-SUM); defects are
injected deliberately and named, so the validator's expected rules are known.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from report.agencies import RULE_MAKING_LEVELS
from report.catalogue import T3_APPLICANT_COLUMNS, T4_COLUMNS, T4_ROWS
from report.record import CellValue, ReportFormat, ReportRecord

SECTION_TEXT = {
    "overview": "{year}年，{agency}坚持以习近平新时代中国特色社会主义思想为指导，全面推进政务公开工作。"
                "全年主动公开政府信息{proactive}条，受理政府信息公开申请{new}件。",
    "proactive": "主动公开政府信息情况见下表。",
    "applications": "收到和处理政府信息公开申请情况见下表。",
    "review_litigation": "本年度因政府信息公开引起行政复议{review}件、行政诉讼{suits}件。",
    "problems": "一是公开内容的全面性还需提升；二是解读形式还不够丰富。下一步将持续加强培训，规范办理流程。",
    "other": "本年度未收取信息处理费。",
}
T3_RESULT_SPLIT = (
    "disclosed", "partly_disclosed",
    "withheld.state_secret", "withheld.prohibited", "withheld.security", "withheld.third_party",
    "withheld.internal", "withheld.process", "withheld.enforcement", "withheld.inquiry",
    "unavailable.not_held", "unavailable.needs_creation", "unavailable.unclear",
    "not_processed.petition", "not_processed.duplicate", "not_processed.publication",
    "not_processed.excessive", "not_processed.confirmation",
)


@dataclass
class Figures:
    """A generated report: the record plus what the generator did to it."""

    record: ReportRecord
    expected_rules: list[str] = field(default_factory=list)
    variant: str = "clean"


def generate(seed: int, *, agency: str, year: int, format: ReportFormat = "2021", other_rows: str = "split",
             busy: float = 1.0, level: str = "county", agency_kind: str = "government") -> Figures:
    """Consistent figures for one report.

    other_rows: "split" prints （六） as three rows, "single" as one row (2019 and some later reports).
    busy: scales how many applications the agency gets.
    """
    rng = random.Random(seed)
    cells: dict[str, CellValue | float] = {}
    cells.update(_table_two(rng, format, level, agency_kind))
    cells.update(_table_three(rng, other_rows if format == "2021" else "single", busy))
    cells.update(_table_four(rng))
    title = f"{agency}{year}年政府信息公开工作年度报告"
    sections = {key: text.format(
        year=year, agency=agency, proactive=rng.randint(50, 5000), new=cells["t3.new.total"],
        review=cells["t4.review.total"], suits=int(cells["t4.suit_direct.total"] or 0) + int(cells["t4.suit_after_review.total"] or 0),
    ) for key, text in SECTION_TEXT.items()}
    record = ReportRecord(agency=agency, year=year, format=format, title=title, cells=_exact(cells),
                          raw={k: printed(v) for k, v in cells.items()}, sections=sections,
                          agency_level=level, agency_kind=agency_kind)
    return Figures(record)


def _exact(cells: dict[str, CellValue | float]) -> dict[str, CellValue]:
    """The drawn figures as a record holds them: a float's shortest decimal, exactly."""
    return {key: Decimal(repr(value)) if isinstance(value, float) else value for key, value in cells.items()}


def printed(value: CellValue | float) -> str:
    """The string a document prints for a value: exact, no exponent, no trailing zeros."""
    if value is None:
        return ""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if number != number.to_integral_value():
        return f"{number:.6f}".rstrip("0").rstrip(".")
    return str(int(number))


def _table_two(rng: random.Random, format: str, level: str, agency_kind: str) -> dict[str, CellValue | float]:
    may_make_rules = agency_kind == "government" and level in RULE_MAKING_LEVELS
    cells: dict[str, CellValue | float] = {}
    if format == "2021":
        for row in ("rules", "normative_docs"):
            issued = rng.randint(0, 12) if row == "normative_docs" or may_make_rules else 0
            repealed = rng.randint(0, 4) if issued or row == "normative_docs" else 0
            cells[f"t2.{row}.issued"] = issued
            cells[f"t2.{row}.repealed"] = repealed
            cells[f"t2.{row}.in_force"] = issued + rng.randint(0, 60) if (row == "normative_docs" or may_make_rules) else 0
        cells["t2.licensing.decisions"] = rng.choice([0, rng.randint(1, 20000)])
        cells["t2.penalty.decisions"] = rng.randint(0, 3000)
        cells["t2.coercion.decisions"] = rng.randint(0, 200)
        cells["t2.fees.amount"] = rng.choice([0, round(rng.uniform(1, 9000), 2), rng.randint(1, 9000)])
    else:
        for row in ("rules", "normative_docs"):
            made = rng.randint(0, 10) if row == "normative_docs" or may_make_rules else 0
            cells[f"t2.{row}.made"] = made
            cells[f"t2.{row}.published"] = made
            cells[f"t2.{row}.total_public"] = made + rng.randint(0, 50)
        for row in ("licensing", "other_services", "penalty", "coercion"):
            cells[f"t2.{row}.prev_items"] = rng.randint(0, 300)
            cells[f"t2.{row}.change"] = rng.randint(-10, 10)
            cells[f"t2.{row}.decisions"] = rng.randint(0, 5000)
        cells["t2.fees.prev_items"] = rng.randint(0, 20)
        cells["t2.fees.change"] = rng.randint(-3, 3)
        cells["t2.procurement.items"] = rng.randint(0, 40)
        cells["t2.procurement.amount"] = round(rng.randint(0, 5_000_000) / 10000, 4)
    return cells


def _table_three(rng: random.Random, other_rows: str, busy: float) -> dict[str, CellValue | float]:
    results = list(T3_RESULT_SPLIT) + (["other.no_correction", "other.fee_unpaid", "other.other"]
                                        if other_rows == "split" else ["other"])
    rows = ["new", "carried_over", *results, "result_total", "carried_forward"]
    grid: dict[str, dict[str, int]] = {row: {} for row in rows}
    weights = [8, 3] + [1] * (len(results) - 2)
    for column in T3_APPLICANT_COLUMNS:
        scale = busy * (1.0 if column == "natural_person" else 0.15)
        new = int(rng.expovariate(1 / max(scale * 30, 0.01))) if rng.random() < 0.8 else 0
        carried_over = rng.randint(0, max(1, new // 10)) if new else 0
        carried_forward = rng.randint(0, (new + carried_over) // 8) if new + carried_over else 0
        handled = new + carried_over - carried_forward
        spread = _spread(rng, handled, weights)
        grid["new"][column] = new
        grid["carried_over"][column] = carried_over
        for row, count in zip(results, spread, strict=True):
            grid[row][column] = count
        grid["result_total"][column] = handled
        grid["carried_forward"][column] = carried_forward
    cells: dict[str, CellValue | float] = {}
    for row in rows:
        for column in T3_APPLICANT_COLUMNS:
            cells[f"t3.{row}.{column}"] = grid[row][column]
        cells[f"t3.{row}.total"] = sum(grid[row].values())
    return cells


def _spread(rng: random.Random, total: int, weights: list[int]) -> list[int]:
    counts = [0] * len(weights)
    for _ in range(total):
        counts[rng.choices(range(len(weights)), weights=weights)[0]] += 1
    return counts


def _table_four(rng: random.Random) -> dict[str, CellValue | float]:
    cells: dict[str, CellValue | float] = {}
    for row in T4_ROWS:
        parts = [rng.choice([0, 0, 0, rng.randint(1, 6)]) for _ in T4_COLUMNS[:-1]]
        for column, value in zip(T4_COLUMNS[:-1], parts, strict=True):
            cells[f"t4.{row.key}.{column.key}"] = value
        cells[f"t4.{row.key}.total"] = sum(parts)
    return cells


# ---------------------------------------------------------------- deliberate defects
def wrong_t4_total(figures: Figures, group: str = "review") -> Figures:
    """表四 总计 printed 0 while its cells sum to more (seen in the wild)."""
    key = f"t4.{group}.total"
    record = figures.record.model_copy(deep=True)
    parts = sum(int(record.cells[f"t4.{group}.{c.key}"] or 0) for c in T4_COLUMNS[:-1])
    if parts == 0:
        record.cells[f"t4.{group}.upheld"] = 11
        record.raw[f"t4.{group}.upheld"] = "11"
    record.cells[key] = 0
    record.raw[key] = "0"
    return Figures(record, [*figures.expected_rules, "T4-SUM"], "wrong-t4-total")


def text_in_cell(figures: Figures, key: str = "t3.new.commercial", text: str = "增98") -> Figures:
    record = figures.record.model_copy(deep=True)
    record.cells[key] = None
    record.raw[key] = text
    return Figures(record, [*figures.expected_rules, "DOM"], "text-in-cell")


def empty_shell(figures: Figures) -> Figures:
    """The template published with nothing filled in."""
    record = figures.record.model_copy(deep=True)
    record.cells = {key: None for key in record.cells}
    record.raw = {key: "" for key in record.cells}
    return Figures(record, [*figures.expected_rules, "EMPTY-SHELL"], "empty-shell")
