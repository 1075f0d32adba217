"""The label resolver on label variants printed in real reports, and parse_cell."""

from __future__ import annotations

from decimal import Decimal

import pytest

from report.catalogue import cell_specs, column_formats, is_t3_group_label, resolve, resolve_section
from report.values import parse_cell


@pytest.mark.parametrize(("label", "table", "axis", "key"), [
    # full-width and half-width brackets and enumerators
    ("（一）予以公开", "t3", "row", "disclosed"),
    ("(一)予以公开", "t3", "row", "disclosed"),
    ("(二)部分公开(区分处理的,只计这一情形,不计其他情形)", "t3", "row", "partly_disclosed"),
    ("1、属于国家秘密", "t3", "row", "withheld.state_secret"),
    ("1.属于国家秘密", "t3", "row", "withheld.state_secret"),
    ("１．属于国家秘密", "t3", "row", "withheld.state_secret"),
    ("1、本机关不掌握相关政府信息", "t3", "row", "unavailable.not_held"),
    # typos and abbreviations seen in the wild
    ("2.其他法律行政止公开", "t3", "row", "withheld.prohibited"),
    ("3.危及\"三安全一稳定\"", "t3", "row", "withheld.security"),
    ("本年发件", "t2", "column", "issued"),
    ("本年发件数", "t2", "column", "issued"),
    ("规范性文件", "t2", "row", "normative_docs"),
    ("规 章", "t2", "row", "rules"),
    ("本年收费金额(单位:万元)", "t2", "column", "amount"),
    ("（七）合计", "t3", "row", "result_total"),
    # traditional characters
    ("行政規範性文件", "t2", "row", "normative_docs"),
    ("現行有效件數", "t2", "column", "in_force"),
    ("2．其他法律行政法規禁止公開", "t3", "row", "withheld.prohibited"),
    # vertical one-character labels joined, and words split by the layout
    ("本\n年\n制\n发\n件\n数", "t2", "column", "issued"),
    ("结\n果\n维\n持", "t4", "column", "upheld"),
    ("其 他 结 果", "t4", "column", "other"),
    ("社会\n公益\n组织", "t3", "column", "social_welfare"),
    ("自然\n人", "t3", "column", "natural_person"),
    ("4.无正当理由大量反复 申请", "t3", "row", "not_processed.excessive"),
    ("5.要求行政机关确认或重 新出具已获取信息", "t3", "row", "not_processed.confirmation"),
    ("（二）部分公开（区分处理的，只计这一情 形，不计其他情形）", "t3", "row", "partly_disclosed"),
    # group labels printed in the same cell as the row
    ("（四）无法提供 1.本机关不掌握相关政府信息", "t3", "row", "unavailable.not_held"),
    ("三、本年度办理结果（三）不予公开 1.属于国家秘密", "t3", "row", "withheld.state_secret"),
    ("（六）其他处理 3.其他", "t3", "row", "other.other"),
    ("（六）其他处理", "t3", "row", "other"),
    ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "t3", "row", "other.no_correction"),
    # 表四
    ("未经复议直接起诉", "t4", "row", "suit_direct"),
    ("复议后起诉", "t4", "row", "suit_after_review"),
    ("总 计", "t4", "column", "total"),
])
def test_resolve_label_variants(label: str, table: str, axis: str, key: str) -> None:
    assert resolve(label, table, axis) == key


@pytest.mark.parametrize("label", ["三、本年度办理结果", "（三）不予公开", "今天天气很好", ""])
def test_group_labels_and_strangers_resolve_to_nothing(label: str) -> None:
    assert resolve(label, "t3", "row") is None


@pytest.mark.parametrize(("label", "key"), [
    ("（一）以公开", "disclosed"),          # a character lost under a seal
    ("(一) 予以公", "disclosed"),
    ("（二）部分公", "partly_disclosed"),
    ("（七）总", None),                    # one character: too little to tell
    ("以公开", None),                      # no enumerator: too short for the fuzzy pass
    ("（九）以公开", None),                # an enumerator no spelling opens with
    ("（二）以公开", None),                # the words belong to another enumerator's row
    ("2.重复申", "not_processed.duplicate"),
])
def test_a_short_label_is_told_by_its_enumerator(label: str, key: str | None) -> None:
    assert resolve(label, "t3", "row") == key


def test_group_labels_are_recognised() -> None:
    assert is_t3_group_label("（五）不予处理")
    assert not is_t3_group_label("1.信访举报投诉类申请")


def test_the_column_labels_tell_the_format() -> None:
    assert column_formats(["上一年项目数量", "本年增/减", "处理决定数量"]) == {"2019"}
    assert column_formats(["本年处理决定数量"]) == {"2021"}
    assert column_formats(["本年制发件数", "本年废止件数", "现行有效件数"]) == {"2021"}


def test_resolved_keys_are_catalogue_cells() -> None:
    specs = cell_specs("2021")
    assert "t3.withheld.prohibited.natural_person" in specs
    assert specs["t2.fees.amount"].kind == "decimal"
    assert cell_specs("2019")["t2.licensing.change"].kind == "signed"
    assert len([k for k in specs if k.startswith("t4.")]) == 15


@pytest.mark.parametrize(("heading", "key"), [
    ("一、总体情况", "overview"),
    ("二、主动公开政府信息情况", "proactive"),
    ("三、收到和处理政府信息公开申请情况", "applications"),
    ("四、政府信息公开行政复议、行政诉讼情况", "review_litigation"),
    ("五、存在的主要问题及改进情况", "problems"),
    ("六、其他需要报告的事项", "other"),
])
def test_section_headings(heading: str, key: str) -> None:
    assert resolve_section(heading) == key


@pytest.mark.parametrize(("raw", "kind", "unit", "value", "problem"), [
    ("12", "count", None, 12, None),
    ("１２", "count", None, 12, None),
    ("1,234", "count", None, 1234, None),
    (" 3 ", "count", None, 3, None),
    ("3.0", "count", None, 3, None),
    ("", "count", None, None, None),
    (None, "count", None, None, None),
    ("/", "count", None, None, None),
    ("—", "count", None, None, None),
    ("——", "count", None, None, None),
    ("-", "count", None, None, None),
    ("无", "count", None, None, None),
    ("增98", "count", None, None, "text"),
    ("0/0", "count", None, None, "text"),
    ("2.5", "count", None, Decimal("2.5"), "not-integer"),
    ("增98", "signed", None, 98, None),
    ("减3", "signed", None, -3, None),
    ("-3", "signed", None, -3, None),
    ("7545", "decimal", None, 7545, None),
    ("12.5", "decimal", None, Decimal("12.5"), None),
    ("251000元", "amount", None, Decimal("25.1"), None),
    ("25.1万元", "amount", None, Decimal("25.1"), None),
    ("251000", "amount", "元", Decimal("25.1"), None),
    ("1234.56元", "amount", None, Decimal("0.123456"), None),
    ("9007199254740993", "count", None, 9007199254740993, None),
    ("-9223372036854775807", "signed", None, -(2**63 - 1), None),
    ("9223372036854775808", "count", None, None, "absurd"),
    ("1" + "0" * 30, "count", None, None, "absurd"),
    ("1" + "0" * 18, "amount", None, None, "absurd"),
    ("1.1234567", "decimal", None, None, "absurd"),
])
def test_parse_cell(raw: str | None, kind: str, unit: str | None, value: int | Decimal | None,
                    problem: str | None) -> None:
    parsed = parse_cell(raw, kind, unit)  # type: ignore[arg-type]
    assert (parsed.value, parsed.problem) == (value, problem)
    assert parsed.raw == (raw or "")
    if value is not None:
        assert type(parsed.value) is type(value)


def test_a_numbered_item_too_garbled_to_resolve_is_not_taken_for_its_group() -> None:
    assert resolve("（六）其他处理 1.再人无正当理息期不补正行政机关", "t3", "row") is None
    assert resolve("（六）其他处理 3.其他", "t3", "row") == "other.other"


@pytest.mark.parametrize(("heading", "key"), [
    ("二主动公开政府信息情况", "proactive"), ("四政府信息公开行政复议、行政诉讼情况", "review_litigation"),
    ("三安全一稳定", None), ("二十主动公开", None)])
def test_a_section_heading_whose_numeral_lost_its_comma_still_resolves(heading: str, key: str | None) -> None:
    assert resolve_section(heading) == key


@pytest.mark.parametrize(("label", "table", "axis", "key"), [
    ("规章·", "t2", "row", "rules"), (".信息内容", "t2", "column", None), ("`规 章。", "t2", "row", "rules"),
    ("1.属于国家秘密·", "t3", "row", "withheld.state_secret")])
def test_a_speck_beside_a_label_is_no_part_of_it(label: str, table: str, axis: str, key: str | None) -> None:
    assert resolve(label, table, axis) == key
