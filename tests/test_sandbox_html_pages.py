"""The HTML half of the sandbox corpus is what its truth says: every printed cell is in
the page exactly where its labels say, GBK pages are really GBK, spans are real.

The tables are read back independently of the generator: lxml parses the page, the
spans are expanded into a matrix, and the labels are resolved with the catalogue.
"""

from __future__ import annotations

import re

import lxml.html
import pytest

from report.catalogue import T3_COLUMNS, T4_COLUMNS, T4_ROWS, resolve
from sandbox.agencies import agency, publications
from sandbox.corpus import CorpusEntry, load_corpus

CONTAINERS = {
    "trs": "//div[@id='zoom']/div[contains(@class,'TRS_Editor')]",
    "jcms": "//*[contains(@class,'bt_content')]/div[@id='zoom']",
    "gkmlpt": "//div[contains(@class,'xxgk_content')]/div[contains(@class,'article-content')]",
    "plain": "//div[contains(@class,'xxgk_content')]",
    "generic": "//div[@id='content']",
}


T3_ORGANISATIONS = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")


def html_entries() -> list[CorpusEntry]:
    return [e for e in load_corpus() if e.truth.form == "html"]


def declared_charset(raw: bytes) -> str:
    match = re.search(rb"charset=[\"']?([A-Za-z0-9_-]+)", raw[:2048])
    return match.group(1).decode().lower() if match else "utf-8"


def page_tree(raw: bytes) -> lxml.html.HtmlElement:
    codec = declared_charset(raw)
    return lxml.html.document_fromstring(raw.decode("gbk" if codec in ("gb2312", "gbk") else codec))


def cell_text(td: lxml.html.HtmlElement) -> str:
    return re.sub(r"[\s\u3000]+", "", td.text_content().replace("\xa0", " "))


def matrix(table: lxml.html.HtmlElement) -> list[list[str]]:
    """The table as a full grid: a spanned cell's text fills every position it covers."""
    grid: dict[tuple[int, int], str] = {}
    for r, tr in enumerate(table.xpath("./tbody/tr|./tr")):
        c = 0
        for td in tr.xpath("./td|./th"):
            while (r, c) in grid:
                c += 1
            rows, cols = int(td.get("rowspan", 1)), int(td.get("colspan", 1))
            for dr in range(rows):
                for dc in range(cols):
                    grid[(r + dr, c + dc)] = cell_text(td)
            c += cols
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    rows = [[grid.get((r, c), "") for c in range(width)] for r in range(height)]
    return [row for row in rows if any(row)]  # Word's zero-height ghost row holds nothing


def printed_cells(container: lxml.html.HtmlElement, fmt_t2: str, fmt: str) -> dict[str, str]:
    """key → printed string for every cell of 表二, 表三 and 表四 in the container."""
    return printed_from_grids([matrix(table) for table in container.xpath(".//table")], fmt_t2, fmt)


def printed_from_grids(grids: list[list[list[str]]], fmt_t2: str, fmt: str) -> dict[str, str]:
    """key → printed string from full-grid tables; a 10-column table without a header
    continues the 表三 before it (a page break cut it)."""
    printed: dict[str, str] = {}
    t3_rows: list[list[str]] = []
    for grid in grids:
        text = "".join("".join(row) for row in grid)
        if "法人或其他组织" in text:
            t3_rows = list(grid)
        elif t3_rows and len(grid[0]) == 10 and "第二十条" not in text and "行政复议" not in text:
            t3_rows += grid
        elif "行政复议" in text and "行政诉讼" in text:
            printed.update(_table_four(grid))
        elif "第二十条" in text:
            printed.update(_table_two(grid, fmt_t2))
    if t3_rows:
        printed.update(_table_three(t3_rows, fmt))
    return printed


def _put(printed: dict[str, str], key: str, value: str) -> None:
    assert key not in printed, f"{key} printed twice"
    printed[key] = value


def _table_three(grid: list[list[str]], fmt: str) -> dict[str, str]:
    printed: dict[str, str] = {}
    for row in grid:
        if row[3] in ("申请人情况", "自然人") or row[3] in T3_ORGANISATIONS:
            continue
        key = resolve(row[2], "t3", "row", fmt)
        assert key, f"unresolved 表三 row {row[:3]}"
        for column, value in zip(T3_COLUMNS, row[3:], strict=True):
            _put(printed, f"t3.{key}.{column.key}", value)
    return printed


def _table_four(grid: list[list[str]]) -> dict[str, str]:
    keys = [f"t4.{row.key}.{column.key}" for row in T4_ROWS for column in T4_COLUMNS]
    assert len(grid[-1]) == 15
    return dict(zip(keys, grid[-1], strict=True))


def _table_two(grid: list[list[str]], fmt: str) -> dict[str, str]:
    printed: dict[str, str] = {}
    columns: list[str | None] = []
    for row in grid:
        if row[0].startswith("第二十条"):
            continue
        if row[0] == "信息内容":
            columns = [resolve(label, "t2", "column", fmt) for label in row[1:]]
            continue
        item = resolve(row[0], "t2", "row", fmt)
        assert item, f"unresolved 表二 row {row}"
        for column, value in zip(columns, row[1:], strict=True):
            assert column, f"unresolved 表二 column in {row}"
            key = f"t2.{item}.{column}"
            printed.setdefault(key, value)  # a value spanning columns repeats under one label
    return printed


def t2_format(cells: dict) -> str:
    return "2019" if "t2.rules.made" in cells else "2021"


@pytest.mark.parametrize("entry", html_entries(), ids=lambda e: e.name)
def test_every_truth_cell_is_printed_where_its_labels_say(entry: CorpusEntry) -> None:
    record = entry.truth.record
    assert record is not None
    site = agency(entry.truth.site)
    containers = page_tree(entry.read_bytes()).xpath(CONTAINERS[site.family])
    assert len(containers) == 1, f"{site.family} container missing"
    fmt_t2, fmt_t3 = t2_format(record.cells), record.format if record.format != "unknown" else "2021"
    printed = printed_cells(containers[0], fmt_t2, fmt_t3)
    assert set(printed) == set(record.cells), "the page prints other cells than the truth"
    for key, raw in record.raw.items():
        expected = {"", "/", "-"} if raw == "" else {raw}
        assert printed[key] in expected, key


@pytest.mark.parametrize("entry", html_entries(), ids=lambda e: e.name)
def test_the_report_sits_in_its_family_container_with_real_spans(entry: CorpusEntry) -> None:
    raw = entry.read_bytes()
    tree = page_tree(raw)
    family = agency(entry.truth.site).family
    container = tree.xpath(CONTAINERS[family])[0]
    assert container.xpath(".//td[@rowspan>1]|.//th[@rowspan>1]"), "no rowspan in the report tables"
    assert container.xpath(".//*[self::td or self::th][contains(., '法人或其他组织') and @colspan='5']")
    assert tree.xpath("//div[contains(@class,'footer')]") and tree.xpath("//div[contains(@class,'location')]")
    assert entry.truth.title in tree.xpath("string(//title)")
    for heading in ("一、总体情况", "四、政府信息公开行政复议、行政诉讼情况", "六、其他需要报告的事项"):
        assert heading in container.text_content()


def test_gbk_pages_are_really_gbk() -> None:
    gbk = [e for e in html_entries() if e.truth.variant == "gbk"]
    assert len(gbk) == len([p for p in publications("html") if p.variant == "gbk"]) >= 3
    declarations = set()
    for entry in gbk:
        raw = entry.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert entry.truth.title in raw.decode("gbk")
        head = raw[:1024]
        declarations.add((b"<meta charset=" in head, b"http-equiv" in head))
        assert declared_charset(raw) in ("gb2312", "gbk")
    assert (False, True) in declarations, "one page declares its charset only by http-equiv"
    declared_gb2312 = [e for e in gbk if declared_charset(e.read_bytes()) == "gb2312"]
    assert declared_gb2312
    for entry in declared_gb2312:  # GBK bytes behind a gb2312 label: only a GBK decoder reads them
        with pytest.raises(UnicodeDecodeError):
            entry.read_bytes().decode("gb2312")


def test_the_pages_cover_the_hard_markup() -> None:
    pages = [e.read_bytes().decode("gbk" if e.truth.variant == "gbk" else "utf-8") for e in html_entries()]
    assert any(re.search(r">\d+<br/>\d+<", page) for page in pages), "no number split by <br>"
    assert any('class="MsoNormal"' in page for page in pages), "no Word-exported cell markup"
    assert any("<td align=\"center\">/</td>" in page for page in pages), "no '/' filler cell"
    assert any("<h3>" in page for page in pages) and any("<strong>一、" in page for page in pages)
    assert any(re.search(r">[０-９]+<", page) for page in pages), "no full-width digits"
    assert any(re.search(r">\d{1,3},\d{3}<", page) for page in pages), "no thousands separator"
    assert any("supportMisalignedColumns" in page for page in pages), "no Word ghost row"
    assert any("规　　章" in page for page in pages), "no label spaced with U+3000"
    assert any("<th" in page for page in pages) and any("<font face=" in page for page in pages)
    assert sum("申请人情况" not in page for page in pages) >= 2, "表三 always has its 申请人情况 row"
    notes = " ".join(e.truth.notes for e in html_entries())
    assert "表三 split into two tables" in notes
    families = {agency(e.truth.site).family for e in html_entries()}
    planned = {agency(p.slug).family for p in publications("html")}
    assert families == planned and len(planned) >= 4


def test_some_row_is_shorter_than_its_table() -> None:
    """Empty cells dropped: 行政许可's row holds its label and value only, under a 4-column header."""
    widths = []
    for entry in html_entries():
        for tr in page_tree(entry.read_bytes()).xpath("//tr[td[1][contains(., '行政许可')]]"):
            widths.append(sum(int(td.get("colspan", 1)) for td in tr.xpath("./td|./th")))
    assert 4 in widths and 2 in widths


def test_variants_print_what_they_claim() -> None:
    by_variant = {e.truth.variant: e for e in html_entries()}
    text_in_cell = by_variant["text-in-cell"]
    assert text_in_cell.truth.record.raw["t3.new.commercial"] == "增98"
    assert "增98" in text_in_cell.read_bytes().decode("utf-8")
    mixed = by_variant["mixed-formats"].read_bytes().decode("utf-8")
    assert "本年新制作数量" in mixed and "2.申请人逾期未按收费通知要求缴纳费用" in mixed
    late = by_variant["2019-format-late"]
    assert late.truth.year == 2021 and late.truth.record.format == "2019"
    page = late.read_bytes().decode("utf-8")
    assert "政府集中采购" in page and "3.其他" not in page
