"""The report's printed tables as grids of spanned cells, shared by the HTML and office renderers.

A `Grid` is a list of rows as HTML writes them: cells covered by another cell's
rowspan/colspan are absent. `place()` turns it into absolute positions for the
Word and Excel writers. The layouts follow the official templates (2021:
国办公开办函〔2021〕30号, 2019: 〔2019〕60号): 表三's 法人或其他组织 spanning header and
vertical group labels, 表四's two-level header. Number cells print `record.raw`,
so a document prints exactly what its truth says (text such as 增98 included).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from report.catalogue import T3_COLUMNS, T4_COLUMNS, T4_ROWS
from report.record import ReportRecord

T3_CHECK_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


@dataclass
class Cell:
    text: str = ""
    rowspan: int = 1
    colspan: int = 1
    header: bool = False
    key: str | None = None  # the canonical key of a number cell (never printed)


@dataclass
class Grid:
    caption: str
    rows: list[list[Cell]] = field(default_factory=list)

    @property
    def width(self) -> int:
        return sum(cell.colspan for cell in self.rows[0]) if self.rows else 0


def _label(text: str, rowspan: int = 1, colspan: int = 1) -> Cell:
    return Cell(text, rowspan, colspan, header=True)


def _value(record: ReportRecord, key: str, colspan: int = 1) -> Cell:
    return Cell(record.raw.get(key, ""), colspan=colspan, key=key)


def t2_layout(record: ReportRecord) -> str:
    """Which 表二 the record prints: "2019" columns or "2021" ones."""
    return "2019" if "t2.rules.made" in record.cells else "2021"


def t3_other_rows(record: ReportRecord) -> str:
    return "single" if "t3.other.total" in record.cells else "split"


# ---------------------------------------------------------------- 表二
def _block(caption: str, columns: list[tuple[str, int]], rows: list[tuple[str, list[tuple[str, int]]]],
           record: ReportRecord) -> list[list[Cell]]:
    """One 第二十条第（N）项 block: heading row, column labels, one row per item."""
    out = [[_label(caption, colspan=4)], [_label("信息内容"), *(_label(t, colspan=s) for t, s in columns)]]
    for label, keys in rows:
        out.append([_label(label), *(_value(record, k, s) for k, s in keys)])
    return out


def table_two_blocks(record: ReportRecord, amount_unit: str = "万元") -> list[list[list[Cell]]]:
    """表二's sub-tables, each a list of 4-column rows; amount_unit labels the 2019 采购总金额."""
    if t2_layout(record) == "2021":
        stock = [("本年制发件数", 1), ("本年废止件数", 1), ("现行有效件数", 1)]
        return [
            _block("第二十条第（一）项", stock, [
                ("规章", [(f"t2.rules.{c}", 1) for c in ("issued", "repealed", "in_force")]),
                ("行政规范性文件", [(f"t2.normative_docs.{c}", 1) for c in ("issued", "repealed", "in_force")]),
            ], record),
            _block("第二十条第（五）项", [("本年处理决定数量", 3)], [("行政许可", [("t2.licensing.decisions", 3)])], record),
            _block("第二十条第（六）项", [("本年处理决定数量", 3)], [
                ("行政处罚", [("t2.penalty.decisions", 3)]), ("行政强制", [("t2.coercion.decisions", 3)])], record),
            _block("第二十条第（八）项", [("本年收费金额（单位：万元）", 3)],
                   [("行政事业性收费", [("t2.fees.amount", 3)])], record),
        ]
    made = [("本年新制作数量", 1), ("本年新公开数量", 1), ("对外公开总数量", 1)]
    items = [("上一年项目数量", 1), ("本年增/减", 1), ("处理决定数量", 1)]

    def three(row: str, columns: tuple[str, ...]) -> list[tuple[str, int]]:
        return [(f"t2.{row}.{c}", 1) for c in columns]

    item_columns = ("prev_items", "change", "decisions")
    return [
        _block("第二十条第（一）项", made, [
            ("规章", three("rules", ("made", "published", "total_public"))),
            ("规范性文件", three("normative_docs", ("made", "published", "total_public")))], record),
        _block("第二十条第（五）项", items, [
            ("行政许可", three("licensing", item_columns)),
            ("其他对外管理服务事项", three("other_services", item_columns))], record),
        _block("第二十条第（六）项", items, [
            ("行政处罚", three("penalty", item_columns)), ("行政强制", three("coercion", item_columns))], record),
        _block("第二十条第（八）项", [("上一年项目数量", 1), ("本年增/减", 2)],
               [("行政事业性收费", [("t2.fees.prev_items", 1), ("t2.fees.change", 2)])], record),
        _block("第二十条第（九）项", [("采购项目数量", 1), (f"采购总金额（{amount_unit}）", 2)],
               [("政府集中采购", [("t2.procurement.items", 1), ("t2.procurement.amount", 2)])], record),
    ]


def table_two(record: ReportRecord, amount_unit: str = "万元") -> Grid:
    return Grid("表二", [row for block in table_two_blocks(record, amount_unit) for row in block])


# ---------------------------------------------------------------- 表三
_T3_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("（三）不予公开", (
        ("withheld.state_secret", "1.属于国家秘密"), ("withheld.prohibited", "2.其他法律行政法规禁止公开"),
        ("withheld.security", "3.危及“三安全一稳定”"), ("withheld.third_party", "4.保护第三方合法权益"),
        ("withheld.internal", "5.属于三类内部事务信息"), ("withheld.process", "6.属于四类过程性信息"),
        ("withheld.enforcement", "7.属于行政执法案卷"), ("withheld.inquiry", "8.属于行政查询事项"))),
    ("（四）无法提供", (
        ("unavailable.not_held", "1.本机关不掌握相关政府信息"),
        ("unavailable.needs_creation", "2.没有现成信息需要另行制作"),
        ("unavailable.unclear", "3.补正后申请内容仍不明确"))),
    ("（五）不予处理", (
        ("not_processed.petition", "1.信访举报投诉类申请"), ("not_processed.duplicate", "2.重复申请"),
        ("not_processed.publication", "3.要求提供公开出版物"), ("not_processed.excessive", "4.无正当理由大量反复申请"),
        ("not_processed.confirmation", "5.要求行政机关确认或重新出具已获取信息"))),
)
_T3_OTHER_SPLIT = (
    ("other.no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other.fee_unpaid", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other.other", "3.其他"),
)
T3_HEADER_LABELS = {"commercial": "商业\n企业", "research": "科研\n机构", "social_welfare": "社会公益组织",
                    "legal_service": "法律服务机构", "other_org": "其他"}


def _t3_values(record: ReportRecord, row: str) -> list[Cell]:
    return [_value(record, f"t3.{row}.{column.key}") for column in T3_COLUMNS]


def table_three(record: ReportRecord, header_breaks: bool = True, short_header: bool = False) -> Grid:
    """表三: 3 label columns and 7 number columns, as in the official template (or, with
    short_header, without the 勾稽关系 note and the 申请人情况 row, as many sites print it)."""
    def head(key: str) -> str:
        text = T3_HEADER_LABELS[key]
        return text if header_breaks else text.replace("\n", "")

    applicants = [_label("自然人", rowspan=2), _label("法人或其他组织", colspan=5), _label("总计", rowspan=2)]
    organisations = [_label(head(key)) for key in ("commercial", "research", "social_welfare", "legal_service",
                                                   "other_org")]
    if short_header:
        rows: list[list[Cell]] = [[_label("", rowspan=2, colspan=3), *applicants], organisations]
    else:
        rows = [[_label(T3_CHECK_NOTE, rowspan=3, colspan=3), _label("申请人情况", colspan=7)], applicants,
                organisations]
    rows += [
        [_label("一、本年新收政府信息公开申请数量", colspan=3), *_t3_values(record, "new")],
        [_label("二、上年结转政府信息公开申请数量", colspan=3), *_t3_values(record, "carried_over")],
    ]
    results: list[list[Cell]] = [
        [_label("（一）予以公开", colspan=2), *_t3_values(record, "disclosed")],
        [_label("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", colspan=2),
         *_t3_values(record, "partly_disclosed")],
    ]
    groups = list(_T3_GROUPS)
    if t3_other_rows(record) == "split":
        groups.append(("（六）其他处理", _T3_OTHER_SPLIT))
    for group, members in groups:
        for index, (key, label) in enumerate(members):
            lead = [_label(group, rowspan=len(members))] if index == 0 else []
            results.append([*lead, _label(label), *_t3_values(record, key)])
    if t3_other_rows(record) == "single":
        results.append([_label("（六）其他处理", colspan=2), *_t3_values(record, "other")])
    results.append([_label("（七）总计", colspan=2), *_t3_values(record, "result_total")])
    results[0].insert(0, _label("三、本年度办理结果", rowspan=len(results)))
    rows += results
    rows.append([_label("四、结转下年度继续办理", colspan=3), *_t3_values(record, "carried_forward")])
    return Grid("表三", rows)


# ---------------------------------------------------------------- 表四
T4_HEADER_LABELS = {"upheld": "结果\n维持", "corrected": "结果\n纠正", "other": "其他\n结果",
                    "pending": "尚未\n审结", "total": "总计"}


def table_four(record: ReportRecord) -> Grid:
    columns = [T4_HEADER_LABELS[c.key] for c in T4_COLUMNS]
    return Grid("表四", [
        [_label("行政复议", colspan=5), _label("行政诉讼", colspan=10)],
        [*(_label(text, rowspan=2) for text in columns), _label("未经复议直接起诉", colspan=5),
         _label("复议后起诉", colspan=5)],
        [_label(text) for text in columns * 2],
        [_value(record, f"t4.{row.key}.{column.key}") for row in T4_ROWS for column in T4_COLUMNS],
    ])


# ---------------------------------------------------------------- geometry
@dataclass(frozen=True)
class Placed:
    row: int
    column: int
    cell: Cell


def place(grid: Grid) -> list[Placed]:
    """Absolute (row, column) of every cell, resolving rowspans as a browser does."""
    taken: set[tuple[int, int]] = set()
    placed = []
    for r, row in enumerate(grid.rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append(Placed(r, c, cell))
            taken.update((r + dr, c + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan))
            c += cell.colspan
    return placed


def split_rows(grid: Grid, at: int) -> tuple[Grid, Grid]:
    """Cut a grid before row `at`, as a page break cuts a table: spans are clipped and the
    continued part of a cut label cell is left empty (Word does not repeat it)."""
    top: dict[int, list[tuple[int, Cell]]] = {}
    bottom: dict[int, list[tuple[int, Cell]]] = {}
    for p in place(grid):
        cell, end = p.cell, p.row + p.cell.rowspan
        if p.row < at:
            clipped = Cell(cell.text, min(end, at) - p.row, cell.colspan, cell.header, cell.key)
            top.setdefault(p.row, []).append((p.column, clipped))
            if end > at:
                bottom.setdefault(at, []).append((p.column, Cell("", end - at, cell.colspan, cell.header)))
        else:
            bottom.setdefault(p.row, []).append((p.column, cell))

    def rows(by_row: dict[int, list[tuple[int, Cell]]]) -> list[list[Cell]]:
        return [[cell for _, cell in sorted(by_row[r], key=lambda item: item[0])] for r in sorted(by_row)]

    return Grid(grid.caption, rows(top)), Grid(grid.caption + "（续）", rows(bottom))
