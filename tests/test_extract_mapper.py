"""The one mapper on tricky rows: labels resolved by the catalogue, figures placed by
the column they sit under — never by their count."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from extract.mapper import Mapper, decide_format
from extract.model import Cell, Row

T3_HEADER = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]


def grid(texts: list[str | None], space: str = "g", start: int = 0) -> Row:
    """One gridded row; None leaves a column out (covered by a span above)."""
    cells = [Cell(t, float(start + i), float(start + i + 1)) for i, t in enumerate(texts) if t is not None]
    return Row(cells, 1, space, gridded=True)


def line(*parts: str) -> Row:
    return Row([Cell(p) for p in parts])


def words(*items: tuple[str, float, float]) -> Row:
    """An unruled line: words with their extent in points."""
    return Row([Cell(t, x0, x1) for t, x0, x1 in items], 1, "pdf")


def run(rows: list[Row]):
    return Mapper().feed(rows)


def t3_table(rows: list[list[str | None]], space: str = "g") -> list[Row]:
    return [line("三、收到和处理政府信息公开申请情况"), grid(["", "", *T3_HEADER], space)] + [grid(r, space) for r in rows]


def test_labels_with_typos_group_prefixes_and_frayed_enumerators_resolve() -> None:
    out = run(t3_table([
        ["（三）不予公开", "2.其他法律行政止公开", "1", "0", "0", "0", "0", "0", "1"],
        ["三、本年度办理结果", "（四）无法提供 1.本机关不掌握相关政府信息", "31", "0", "0", "0", "0", "0", "31"],
        # an enumerator （一）/（二） whose strokes a 1-bit scan broke into marks
        ["本年度办理结果", "（…--」予以公开", "31", "0", "10", "7", "2", "0", "50"],
        ["", "（．、卜部分公开（区分处理的，只计这一情形，不计其他情形)", "15", "0", "5", "5", "0", "0", "25"],
        # the opening bracket read as its look-alike too
        ["", "{“-）予以公开", "31", "0", "10", "7", "2", "0", "50"],
    ]))
    assert out.cells["t3.withheld.prohibited.natural_person"] == 1
    assert out.cells["t3.unavailable.not_held.total"] == 31
    assert out.cells["t3.disclosed.total"] == 50
    assert out.cells["t3.partly_disclosed.research"] == 5


def test_a_t2_heading_whose_numeral_came_with_a_stray_dash_opens_table_two() -> None:
    rows = [line("二、主动公开政府信息情况"), line("第二十条第（一-）项"),
            grid(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]), grid(["规章", "0", "1", "4"])]
    assert run(rows).cells["t2.rules.in_force"] == 4


def test_figures_go_by_column_not_by_count() -> None:
    """A ruled row whose boxes hold only some figures keeps every figure in its own column;
    the boxes without a figure are printed-empty (None)."""
    out = run(t3_table([["一、本年新收政府信息公开申请数量", None, "5", None, None, "2", None, None, "7"]]))
    assert out.cells["t3.new.natural_person"] == 5
    assert out.cells["t3.new.social_welfare"] == 2
    assert out.cells["t3.new.total"] == 7
    assert out.cells["t3.new.commercial"] is None and out.cells["t3.new.other_org"] is None


def test_printed_empty_cells_are_none_never_zero() -> None:
    out = run(t3_table([["二、上年结转政府信息公开申请数量", "", "/", "-", "—", "无", "", "0", ""]]))
    values = {k: v for k, v in out.cells.items() if k.startswith("t3.carried_over")}
    assert values["t3.carried_over.natural_person"] is None
    assert values["t3.carried_over.other_org"] == 0
    assert sum(v is None for v in values.values()) == 6


def test_text_in_a_number_cell_keeps_its_raw_string() -> None:
    out = run(t3_table([["一、本年新收政府信息公开申请数量", "", "3", "增98", "0", "0", "0", "0", "101"]]))
    assert out.cells["t3.new.commercial"] is None
    assert out.raw["t3.new.commercial"] == "增98"
    assert out.problems["t3.new.commercial"] == "text"


def test_single_other_row_versus_the_three_2021_rows() -> None:
    single = run(t3_table([["", "（六）其他处理", "0", "0", "0", "0", "0", "0", "0"]]))
    assert "t3.other.total" in single.cells and "t3.other.other.total" not in single.cells
    split = run(t3_table([
        ["（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "1", "0", "0", "0", "0", "0", "1"],
        ["", "3.其他", "2", "0", "0", "0", "0", "0", "2"],
    ]))
    assert split.cells["t3.other.no_correction.total"] == 1
    assert split.cells["t3.other.other.natural_person"] == 2
    assert "t3.other.total" not in split.cells


def test_table_three_continued_on_the_next_page_without_its_header() -> None:
    rows = t3_table([["（四）无法提供", "1.本机关不掌握相关政府信息", "31", "0", "0", "0", "0", "0", "31"]], space="pdf")
    rows.append(grid(["", "", "2.没有现成信息需要另行制作", "1", "0", "0", "0", "0", "0", "1"], space="pdf", start=-1))
    out = run(rows)
    assert out.cells["t3.unavailable.needs_creation.natural_person"] == 1
    assert out.cells["t3.unavailable.needs_creation.total"] == 1


def test_label_broken_over_rows_before_its_figures() -> None:
    """A row with a label and no figures, then figures with no label (hongze p.3-4)."""
    rows = t3_table([])
    rows += [grid(["", "（二）部分公开（区分处理的，只计这一情形，", None, None, None, None, None, None, None]),
             grid(["", "", "9", "0", "0", "0", "0", "0", "9"])]
    out = run(rows)
    assert out.cells["t3.partly_disclosed.natural_person"] == 9


def test_table_four_groups_from_spanning_header_cells() -> None:
    header_groups = Row([Cell("行政复议", 0, 5), Cell("行政诉讼", 5, 15)], 1, "t4", True)
    header_mid = Row([Cell("结果\n维持", 0, 1), Cell("结果\n纠正", 1, 2), Cell("其他\n结果", 2, 3), Cell("尚未\n审结", 3, 4),
                      Cell("总 计", 4, 5), Cell("未经复议直接起诉", 5, 10), Cell("复议后起诉", 10, 15)], 1, "t4", True)
    low = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2
    header_low = Row([Cell(t, 5 + i, 6 + i) for i, t in enumerate(low)], 1, "t4", True)
    figures = Row([Cell(str(v), i, i + 1) for i, v in enumerate([1, 1, 0, 0, 2, 1, 0, 0, 0, 1, 2, 0, 1, 0, 3])], 1, "t4", True)
    out = run([line("四、政府信息公开行政复议、行政诉讼情况"), header_groups, header_mid, header_low, figures])
    assert out.cells["t4.review.total"] == 2
    assert out.cells["t4.suit_direct.upheld"] == 1
    assert out.cells["t4.suit_after_review.other"] == 1
    assert out.cells["t4.suit_after_review.total"] == 3
    assert len([k for k in out.cells if k.startswith("t4.")]) == 15


def test_unruled_header_fragments_are_stacked_by_position() -> None:
    """商业企 / 业 on two lines under one column; figures placed under their header."""
    xs = [(300, 326), (332, 359), (364, 391), (397, 424), (429, 456), (467, 485), (499, 517)]
    rows = [line("三、收到和处理政府信息公开申请情况"),
            words(("法人或其他组织", 379, 442)),
            words(("自然人", 300, 326), ("总计", 499, 517)),
            words(("商业企", 332, 359), ("科研机", 364, 391), ("社会公", 397, 424), ("法律服", 429, 456)),
            words(("其他", 467, 485)),
            words(("业", 341, 350), ("构", 373, 382), ("益组织", 397, 424), ("务机构", 429, 456)),
            words(("一、本年新收政府信息公开申请数量", 73, 217),
                  *[(str(v), x0 + 8, x0 + 14) for v, (x0, _) in zip([7, 15, 73, 13, 74, 7, 189], xs, strict=True)])]
    out = run(rows)
    assert out.cells["t3.new.commercial"] == 15
    assert out.cells["t3.new.legal_service"] == 74
    assert out.cells["t3.new.total"] == 189


def test_text_layer_figures_that_wrap_onto_the_next_line() -> None:
    """chanhe: '0 0 0 0 0 0' then '0' on its own line."""
    rows = [line("三、收到和处理政府信息公开申请情况"), line("申请人情况"),
            line("（二）部分公开（区分处理的，只计这一情"), line("形，不计其他情形）"),
            line("1", "2", "3", "4", "5", "6"), line("21"),
            line("（三）不予公开"), line("1.属于国家秘密", "0", "0", "0", "0", "0", "0", "0")]
    out = run(rows)
    assert out.cells["t3.partly_disclosed.natural_person"] == 1
    assert out.cells["t3.partly_disclosed.total"] == 21
    assert out.cells["t3.withheld.state_secret.total"] == 0


def test_table_two_format_from_its_column_headers() -> None:
    rows = [line("二、主动公开政府信息情况"), grid(["第二十条第（一）项", None, None, None]),
            grid(["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"]),
            grid(["规章", "0", "0", "0"]), grid(["规范性文件", "3", "3", "12"]),
            grid(["第二十条第（八）项", None, None, None]),
            grid(["信息内容", "本年收费金额（单位：万元）", None, None]), grid(["行政事业性收费", "12.5", None, None])]
    out = run(rows)
    assert out.cells["t2.normative_docs.total_public"] == 12
    assert out.cells["t2.fees.amount"] == Decimal("12.5")
    assert "2019" in out.subtable_formats and "2021" in out.subtable_formats
    assert decide_format(out.subtable_formats, 2021, True) == "2021"
    assert decide_format(["2019", "2019"], 2021, True) == "2019"


def test_procurement_amount_printed_in_yuan_is_kept_in_wan() -> None:
    rows = [line("第二十条第（九）项"), grid(["信息内容", "采购项目数量", "采购总金额（元）"]),
            grid(["政府集中采购", "3", "251000"])]
    out = run(rows)
    assert out.cells["t2.procurement.amount"] == Decimal("25.1")   # exactly: the point moves, nothing rounds
    assert out.raw["t2.procurement.amount"] == "251000"


def test_sections_by_heading_variants_and_prose_kept_out_of_tables() -> None:
    rows = [line("某某局2024年政府信息公开工作年度报告"), line("一、总体情况"), line("全年受理申请 3 件。"),
            line("五、存在的主要问题和改进情况"), line("培训不足。"), line("六、其他需要报告的事项"), line("无")]
    out = run(rows)
    assert out.sections["overview"].replace(" ", "") == "全年受理申请3件。"
    assert out.sections["problems"] == "培训不足。"
    assert out.sections["other"] == "无"
    assert out.lead_lines == ["某某局2024年政府信息公开工作年度报告"]
    assert not out.cells


def test_a_heading_run_into_its_first_sentence_still_opens_its_section() -> None:
    out = run([line("一、总体情况。2024年，本局主动公开信息 30 条。"), line("六、其他需要报告的事项：无。")])
    assert out.sections["overview"].replace(" ", "") == "2024年，本局主动公开信息30条。"
    assert out.sections["other"] == "无。"


def test_a_2014_statistics_list_is_recognised_without_inventing_cells() -> None:
    rows = [line("二、主动公开政府信息情况"), grid(["指标", "单位", "统计数"]),
            grid(["一、主动公开情况", "", ""]), grid(["（一）主动公开政府信息数", "条", "120"])]
    out = run(rows)
    assert out.statistics_list
    assert not out.cells
    assert decide_format(out.subtable_formats, 2016, bool(out.cells), "", out.statistics_list) == "2014"


def test_table_four_printed_with_its_groups_as_rows() -> None:
    rows = [line("四、政府信息公开行政复议、行政诉讼情况"),
            grid(["", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]),
            grid(["行政复议", "1", "0", "0", "0", "1"]),
            grid(["行政诉讼（未经复议直接起诉）", "0", "2", "0", "0", "2"]),
            grid(["行政诉讼（复议后起诉）", "0", "0", "0", "1", "1"])]
    out = run(rows)
    assert out.cells["t4.review.upheld"] == 1
    assert out.cells["t4.suit_direct.corrected"] == 2
    assert out.cells["t4.suit_after_review.pending"] == 1
    assert len(out.cells) == 15


def test_a_label_with_a_character_read_as_its_look_alike_still_resolves() -> None:
    from extract.mapper import _OCR_LOOKALIKES, _label_chars, resolve

    assert resolve("尚末\n审结", "t4", "column") == "pending"
    assert resolve("尚木审结", "t4", "column") == "pending"
    assert resolve("白然人", "t3", "column") == "natural_person"
    printed = set().union(*(_label_chars(table, axis) for table in ("t2", "t3", "t4") for axis in ("row", "column")))
    misread = {chr(code) for code in _OCR_LOOKALIKES}
    assert not misread & printed  # only characters no label prints are read as another


def scanned(page: int, texts: list[str | None], left: float, width: float, label_width: float = 4.0) -> Row:
    """One ruled row of table three as a page image gives it: a label cell `label_width` columns
    wide, then one cell per column, in pixels from the page's `left` edge (None: covered by a span)."""
    edges = [left + width * (label_width + i) for i in range(len(T3_HEADER) + 1)]
    cells = [Cell(texts[0] or "", left, edges[0])] if texts[0] is not None else []
    cells += [Cell(text, edges[i], edges[i + 1]) for i, text in enumerate(texts[1:]) if text is not None]
    return Row(cells, page, "ocr", gridded=True, table=1)


def _page_shift(seed: int, width: float) -> tuple[float, float]:
    """Where the next page's scan puts the table: shifted by more than half a column either way,
    scaled by up to 4 %."""
    rng = random.Random(seed)
    return rng.choice((-1, 1)) * rng.uniform(0.55, 1.4) * width, rng.uniform(0.96, 1.04)


@pytest.mark.parametrize("seed", range(6))
def test_a_header_band_broken_by_a_page_of_a_scan_still_maps_its_columns(seed: int) -> None:
    left, width = 185.0, 49.0
    shift, scale = _page_shift(seed, width)
    head = Row([Cell("(本列数据的勾稽关系为：第一项加第二项之和等于第三项加第四项之和)", left, left + 4 * width),
                Cell("申请人情况", left + 4 * width, left + 11 * width),
                Cell("自然人", left + 4 * width, left + 5 * width),
                Cell("法人或其他组织", left + 5 * width, left + 10 * width),
                Cell("总计", left + 10 * width, left + 11 * width)], 1, "ocr", gridded=True, table=1)
    rows = [line("三、收到和处理政府信息公开申请情况"), head,
            scanned(1, [None, None, "商业企", "科研机", "社会公益", "法律服务", "其他", None], left, width)]
    top = left + shift
    rows += [scanned(2, ["", "", "业", "构", "组织", "机构", "", ""], top, width * scale),
             scanned(2, ["本年新收政府信息公开申请数量", "3", "1", "4", "1", "5", "9", "23"], top, width * scale),
             scanned(2, ["上年结转政府信息公开申请数量", "2", "6", "5", "3", "5", "8", "29"], top, width * scale)]
    out = run(rows)
    assert [out.cells[f"t3.new.{key}"] for key in
            ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")] == \
        [3, 1, 4, 1, 5, 9, 23]
    assert out.cells["t3.carried_over.research"] == 5
    assert out.cells["t3.carried_over.total"] == 29


@pytest.mark.parametrize("seed", range(6))
def test_a_table_continued_on_the_next_page_of_a_scan_keeps_its_columns_though_the_page_moved(seed: int) -> None:
    left, width = 200.0, 60.0
    shift, scale = _page_shift(seed, width)
    rows = [line("三、收到和处理政府信息公开申请情况"),
            scanned(1, ["", *T3_HEADER], left, width),
            scanned(1, ["本年新收政府信息公开申请数量", "3", "1", "4", "1", "5", "9", "23"], left, width),
            scanned(2, ["上年结转政府信息公开申请数量", "2", "6", "5", "3", "5", "8", "29"], left + shift, width * scale)]
    out = run(rows)
    assert [out.cells[f"t3.carried_over.{key}"] for key in
            ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")] == \
        [2, 6, 5, 3, 5, 8, 29]


T3_KEYS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")


@pytest.mark.parametrize("seed", range(8))
def test_a_header_cell_the_scan_garbled_or_lost_is_the_column_its_neighbours_leave_for_it(seed: int) -> None:
    rng = random.Random(seed)
    header: list[str] = ["", *T3_HEADER]
    for column in rng.sample(range(1, len(header)), rng.choice((1, 2))):
        header[column] = rng.choice(("", "总\nvf", "杜\n云", "·", "vf"))
    figures = ["本年新收政府信息公开申请数量", "3", "1", "4", "1", "5", "9", "23"]
    out = run([line("三、收到和处理政府信息公开申请情况"), scanned(1, header, 185.0, 49.0), scanned(1, figures, 185.0, 49.0)])
    assert [out.cells.get(f"t3.new.{key}") for key in T3_KEYS] == [3, 1, 4, 1, 5, 9, 23]


def test_header_cells_in_the_wrong_order_are_not_given_the_missing_columns() -> None:
    """Only the catalogue's order tells a garbled header what it is: when the headers that
    resolved are not in that order, the garbled one stays unknown and its figures are no cell."""
    header = ["", "商业企业", "自然人", "vf", "社会公益组织", "法律服务机构", "其他", "总计"]
    figures = ["本年新收政府信息公开申请数量", "3", "1", "4", "1", "5", "9", "23"]
    out = run([line("三、收到和处理政府信息公开申请情况"), scanned(1, header, 185.0, 49.0), scanned(1, figures, 185.0, 49.0)])
    assert out.cells.get("t3.new.research") is None
    assert out.cells["t3.new.commercial"] == 3


def _t3_rows_in_order(fmt: str) -> list[tuple[str, str]]:
    from report.catalogue import T3_2019, T3_2021

    lines = (T3_2021 if fmt == "2021" else T3_2019).rows
    return [(line.key, line.label) for line in lines if not (fmt == "2021" and line.key == "other")]


def _t3_scan(labels: list[tuple[str, str]]) -> list[Row]:
    """表三 as a scan gives it: its header, then each row's label and figures (row i prints i+1
    natural persons and as many in its total)."""
    rows = [line("三、收到和处理政府信息公开申请情况"), scanned(1, ["", *T3_HEADER], 185.0, 49.0)]
    rows += [scanned(1, [label, str(i + 1), "0", "0", "0", "0", "0", str(i + 1)], 185.0, 49.0)
             for i, (_, label) in enumerate(labels)]
    return rows


@pytest.mark.parametrize("seed", range(8))
def test_rows_whose_labels_a_scan_lost_are_the_rows_the_order_leaves_between(seed: int) -> None:
    rng = random.Random(seed)
    fmt = rng.choice(("2021", "2019"))
    labels = _t3_rows_in_order(fmt)
    for index in rng.sample(range(len(labels) - 1), rng.choice((1, 2, 3))):
        labels[index] = (labels[index][0], rng.choice(("", "本午效收改府信自公开中注数是等", "）总计", "{_）部分", "·")))
    out = run(_t3_scan(labels))
    for i, (key, _) in enumerate(labels):
        assert out.cells.get(f"t3.{key}.natural_person") == i + 1, key
        assert out.cells.get(f"t3.{key}.total") == i + 1, key


def test_a_lost_label_is_not_guessed_where_the_order_leaves_more_rows_than_were_lost() -> None:
    """部分公开 not printed at all and 属于国家秘密's label lost: two rows missing between 予以公开
    and 其他法律行政法规禁止公开, one ruled row there — which one it is, nothing says."""
    labels = [row for row in _t3_rows_in_order("2021") if row[0] != "partly_disclosed"]
    secret = next(i for i, (key, _) in enumerate(labels) if key == "withheld.state_secret")
    labels[secret] = ("withheld.state_secret", "本午效收改府信自")
    out = run(_t3_scan(labels))
    assert not any(key.startswith(("t3.partly_disclosed.", "t3.withheld.state_secret.")) for key in out.cells)
    assert "本午效收改府信自" in out.unresolved
    assert out.cells["t3.withheld.prohibited.total"] == secret + 2


@pytest.mark.parametrize("heading", ["第二十条第（）项", "第_十条第（五）项", "第十条第（六）项", "第二十条第（一项"])
def test_a_t2_heading_as_a_scan_garbled_it_still_opens_table_two(heading: str) -> None:
    # no section heading before it: only the 第二十条 heading opens table two
    rows = [line("报告正文"), line(heading),
            grid(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]), grid(["规章", "0", "1", "4"])]
    assert run(rows).cells["t2.rules.in_force"] == 4


def test_a_heading_whose_enumerator_lost_its_comma_still_opens_its_section() -> None:
    rows = [line("二主动公开政府信息情况"), line("第二十条第（一项"),
            grid(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]), grid(["规章", "0", "1", "4"])]
    out = run(rows)
    assert out.cells["t2.rules.in_force"] == 4 and "proactive" in out.sections


@pytest.mark.parametrize("seed", range(6))
def test_a_table_four_header_cell_the_scan_garbled_is_the_column_its_group_leaves_for_it(seed: int) -> None:
    rng = random.Random(seed)
    header_groups = Row([Cell("行政复议", 0, 5), Cell("行政诉讼", 5, 15)], 1, "t4", True)
    header_mid = Row([Cell("结果\n维持", 0, 1), Cell("结果\n纠正", 1, 2), Cell("其他\n结果", 2, 3), Cell("尚未\n审结", 3, 4),
                      Cell("总 计", 4, 5), Cell("未经复议直接起诉", 5, 10), Cell("复议后起诉", 10, 15)], 1, "t4", True)
    low = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2
    for column in rng.sample(range(len(low)), 2):
        low[column] = rng.choice(("结果\n到正", "其\n结果", "", "·"))
    header_low = Row([Cell(t, 5 + i, 6 + i) for i, t in enumerate(low)], 1, "t4", True)
    values = [1, 1, 0, 0, 2, 1, 0, 0, 0, 1, 2, 0, 1, 0, 3]
    figures = Row([Cell(str(v), i, i + 1) for i, v in enumerate(values)], 1, "t4", True)
    out = run([line("四、政府信息公开行政复议、行政诉讼情况"), header_groups, header_mid, header_low, figures])
    keys = [f"t4.{group}.{column}" for group in ("review", "suit_direct", "suit_after_review")
            for column in ("upheld", "corrected", "other", "pending", "total")]
    assert [out.cells.get(key) for key in keys] == values
