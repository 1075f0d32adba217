"""The ONE mapper: a stream of neutral rows → canonical cells, by label.

Rows are read in order with a little state: which table we are in (from the
section headings and 第二十条 headings), the column map built from the header
rows above the figures (label → key through `report.catalogue.resolve`, each
column with its horizontal extent), a label still waiting for its figures (a
label broken over rows), and the current section for the prose.

Figures are placed by the column whose extent they sit under, never by their
count; on another page of a scan, under the column carried there by the table's
edges. Only a reader that knows no positions (a plain text layer) falls back to
the catalogue's column order, and then only within one labelled row.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TypeVar

from extract.model import Cell, CellRead, Row
from report.catalogue import (
    CATALOGUE,
    T3_2019,
    T3_2021,
    T3_COLUMNS,
    T3_OTHER_SPLIT_ROWS,
    T4_COLUMNS,
    T4_ROWS,
    Line,
    all_cell_specs,
    cell_specs,
    column_formats,
    resolve_section,
)
from report.catalogue import resolve as _catalogue_resolve
from report.labels import normalise_label
from report.record import CellSource, CellValue
from report.values import fold_number_text, parse_cell

_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?(?:万?元)?$")
# 第二十条第（一）项, also as a scan gives it: the item's numeral with a stray dash (a 一 a 1-bit
# scan frayed), lost (第二十条第（）项) or with its bracket (第二十条第（一项), the article's garbled
# (第_十条第（五）项).
_T2_HEADING = re.compile(r"^第[^条]{0,3}条第[（(][^）)项]{0,4}[）)]?项")
_FOOTER = re.compile(r"^[-—–－]\s*\d{1,3}\s*[-—–－]$|^第\d+页(?:共\d+页)?$|^\d+/\d+$")
# A parenthetical cut by a line break: （区分处理的，只计这一情
_UNCLOSED = re.compile(r"[（(][^）)]*$")
_ENUMERATED = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.]|\([一二三四五六七八九十\d]+\)|\d+[、.])")
# Page furniture of portals and flipbooks.
_CHROME = re.compile(r"【?字体[:：]?大中小】?|打印本页|关闭窗口|^上一页|^下一页|^目录$|第\d+页/共\d+页|分享到|扫一扫|【打印】|【关闭】")
_PAGE_END = re.compile(r"^(?:相关文章|相关链接|相关阅读|相关信息|相关稿件)")
_AFTER_REPORT = "_after"
_TAIL_LINES = 6
_SIGNATURE = re.compile(
    r"^(?:(?:19|20)\d{2}年\d{1,2}月\d{1,2}日|[^，。；,;:：]{2,30}(?:政府|局|委员会|委|办公室|办事处|中心|厅|院|所|馆|站|队|处|公司|管委会))$")
_HEADING_RUN_ON = re.compile(r"^\s*([一二三四五六七八九十]+[、.．][^。：:，,]{2,24}?)[。：:](.+)$")
_PARENTHESISED = re.compile(r"[（(]([^（）()]{2,})[）)]")
_BARE_NUMBER = re.compile(r"^\d{1,3}$")
# An enumerator such as （一） whose thin strokes a 1-bit scan broke: the opening bracket, then
# only marks (…, --, ．、), perhaps a bracket the recogniser took for another ({ for （).
_MANGLED_ENUMERATOR = re.compile(r"[（({\[「『〔【][^\w（）()]{1,6}[）)」』\]}|]?")
# Characters the recogniser mistakes for a look-alike (未 for 末 or 木, 自 for 白, …): none of
# them is in any label of the catalogue, so a label that resolves to nothing is tried again with
# each read as the look-alike that is.
_OCR_LOOKALIKES = str.maketrans({"末": "未", "木": "未", "白": "自", "己": "已", "巳": "已", "入": "人"})
# Words that only ever appear in a header band.
_HEADER_WORDS = frozenset(normalise_label(w) for w in (
    "信息内容", "申请人情况", "法人或其他组织", "行政诉讼", "行政复议", "指标", "单位", "统计数",
))
_TABLES = ("t2", "t3", "t4")
# Tables whose columns the catalogue prints in one order, left to right.
_ORDERED_COLUMNS = {"t3": T3_COLUMNS}
# 表三's rows in the order each format prints them (2021's （六） in its three rows).
_T3_ROW_ORDERS = (tuple(line.key for line in T3_2021.rows if line.key != "other"),
                  tuple(line.key for line in T3_2019.rows))
_SECTION_TABLE = {"proactive": "t2", "applications": "t3", "review_litigation": "t4"}
_T4_GROUPS = tuple(line.key for line in T4_ROWS)
_Box = TypeVar("_Box", Cell, "Column")
_EMPTY = frozenset({"", "/", "-", "—", "——", "－", "无", "─", "–", "空", "//"})


@lru_cache(maxsize=16384)
def resolve(label: str, table: str, axis: str, format: str | None = None) -> str | None:
    """The catalogue's resolver, remembered (a report repeats its labels), and spared the
    labels that share almost no character with any label of that table and axis — its
    fuzzy pass compares against every spelling, and a header band tries three tables."""
    folded = normalise_label(label)
    if len(folded) >= 4:
        known = _label_chars(table, axis)
        if sum(ch in known for ch in folded) < 0.25 * len(folded):
            return None
    found = _catalogue_resolve(label, table, axis, format)  # type: ignore[arg-type]
    if found is not None:
        return found
    enumerators = list(_MANGLED_ENUMERATOR.finditer(label))
    if enumerators and label[enumerators[-1].end():].strip():
        return resolve(label[enumerators[-1].end():], table, axis, format)  # the item's own words
    lookalikes = label.translate(_OCR_LOOKALIKES)
    return resolve(lookalikes, table, axis, format) if lookalikes != label else None


@lru_cache(maxsize=16)
def _label_chars(table: str, axis: str) -> frozenset[str]:
    chars: set[str] = set()
    for tables in CATALOGUE.values():
        for sub in tables:
            if sub.table == table:
                for line in sub.rows if axis == "row" else sub.columns:
                    for spelling in line.spellings():
                        chars.update(normalise_label(spelling))
    return frozenset(chars)


def is_number_text(text: str) -> bool:
    return bool(_NUMBER.match(fold_number_text(text)))


def is_value_text(text: str) -> bool:
    """A figure or a printed-empty marker."""
    folded = fold_number_text(text)
    return folded in _EMPTY or bool(_NUMBER.match(folded))


@dataclass
class Column:
    key: str
    label: str
    x0: float | None = None
    x1: float | None = None
    group: str | None = None  # 表四: review / suit_direct / suit_after_review


@dataclass(frozen=True)
class Extent:
    """A ruled table's left and right edges on one page. A scan or a photograph prints the
    same table a little shifted and scaled on each page: the edges carry a column map found
    on one page onto the next."""

    page: int
    x0: float
    x1: float

    def carry(self, onto: Extent) -> tuple[float, float] | None:
        """(scale, offset) taking x on this page to x on `onto`'s; None when the two are not
        one table's edges (their widths differ by more than a scan's distortion)."""
        scale = (onto.x1 - onto.x0) / max(self.x1 - self.x0, 1e-6)
        if abs(scale - 1) > _MOST_DISTORTION:
            return None
        return scale, onto.x0 - scale * self.x0


# How much a page's scan may stretch or shrink one table compared with another page's.
_MOST_DISTORTION = 0.1


@dataclass
class ColumnMap:
    table: str
    columns: list[Column]
    space: str | None
    formats: set[str] = field(default_factory=set)
    unit: str | None = None
    extent: Extent | None = None  # the table's edges where the columns' extents were read

    @property
    def positioned(self) -> bool:
        return all(c.x0 is not None for c in self.columns) and bool(self.columns)

    def carried_onto(self, extent: Extent) -> ColumnMap | None:
        """The same columns where the table sits on another page, or None if it cannot be told."""
        if self.extent is None or not self.positioned:
            return None
        transform = self.extent.carry(extent)
        if transform is None:
            return None
        return replace(self, columns=[_moved_box(c, *transform) for c in self.columns], extent=extent)


@dataclass
class _OpenRow:
    """A row whose figures may still continue on the next line (text layers)."""

    prefix: str
    columns: list[Column]
    values: list[tuple[Cell, Row]]  # each figure with the line it was printed on
    column_map: ColumnMap


@dataclass
class MappedTables:
    cells: dict[str, CellValue] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    subtable_formats: list[str] = field(default_factory=list)
    lead_lines: list[str] = field(default_factory=list)  # prose before the first section
    tail_lines: list[str] = field(default_factory=list)  # the report's last prose lines (its signature)
    unresolved: list[str] = field(default_factory=list)
    # How the OCR reader read each cell it gave (extract.ocr_repair reads them again).
    reads: dict[str, CellRead] = field(default_factory=dict)
    # Where each cell was printed: page, box, the text read there.
    sources: dict[str, CellSource] = field(default_factory=dict)
    tables_seen: set[str] = field(default_factory=set)
    # A 国办发〔2014〕32号 统计表 (指标 / 单位 / 统计数): free key/value, no canonical cells.
    statistics_list: bool = False


class Mapper:
    def __init__(self) -> None:
        self.out = MappedTables()
        self.context: str | None = None
        self.section: str | None = None
        self.section_parts: dict[str, list[str]] = {}
        self.columns: ColumnMap | None = None
        self.header_rows: list[Row] = []
        self.pending: list[Cell] = []
        self.open_row: _OpenRow | None = None
        self.extents: dict[int, Extent] = {}  # id(row) → its table's edges on its page
        # Figures whose label did not resolve yet: the label's end may be on the next line.
        self.awaiting: tuple[list[str], float | None, list[tuple[Column | None, Cell]], ColumnMap, Row] | None = None
        # 表三's rows read so far, and the ruled rows whose label resolved to nothing since the
        # last of them: they may be the rows the order leaves between (`_rows_in_their_gap`).
        self.t3_rows: list[str] = []
        self.unplaced: list[tuple[str, list[tuple[Column | None, Cell]], ColumnMap, Row]] = []

    # ------------------------------------------------------------ driving
    def feed(self, rows: list[Row]) -> MappedTables:
        rows = [replace(row, cells=[replace(c, text=_clean(c.text)) for c in row.cells]) for row in rows]
        self.extents = _table_extents(rows)
        for row in rows:
            self._row(row)
        self._close_open_row()
        self._drop_awaiting()
        self._give_up_unplaced()
        self.out.sections = {key: "".join(parts).strip() for key, parts in self.section_parts.items()
                             if key != _AFTER_REPORT}
        return self.out

    def _row(self, row: Row) -> None:
        if not row.compact:
            if row.gridded and row.cells and self.header_rows and self.context == "t4":
                self._finish_header()  # 表四's one row of figures, printed empty (a template shell)
                self._data_row(row)
            return
        if _FOOTER.match(row.compact):
            return
        if _BARE_NUMBER.match(row.compact) and self.open_row is None and self.columns is None:
            return  # a page number
        if self._section_heading(row):
            return
        if _T2_HEADING.match(normalise_text(row.compact)) and len(row.compact) < 24:
            self._enter_table("t2")
            return
        if self.context or self.columns:
            if self._header_row(row) or self._continues_header(row):
                self._close_open_row()
                self.header_rows.append(row)
                if {"指标", "统计数"} <= {normalise_label(t) for t in _header_texts(row)}:
                    self.out.statistics_list = True
                return
            if self.header_rows:
                self._finish_header()
            if self._data_row(row):
                return
        self._prose(row)

    def _section_heading(self, row: Row) -> bool:
        text = row.text.strip()
        rest = ""
        key = None
        if len(row.compact) <= 40 and len([c for c in row.cells if c.text]) <= 2:
            key = resolve_section(text)
        if key is None and not row.gridded:
            # A heading run into its first sentence: 一、总体情况。2024年，…
            match = _HEADING_RUN_ON.match(text)
            if match and (key := resolve_section(match.group(1))):
                rest = match.group(2)
        if key is None:
            return False
        self._close_open_row()
        self.section = key
        self.section_parts.setdefault(key, [])
        self._enter_table(_SECTION_TABLE.get(key))
        if rest.strip():
            self.section_parts[key].append(rest.strip())
        return True

    def _enter_table(self, table: str | None) -> None:
        self._close_open_row()
        self._drop_awaiting()
        self._give_up_unplaced()
        self.t3_rows = []
        self.context = table
        self.columns = None
        self.header_rows = []
        self.pending = []

    def _prose(self, row: Row) -> None:
        text = "".join(c.text for c in row.cells).replace("\n", "")
        compact = normalise_text(text)
        if _PAGE_END.match(compact):
            self.section = _AFTER_REPORT  # related articles, attachments: not the report's prose
            self.section_parts.setdefault(_AFTER_REPORT, [])
        if _CHROME.search(compact) or self.section == _AFTER_REPORT:
            return
        self.out.tail_lines = [*self.out.tail_lines[-(_TAIL_LINES - 1):], text]
        if self.section == "other" and _SIGNATURE.match(compact):
            return  # the agency and date signed under the last section
        if self.section is None:
            self.out.lead_lines.append(text)
        else:
            self.section_parts[self.section].append(text)

    # ------------------------------------------------------------ header bands
    def _header_row(self, row: Row) -> bool:
        if self._has_figures(row):
            return False
        texts = _header_texts(row)
        if not texts:
            return False
        if self.context in ("t2", "t3") and _ENUMERATED.match(unicodedata.normalize("NFKC", texts[0])) \
                and resolve(texts[0], self.context, "row"):
            return False  # 3.其他 / （七）总计 are rows, even when their cells are empty
        for text in texts:
            folded = normalise_label(text)
            if folded in _HEADER_WORDS:
                return True
            if any(resolve(text, table, "column") for table in _TABLES) and not _row_key_any(text):
                return True
        return False

    def _continues_header(self, row: Row) -> bool:
        """Inside a header band every line without figures belongs to it (商业企 / 业)."""
        if not self.header_rows or self._has_figures(row):
            return False
        text = row.text
        first = next((c.text for c in row.cells if c.text.strip()), "")
        if self.context in ("t2", "t3") and (resolve(first, self.context, "row")
                                            or _ENUMERATED.match(unicodedata.normalize("NFKC", first))):
            return False  # a row label (of an empty template shell, or wrapped before its figures)
        return not _row_key_any(text) and not text.rstrip().endswith("。") and len(row.compact) < 60

    def _has_figures(self, row: Row) -> bool:
        return any(is_number_text(c.text) for c in row.cells)

    def _finish_header(self) -> None:
        band = self._band_on_last_page(self.header_rows)
        self.header_rows = []
        positioned = all(c.positioned for r in band for c in r.cells)
        best: ColumnMap | None = None
        best_score = -1.0
        for table in _TABLES:
            candidate = _columns_from_band(band, table, positioned)
            score = len({(c.group, c.key) for c in candidate.columns}) + (0.5 if table == self.context else 0)
            if table == "t4" and not any(c.group for c in candidate.columns) and positioned:
                score -= 1
            if candidate.columns and score > best_score:
                best, best_score = candidate, score
        if best is None:
            return
        if best.table == "t2":
            labels = [t for r in band for t in _header_texts(r)]
            best.formats = column_formats(labels, "t2")
            best.unit = "元" if any("(元)" in normalise_text(t) or "（元）" in t for t in labels) else None
            if any("万元" in t for t in labels):
                best.unit = "万元"
        best.space = band[-1].space
        best.extent = self.extents.get(id(band[-1]))
        self.columns = best
        self.context = best.table
        self.pending = []

    def _band_on_last_page(self, band: list[Row]) -> list[Row]:
        """A header band broken by a page (商业企 at the foot of one page, 业 at the top of the
        next), its rows in the coordinates of its last page."""
        last = self.extents.get(id(band[-1])) if band else None
        if last is None:
            return band
        carried = []
        for row in band:
            extent = self.extents.get(id(row))
            transform = extent.carry(last) if extent is not None and extent.page != last.page else None
            carried.append(row if transform is None else _moved(row, *transform))
        return carried

    # ------------------------------------------------------------ figures
    def _columns_for(self, row: Row) -> ColumnMap | None:
        """The column map, carried onto the row's page when its table continues there."""
        columns = self.columns
        extent = self.extents.get(id(row))
        if columns is None or columns.extent is None or extent is None or extent.page == columns.extent.page:
            return columns
        self.columns = columns.carried_onto(extent) or columns
        return self.columns

    def _data_row(self, row: Row) -> bool:
        columns = self._columns_for(row)
        if columns is None or not columns.positioned or not all(c.positioned for c in row.cells):
            return self._text_row(row, columns)
        placed, label_cells = self._place(row, columns)
        label_cells = [c for c in label_cells if c.text.strip()]
        if not placed:
            return self._label_only(label_cells, columns)
        self._drop_awaiting()
        candidates = self._label_candidates(label_cells)
        self.pending = []
        row_key = next((k for k in (self._row_key(c, columns) for c in candidates) if k), None)
        if row_key is None and columns.table != "t4":
            if candidates:  # the rest of the label may follow on the next line
                anchor = label_cells[-1].x0 if label_cells else None
                self.awaiting = (candidates, anchor, placed, columns, row)
            elif columns.table == "t3" and row.gridded:
                self.unplaced.append(("", placed, columns, row))  # its label read as nothing
            return True
        self._emit(row_key, placed, columns, row)
        return True

    def _label_candidates(self, label_cells: list[Cell]) -> list[str]:
        """The row's label joined with the fragments above it: first those in its own
        label column (a label wrapped inside its cell), then everything pending."""
        label = " ".join(c.text for c in label_cells)
        anchor = label_cells[-1].x0 if label_cells else (self.pending[-1].x0 if self.pending else None)
        candidates = []
        if anchor is not None:
            same = [c.text for c in self.pending if c.x0 is not None and abs(c.x0 - anchor) < 4]
            own = [c.text for c in label_cells if c.x0 is not None and abs(c.x0 - anchor) < 4]
            candidates.append("".join(same + own))
        candidates += ["".join(c.text for c in self.pending) + label, label]
        return [c for i, c in enumerate(candidates) if c.strip() and c not in candidates[:i]]

    def _drop_awaiting(self) -> None:
        if self.awaiting is not None:
            candidates, _, placed, columns, row = self.awaiting
            self.awaiting = None
            if columns.table == "t3" and row.gridded:
                self.unplaced.append((candidates[0], placed, columns, row))
            else:
                self.out.unresolved.append(candidates[0])

    def _give_up_unplaced(self) -> None:
        self.out.unresolved += [label for label, *_ in self.unplaced if label]
        self.unplaced = []

    def _rows_in_their_gap(self, following: str) -> None:
        """表三 prints its rows in the catalogue's order: ruled rows whose label was lost or
        garbled (a seal over 一、本年新收…, `）总计`) between two rows that resolved are the rows
        the order leaves there — when it leaves exactly as many, in one reading of the formats."""
        if not self.unplaced:
            return
        previous = self.t3_rows[-1] if self.t3_rows else None
        gaps = set()
        for order in _T3_ROW_ORDERS:
            if following in order and (previous is None or previous in order):
                start = order.index(previous) + 1 if previous else 0
                gaps.add(tuple(key for key in order[start:order.index(following)] if key not in self.t3_rows))
        fitting = [gap for gap in gaps if len(gap) == len(self.unplaced)]
        if len(fitting) != 1:
            self._give_up_unplaced()
            return
        unplaced, self.unplaced = self.unplaced, []
        for row_key, (_, placed, columns, row) in zip(fitting[0], unplaced, strict=True):
            self._emit(row_key, placed, columns, row)

    def _label_only(self, cells: list[Cell], columns: ColumnMap | None) -> bool:
        """A row without figures: a label waiting for its figures, or prose."""
        label = " ".join(c.text for c in cells if c.text.strip())
        if not label:
            return True
        if self.awaiting is not None:
            candidates, anchor, placed, awaiting_columns, row = self.awaiting
            own = "".join(c.text for c in cells if anchor is None or c.x0 is None or abs(c.x0 - anchor) < 4)
            row_key = next((k for k in (self._row_key(c + own, awaiting_columns) for c in candidates) if k), None)
            if row_key is not None:
                self.awaiting = None
                self._emit(row_key, placed, awaiting_columns, row)
                return True
            self._drop_awaiting()
        if label.rstrip().endswith("。") or len(normalise_text(label)) > 60:
            return False
        if self.open_row and columns and not self._row_key(label, columns):
            self._close_open_row()
        self.pending += [c for c in cells if c.text.strip()]
        del self.pending[:-8]
        return True

    def _text_row(self, row: Row, columns: ColumnMap | None) -> bool:
        """A row whose figures have no positions (a text layer): trailing figures in catalogue order."""
        labels, figures = _split_trailing(row)
        label = " ".join(c.text for c in labels if c.text.strip())
        if _is_sentence(labels):
            return False  # prose quoting figures: 行政复议 3 件、行政诉讼 6 件
        if not any(is_number_text(c.text) for c in figures) and not row.gridded:
            return self._label_only(row.cells, columns)
        if not label and not self.pending and self.open_row:
            self._continue_open_row(figures, row)
            return True
        self._close_open_row()
        joined = "".join(c.text for c in self.pending) + label
        table = columns.table if columns else self.context
        if table is None:
            return False
        formats = columns.formats if columns else set()
        target = self._catalogue_columns(table, joined, label, formats)
        self.pending = []
        if target is None:
            if joined:
                self.out.unresolved.append(joined)
            return bool(joined) or table is not None
        row_key, column_map = target
        placed: list[tuple[Column | None, Cell]] = list(zip(column_map.columns, figures, strict=False))
        if len(figures) > len(column_map.columns):
            placed = list(zip(column_map.columns, figures[-len(column_map.columns):], strict=False))
        self._emit(row_key, placed, column_map, row)
        return True

    def _catalogue_columns(self, table: str, joined: str, label: str,
                           formats: set[str]) -> tuple[str | None, ColumnMap] | None:
        """The catalogue's own columns for the sub-table this row label belongs to."""
        if table == "t4":
            group = resolve(label, "t4", "row") if label else None
            if group:
                return group, ColumnMap("t4", [Column(c.key, c.label) for c in T4_COLUMNS], None)
            columns = [Column(c.key, c.label, group=g) for g in _T4_GROUPS for c in T4_COLUMNS]
            return None, ColumnMap("t4", columns, None)
        if table == "t3":
            row_key = resolve(joined, "t3", "row") or resolve(label, "t3", "row")
            if row_key is None:
                return None
            return row_key, ColumnMap("t3", [Column(c.key, c.label) for c in T3_COLUMNS], None)
        order = sorted(formats) if formats else ["2021", "2019"]
        for fmt in order:
            row_key = resolve(joined, "t2", "row", fmt) or resolve(label, "t2", "row", fmt)
            for st in CATALOGUE[fmt]:
                if st.table == "t2" and row_key in {r.key for r in st.rows}:
                    return row_key, ColumnMap("t2", [Column(c.key, c.label) for c in st.columns], None,
                                              {fmt} if formats or fmt == "2021" else {fmt})
        return None

    def _row_key(self, label: str, columns: ColumnMap) -> str | None:
        if not label.strip():
            return None
        formats = sorted(columns.formats) if columns.table == "t2" and len(columns.formats) == 1 else [None]
        key = resolve(label, columns.table, "row", formats[0])
        if key is None and _UNCLOSED.search(label):
            key = resolve(_UNCLOSED.sub("", label), columns.table, "row", formats[0])
        for inner in ([] if key else _PARENTHESISED.findall(label)):
            # 行政诉讼（未经复议直接起诉）: the words that name the row are in the brackets
            key = resolve(inner, columns.table, "row", formats[0])
            if key:
                break
        return key

    def _place(self, row: Row, columns: ColumnMap) -> tuple[list[tuple[Column | None, Cell]], list[Cell]]:
        """Split a row into (column, figure cell) pairs and label cells."""
        if columns.positioned and all(c.positioned for c in row.cells) and (
                row.space == columns.space or not row.gridded):
            return _place_by_position(row, columns)
        if columns.positioned and row.gridded and row.space != columns.space:
            return _place_by_order(row, columns, trailing_only=False)
        return _place_by_order(row, columns, trailing_only=True)

    def _emit(self, row_key: str | None, placed: list[tuple[Column | None, Cell]], columns: ColumnMap,
              row: Row) -> None:
        self.out.tables_seen.add(columns.table)
        if columns.table == "t2":
            fmt = sorted(columns.formats)[0] if len(columns.formats) == 1 else None
            if fmt:
                self.out.subtable_formats.append(fmt)
        elif columns.table == "t3" and row_key in T3_OTHER_SPLIT_ROWS:
            self.out.subtable_formats.append("2021")  # the three （六） rows exist only since 2021
        if columns.table == "t3" and row_key is not None:
            self._rows_in_their_gap(row_key)
            self.t3_rows.append(row_key)
        targets = [col for col in columns.columns if columns.table != "t4" or col.group or row_key]
        by_column = {id(col): cell for col, cell in placed if col is not None}
        complete = True
        for col in targets:
            if columns.table == "t4":
                group = col.group or row_key
                if group is None:
                    continue
                key = f"t4.{group}.{col.key}"
            else:
                key = f"{columns.table}.{row_key}.{col.key}"
            cell = by_column.get(id(col))
            if cell is None:
                complete = False
                if not row.gridded and not columns.positioned:
                    continue
            self._store(key, cell.text if cell else "", columns, cell, row)
        if not complete and not columns.positioned and row_key:
            self.open_row = _OpenRow(f"{columns.table}.{row_key}", targets,
                                     [(c, row) for _, c in placed], columns)

    def _store(self, key: str, raw: str, columns: ColumnMap, cell: Cell | None = None, row: Row | None = None) -> None:
        specs = all_cell_specs()
        fmt_specs = [cell_specs(f) for f in sorted(columns.formats)] if columns.formats else []
        spec = next((s[key] for s in fmt_specs if key in s), None) or specs.get(key)
        if spec is None:
            self.out.unresolved.append(key)
            return
        if key in self.out.cells and self.out.raw.get(key, "").strip() and not raw.strip():
            return  # a figure already read wins over a blank repeat
        parsed = parse_cell(raw.strip(), spec.kind, columns.unit)
        self.out.cells[key] = parsed.value
        self.out.raw[key] = raw.strip()
        if cell is not None and cell.read is not None:
            self.out.reads[key] = cell.read
        if cell is not None and row is not None:
            self.out.sources[key] = cell_source(cell, row)
        if parsed.problem:
            self.out.problems[key] = parsed.problem

    def _continue_open_row(self, figures: list[Cell], row: Row) -> None:
        assert self.open_row is not None
        self.open_row.values += [(c, row) for c in figures]
        if len(self.open_row.values) >= len(self.open_row.columns):
            self._close_open_row()

    def _close_open_row(self) -> None:
        open_row, self.open_row = self.open_row, None
        if open_row is None:
            return
        values = open_row.values[-len(open_row.columns):]
        for col, (cell, row) in zip(open_row.columns, values, strict=False):
            table, _, row_key = open_row.prefix.partition(".")
            key = f"t4.{col.group or row_key}.{col.key}" if table == "t4" else f"{open_row.prefix}.{col.key}"
            self._store(key, cell.text, open_row.column_map, cell, row)


# ---------------------------------------------------------------- helpers
def _table_extents(rows: list[Row]) -> dict[int, Extent]:
    """Each ruled table row's table edges on its page (id(row) → extent), over all the rows
    that table has there."""
    members: dict[tuple[int, str | None, int], list[Row]] = {}
    for row in rows:
        if row.gridded and row.table is not None and row.cells and all(c.positioned for c in row.cells):
            members.setdefault((row.page, row.space, row.table), []).append(row)
    extents: dict[int, Extent] = {}
    for (page, _, _), table_rows in members.items():
        lefts = [c.x0 for r in table_rows for c in r.cells if c.x0 is not None]
        rights = [c.x1 for r in table_rows for c in r.cells if c.x1 is not None]
        extent = Extent(page, min(lefts), max(rights))
        extents.update((id(r), extent) for r in table_rows)
    return extents


def _moved(row: Row, scale: float, offset: float) -> Row:
    return replace(row, cells=[_moved_box(c, scale, offset) for c in row.cells])


def _moved_box(box: _Box, scale: float, offset: float) -> _Box:
    """A cell or a column with its horizontal extent taken to another page's coordinates."""
    if box.x0 is None or box.x1 is None:
        return box
    return replace(box, x0=scale * box.x0 + offset, x1=scale * box.x1 + offset)


def cell_source(cell: Cell, row: Row) -> CellSource:
    """Where a figure was printed: its row's page, its box when the reader knows all four
    edges (in the unit of the row's space), the text, and how sure the recogniser was."""
    box = None
    if cell.x0 is not None and cell.y0 is not None and cell.x1 is not None and cell.y1 is not None:
        box = (round(cell.x0, 2), round(cell.y0, 2), round(cell.x1, 2), round(cell.y1, 2))
    read = cell.read
    return CellSource(page=row.page, bbox=box, unit=row.unit if box else None,
                      table=row.table if box and row.unit == "grid" else None,
                      text=cell.text.strip(), confidence=None if read is None else round(read.confidence, 4),
                      corrected=bool(getattr(read, "corrected", False)))


def normalise_text(text: str) -> str:
    return unicodedata.normalize("NFKC", "".join(text.split()))


def _clean(text: str) -> str:
    return (text or "").replace("\u3000", " ").replace("\xa0", " ").strip()


def _header_texts(row: Row) -> list[str]:
    """Header labels of a row; a text layer's line is split at its spaces."""
    texts: list[str] = []
    for cell in row.cells:
        if not cell.text.strip():
            continue
        texts += [cell.text] if cell.positioned else cell.text.split()
    return texts


def _row_key_any(text: str) -> bool:
    folded = normalise_label(text)
    if len(folded) <= 2:
        return False
    return any(resolve(text, table, "row") for table in ("t2", "t3"))


def _header_word(folded: str) -> bool:
    """A header band's own word, also as OCR misreads it by one character (中请人情况)."""
    if folded in _HEADER_WORDS:
        return True
    return len(folded) >= 4 and any(len(word) == len(folded) and sum(a != b for a, b in zip(word, folded, strict=True)) <= 1
                                    for word in _HEADER_WORDS)


def _columns_from_band(band: list[Row], table: str, positioned: bool) -> ColumnMap:
    header_cells = [(i, c) for i, r in enumerate(band) for c in r.cells if c.text.strip()]
    columns: list[Column] = []
    groups: list[tuple[str, float | None, float | None]] = []
    unresolved: list[tuple[int, Cell]] = []
    for index, cell in header_cells:
        key = resolve(cell.text, table, "column")
        group = resolve(cell.text, "t4", "row") if table == "t4" else None
        if group:
            groups.append((group, cell.x0, cell.x1))
        elif key:
            columns.append(Column(key, cell.text, cell.x0, cell.x1))
        elif not _header_word(normalise_label(cell.text)) and len(normalise_text(cell.text)) <= 12:
            unresolved.append((index, cell))
    if positioned:
        gridded = all(r.gridded for r in band)
        if gridded:  # a grid's header cell whose text the scan lost still marks its column
            unresolved += [(i, c) for i, r in enumerate(band) for c in r.cells if not c.text.strip()]
        garbled: list[tuple[str, float, float]] = []
        for text, x0, x1 in _stacks(unresolved):
            key = resolve(text, table, "column")
            group = resolve(text, "t4", "row") if table == "t4" else None
            if group:
                groups.append((group, x0, x1))
            elif key:
                columns.append(Column(key, text, x0, x1))
            else:
                garbled.append((text, x0, x1))
        columns = _dedupe_positioned(columns)
        columns.sort(key=lambda c: c.x0 or 0.0)
        if gridded and table in _ORDERED_COLUMNS:
            columns = _columns_in_their_gaps(columns, garbled, _ORDERED_COLUMNS[table])
        elif gridded and table == "t4" and groups:
            columns = _columns_in_each_group(columns, garbled, groups)
        for col in columns:
            col.group = _group_of(col, groups, gridded)
    else:
        seen: set[str] = set()
        columns = [c for c in columns if not (c.key in seen or seen.add(c.key))]  # type: ignore[func-returns-value]
    return ColumnMap(table, columns, None)


def _columns_in_their_gaps(columns: list[Column], garbled: list[tuple[str, float, float]],
                           order: tuple[Line, ...]) -> list[Column]:
    """A header the recogniser garbled (总计 read as 总vf) or lost: the catalogue prints the
    table's columns in one order, so a header cell in a gap between the columns that resolved
    is the column missing there, when the gap holds as many cells as columns are missing."""
    keys = [line.key for line in order]
    found = [keys.index(c.key) for c in columns if c.key in keys]
    if len(found) != len(columns) or found != sorted(set(found)) or not 2 * len(found) >= len(keys) > len(found):
        return columns  # too few, or not in the catalogue's order: nothing can be told from them
    edges = [-1.0, *((c.x0 or 0) + (c.x1 or 0) for c in columns)]  # doubled centres
    widest = max((c.x1 or 0) - (c.x0 or 0) for c in columns)
    garbled = [c for c in garbled if c[2] - c[1] <= 1.6 * widest]  # not the row labels' column
    slots = [*found, len(keys)]
    filled = list(columns)
    for gap in range(len(slots)):
        first = slots[gap - 1] + 1 if gap else 0
        missing = order[first:slots[gap]]
        low, high = edges[gap], edges[gap + 1] if gap + 1 < len(edges) else float("inf")
        cells = sorted((c for c in garbled if low < c[1] + c[2] < high
                        and not any(_overlap(Column("", "", c[1], c[2]), k) > 0.5 for k in columns)),
                       key=lambda c: c[1])
        if missing and len(cells) == len(missing):  # `_stacks` already joined a column's cells
            filled += [Column(line.key, text, x0, x1) for line, (text, x0, x1) in zip(missing, cells, strict=True)]
    return sorted(filled, key=lambda c: c.x0 or 0.0)


def _columns_in_each_group(columns: list[Column], garbled: list[tuple[str, float, float]],
                           groups: list[tuple[str, float | None, float | None]]) -> list[Column]:
    """表四 prints its five columns in one order under each group (结果维持 … 总计): a garbled
    header cell under a group (结果到正) is the column its neighbours there leave for it."""
    members: dict[str | None, list[Column]] = {}
    for col in columns:
        members.setdefault(_group_of(col, groups, True), []).append(col)
    strays: dict[str | None, list[tuple[str, float, float]]] = {}
    for text, x0, x1 in garbled:
        strays.setdefault(_group_of(Column("", text, x0, x1), groups, True), []).append((text, x0, x1))
    filled = list(members.pop(None, []))
    for group, group_columns in members.items():
        filled += _columns_in_their_gaps(group_columns, strays.get(group, []), T4_COLUMNS)
    return sorted(filled, key=lambda c: c.x0 or 0.0)


def _group_of(col: Column, groups: list[tuple[str, float | None, float | None]], gridded: bool) -> str | None:
    """表四's group over a column: the spanning header cell, or (no ruling) the nearest group title."""
    centre = ((col.x0 or 0) + (col.x1 or 0)) / 2
    # A quarter in from the left: a column cell that overhangs its group's edge still falls inside.
    probe = (col.x0 or 0) + ((col.x1 or 0) - (col.x0 or 0)) / 4
    spans = [(g, x0, x1) for g, x0, x1 in groups if x0 is not None and x1 is not None]
    inside = [g for g in spans if g[1] <= probe < g[2]]  # type: ignore[operator]
    if inside:
        return min(inside, key=lambda g: (g[2] or 0) - (g[1] or 0))[0]
    if gridded or not spans:
        return None
    return min(spans, key=lambda g: abs(((g[1] or 0) + (g[2] or 0)) / 2 - centre))[0]


def _stacks(cells: list[tuple[int, Cell]]) -> list[tuple[str, float, float]]:
    """Header fragments stacked in one column (商业 / 企业) joined top to bottom."""
    stacks: list[list[tuple[int, Cell]]] = []
    for index, cell in sorted(cells, key=lambda ic: (ic[0], ic[1].x0 or 0)):
        for stack in stacks:
            last = stack[-1][1]
            if stack[-1][0] < index and _similar_extent(last, cell):
                stack.append((index, cell))
                break
        else:
            stacks.append([(index, cell)])
    result = []
    for stack in stacks:
        text = "".join(c.text for _, c in stack)
        x0 = min(c.x0 or 0.0 for _, c in stack)
        x1 = max(c.x1 or 0.0 for _, c in stack)
        result.append((text, x0, x1))
    return result


def _similar_extent(a: Cell, b: Cell) -> bool:
    assert a.x0 is not None and a.x1 is not None and b.x0 is not None and b.x1 is not None
    overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
    wider = max(a.x1 - a.x0, b.x1 - b.x0, 1e-6)
    narrower = max(min(a.x1 - a.x0, b.x1 - b.x0), 1e-6)
    return overlap > 0 and (overlap / wider >= 0.5 or overlap / narrower >= 0.8)


def _dedupe_positioned(columns: list[Column]) -> list[Column]:
    """One column per extent: a header cell repeated down a rowspan counts once."""
    kept: list[Column] = []
    for col in columns:
        twin = next((k for k in kept if k.key == col.key and _overlap(k, col) > 0.5), None)
        if twin is None:
            kept.append(col)
    return kept


def _overlap(a: Column, b: Column) -> float:
    if a.x0 is None or a.x1 is None or b.x0 is None or b.x1 is None:
        return 0.0
    inter = min(a.x1, b.x1) - max(a.x0, b.x0)
    return inter / max(min(a.x1 - a.x0, b.x1 - b.x0), 1e-6)


def _place_by_position(row: Row, columns: ColumnMap) -> tuple[list[tuple[Column | None, Cell]], list[Cell]]:
    placed: dict[int, tuple[Column, Cell]] = {}
    labels: list[Cell] = []
    spacing = _median_spacing(columns)
    for cell in row.cells:
        assert cell.x0 is not None and cell.x1 is not None
        width = max(cell.x1 - cell.x0, 1e-6)
        scored = [(min(cell.x1, c.x1 or 0) - max(cell.x0, c.x0 or 0), c) for c in columns.columns]
        best_overlap, best = max(scored, key=lambda s: s[0])
        column: Column | None = None
        if best_overlap >= 0.5 * width or (row.gridded and best_overlap >= 0.5 * ((best.x1 or 0) - (best.x0 or 0))):
            column = best
        elif not row.gridded and is_value_text(cell.text) and cell.text.strip():
            nearest = min(columns.columns, key=lambda c: abs(((c.x0 or 0) + (c.x1 or 0)) / 2 - cell.centre))
            if abs(((nearest.x0 or 0) + (nearest.x1 or 0)) / 2 - cell.centre) < 0.75 * spacing:
                column = nearest
        if column is None or (not is_value_text(cell.text) and not row.gridded and _looks_like_label(cell.text)):
            labels.append(cell)
            continue
        previous = placed.get(id(column))
        if previous is None or (not previous[1].text.strip() and cell.text.strip()):
            placed[id(column)] = (column, cell)
    return list(placed.values()), labels


_IDEOGRAPH = re.compile(r"[\u4e00-\u9fff]")


def _looks_like_label(text: str) -> bool:
    """Longer than a figure, or words (a figure cell prints digits or an empty marker, never
    Chinese: a short line of prose under a table, 办理流程, is no figure of its columns)."""
    return len(normalise_text(text)) > 4 or bool(_IDEOGRAPH.search(text))


def _median_spacing(columns: ColumnMap) -> float:
    centres = sorted(((c.x0 or 0) + (c.x1 or 0)) / 2 for c in columns.columns)
    gaps = sorted(b - a for a, b in zip(centres, centres[1:], strict=False) if b - a > 0)
    return gaps[len(gaps) // 2] if gaps else 50.0


def _is_sentence(labels: list[Cell]) -> bool:
    """Figures inside the text, or sentence punctuation: a line of prose, not a table row."""
    inner_figures = any(is_number_text(c.text) for c in labels)
    text = "".join(c.text for c in labels)
    return inner_figures or bool(re.search(r"[。；;]|件、|[，,].*[，,]", text))


def _split_trailing(row: Row) -> tuple[list[Cell], list[Cell]]:
    cells = [c for c in row.cells if c.text.strip() or row.gridded]
    split = len(cells)
    while split > 0 and is_value_text(cells[split - 1].text):
        split -= 1
    return cells[:split], cells[split:]


def _place_by_order(row: Row, columns: ColumnMap, *, trailing_only: bool) -> tuple[
        list[tuple[Column | None, Cell]], list[Cell]]:
    """No positions to go by: the figures at the end of the row, in the columns' order."""
    cells = [c for c in row.cells if c.text.strip() or row.gridded]
    split = len(cells)
    while split > 0 and (is_value_text(cells[split - 1].text)):
        split -= 1
    labels, figures = cells[:split], cells[split:]
    if not trailing_only:
        figures = [c for c in cells if is_value_text(c.text)]
        labels = [c for c in cells if not is_value_text(c.text)]
    figures = [c for c in figures if c.text.strip() or row.gridded]
    if not figures:
        return [], labels
    ordered = sorted(columns.columns, key=lambda c: c.x0 or 0.0) if columns.positioned else columns.columns
    if len(figures) > len(ordered):
        labels += figures[:-len(ordered)]
        figures = figures[-len(ordered):]
    placed: list[tuple[Column | None, Cell]] = list(zip(ordered, figures, strict=False))
    return placed, labels


def decide_format(subtable_formats: list[str], year: int | None, has_tables: bool,
                  lead_text: str = "", statistics_list: bool = False) -> str:
    votes = Counter(subtable_formats)
    if len(votes) == 1:
        return next(iter(votes))
    if votes:  # mixed formats in one report: the format its year calls for
        if year is not None:
            return "2021" if year >= 2021 else "2019"
        return max(sorted(votes), key=lambda f: (votes[f], f))
    if year is not None and 2019 <= year <= 2020 and has_tables:
        return "2019"
    if has_tables:
        return "2021"
    if statistics_list or ("统计数" in lead_text and "指标" in lead_text):
        return "2014"
    return "unknown"
