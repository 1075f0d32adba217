"""The data dictionary: every canonical cell key with its wide-form column name,
Chinese labels, unit and the format versions that print it; and labels for rules.

Derived from `report.catalogue`; a migration seeds it into `cell_dictionary`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from report.catalogue import FORMATS, all_cell_specs, cell_specs

TABLE_TITLES = {"t2": "表二 主动公开政府信息情况", "t3": "表三 收到和处理政府信息公开申请情况",
                "t4": "表四 政府信息公开行政复议、行政诉讼情况"}

# Columns of the wide form that are not cells, in order, with their meaning.
WIDE_META_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("report_id", "报告编号", "warehouse id of the report"),
    ("agency_id", "机关编号", "warehouse id of the agency"),
    ("agency_slug", "机关代码", "stable identifier of the agency"),
    ("agency", "机关名称", "name of the agency"),
    ("region_code", "行政区划代码", "6-digit code of the agency's region"),
    ("province_code", "省级区划代码", "6-digit code of the province"),
    ("prefecture_code", "地级区划代码", "6-digit code of the prefecture"),
    ("level", "机关层级", "province | prefecture | county | township | department"),
    ("kind", "机关类别", "government | department"),
    ("year", "报告年度", "the year the report covers"),
    ("format", "格式版本", "report format: 2021, 2019, 2014 or unknown"),
    ("status", "状态", "accepted, or quarantined when a hard identity is broken"),
    ("document_url", "文件地址", "URL of the document version"),
    ("document_sha256", "文件SHA-256", "SHA-256 of the document version"),
)



def rule_labels() -> list[tuple[str, str, str]]:
    """(rule id, Chinese title, English description) of every validator rule."""
    from report.validate import RULES

    return [(rule.id, rule.title, rule.description) for rule in RULES]


@dataclass(frozen=True)
class DictionaryEntry:
    key: str
    column_name: str
    position: int
    table_id: str
    section: str
    row_key: str
    column_key: str
    row_label: str
    column_label: str
    label_zh: str
    unit: str
    kind: str
    formats: str

    def as_row(self) -> dict[str, object]:
        return asdict(self)


def column_name(key: str) -> str:
    """The stable wide-form column of a cell key: t3.new.total → t3_new_total."""
    return key.replace(".", "_")


def ordered_keys() -> list[str]:
    """Every canonical key: the 2021 format's in catalogue order, then the 2019-only ones."""
    seen: dict[str, None] = {}
    for fmt in FORMATS:
        for key in cell_specs(fmt):
            seen.setdefault(key, None)
    return list(seen)


def _unit(kind: str, column_key: str) -> str:
    if kind in ("decimal", "amount"):
        return "万元"
    if column_key in ("prev_items", "items", "change"):
        return "项"
    return "件"


def entries() -> list[DictionaryEntry]:
    specs = all_cell_specs()
    result: list[DictionaryEntry] = []
    for position, key in enumerate(ordered_keys(), start=1):
        spec = specs[key]
        table = spec.subtable.table
        result.append(DictionaryEntry(
            key=key, column_name=column_name(key), position=position, table_id=table,
            section=f"{TABLE_TITLES[table]} {spec.subtable.heading}" if table == "t2" else TABLE_TITLES[table],
            row_key=spec.row.key, column_key=spec.column.key,
            row_label=spec.row.label, column_label=spec.column.label, label_zh=spec.label,
            unit=_unit(spec.kind, spec.column.key), kind=spec.kind,
            formats=" ".join(fmt for fmt in FORMATS if key in cell_specs(fmt)),
        ))
    names = [entry.column_name for entry in result]
    if len(set(names)) != len(names):
        raise ValueError("two cell keys map to the same wide-form column name")
    return result


def format_for_year(year: int) -> str:
    """The format that governs reports for a year (shared/spec/FORMAT.md)."""
    if year >= 2021:
        return "2021"
    if year >= 2019:
        return "2019"
    if year >= 2014:
        return "2014"
    return "unknown"
