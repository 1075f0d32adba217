"""Exports for researchers: the wide and long tables of one year and a data dictionary.

`export(url, year=…, region=…, fmt="csv"|"parquet"|"xlsx", out_dir=…)` writes
nianbao_<year>[_<region>]_wide / _long / _dictionary files. CSV is UTF-8 with a
BOM (so Excel shows Chinese correctly); counts are integers, amounts decimals.
Rows are streamed, so a national year does not have to fit in memory (except
for xlsx, which Excel limits to 1,048,576 rows per sheet anyway).
"""

from __future__ import annotations

import csv
import decimal
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from report.values import DECIMAL_DIGITS, DECIMAL_PLACES
from warehouse.dictionary import WIDE_META_COLUMNS
from warehouse.query import WarehouseError, read_only_connection

FORMATS = ("csv", "parquet", "xlsx")
EXCEL_MAX_ROWS = 1_048_576
CHUNK_ROWS = 50_000  # rows fetched at a time, and a Parquet row group
LONG_COLUMNS = ("report_id", "agency_slug", "agency", "region_code", "year", "format", "status",
                "key", "column_name", "label", "unit", "value", "raw", "null_reason")
# Where each cell was printed (warehouse cell_sources), beside its value in the long form.
SOURCE_COLUMNS = ("source_page", "source_x0", "source_y0", "source_x1", "source_y1", "source_unit",
                  "source_table", "source_text", "source_confidence", "source_corrected")
_SOURCE_SELECT = ("s.page", "s.x0", "s.y0", "s.x1", "s.y1", "s.unit", "s.grid_table", "s.text", "s.confidence",
                  "s.corrected")
_SOURCE_TYPES = {"source_page": "int", "source_table": "int", "source_x0": "float", "source_y0": "float",
                 "source_x1": "float", "source_y1": "float", "source_confidence": "float", "source_corrected": "bool"}
DICTIONARY_COLUMNS = ("column_name", "key", "label_zh", "unit", "kind", "formats", "table_id", "section",
                      "row_label", "column_label")
INTEGER_META = {"report_id", "agency_id", "year"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "int" | "decimal" | "float" | "str" | "bool"


@dataclass
class Table:
    name: str
    columns: list[Column]
    rows: Iterable[Sequence[Any]]


def region_prefix(code: str) -> str:
    """320000 → 32, 320800 → 3208, 320813 → 320813: the prefix every region below shares."""
    if not re.fullmatch(r"\d{6}", code or ""):
        raise WarehouseError(f"region must be a 6-digit 行政区划代码, got {code!r}")
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def export(url: str | None, *, year: int, fmt: str, out_dir: Path, region: str | None = None,
           accepted_only: bool = False) -> list[Path]:
    """Write the wide table, the long table and the dictionary; returns the files written."""
    if fmt not in FORMATS:
        raise WarehouseError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    stem = f"nianbao_{year}" + (f"_{region}" if region else "")
    where, params = _filters(year, region, accepted_only)
    written = []
    with read_only_connection(url) as conn:
        dictionary = _dictionary(conn)
        out_dir.mkdir(parents=True, exist_ok=True)   # only once there is a warehouse to export
        kinds = {row[0]: row[4] for row in dictionary.rows}
        for table in (_wide(conn, where, params, kinds), _long(conn, where, params), dictionary):
            path = out_dir / f"{stem}_{table.name}.{fmt}"
            WRITERS[fmt](table, path)
            written.append(path)
    return written


def _filters(year: int, region: str | None, accepted_only: bool) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = ["year = :year"]
    params: dict[str, Any] = {"year": year}
    if region:
        clauses.append("region_code LIKE :prefix")
        params["prefix"] = region_prefix(region) + "%"
    if accepted_only:
        clauses.append("status = 'accepted'")
    return " AND ".join(clauses), params


def _stream(conn: Connection, sql: str, params: dict[str, Any]) -> Iterator[Sequence[Any]]:
    result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(text(sql), params)
    yield from result


def _number(value: Any, kind: str) -> int | decimal.Decimal | None:
    """Exact: an int, or a Decimal (never a float's 15 digits)."""
    if value is None:
        return None
    if kind == "int":
        return int(value)
    return value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))


def _wide(conn: Connection, where: str, params: dict[str, Any], kinds: dict[str, str]) -> Table:
    meta = [Column(name, "int" if name in INTEGER_META else "str") for name, _, _ in WIDE_META_COLUMNS]
    cells = [Column(name, "int" if kind in ("count", "signed") else "decimal")
             for name, kind in kinds.items() if kind != "meta"]
    columns = meta + cells
    names = ", ".join(column.name for column in columns)
    sql = f"SELECT {names} FROM report_wide WHERE {where} ORDER BY region_code, agency_slug, report_id"
    rows = (tuple(_typed(value, column) for value, column in zip(row, columns, strict=True))
            for row in _stream(conn, sql, params))
    return Table("wide", columns, rows)


def _long(conn: Connection, where: str, params: dict[str, Any]) -> Table:
    types = {"report_id": "int", "year": "int", "value": "decimal", **_SOURCE_TYPES}
    columns = [Column(name, types.get(name, "str")) for name in (*LONG_COLUMNS, *SOURCE_COLUMNS)]
    selected = [f"c.{name}" for name in LONG_COLUMNS] + [
        f"{expression} AS {name}" for expression, name in zip(_SOURCE_SELECT, SOURCE_COLUMNS, strict=True)]
    sql = (f"SELECT {', '.join(selected)} FROM cells_labelled c "
           "LEFT JOIN cell_sources s ON s.report_id = c.report_id AND s.key = c.key "
           f"WHERE {where} ORDER BY c.report_id, c.position, c.key")
    rows = (tuple(_typed(value, column) for value, column in zip(row, columns, strict=True))
            for row in _stream(conn, sql, params))
    return Table("long", columns, rows)


def _typed(value: Any, column: Column) -> Any:
    if column.type == "str":
        return None if value is None else str(value)
    if column.type == "bool":
        return None if value is None else bool(value)
    return _number(value, column.type)


def _dictionary(conn: Connection) -> Table:
    columns = [Column(name, "int" if name == "position" else "str") for name in DICTIONARY_COLUMNS]
    rows: list[tuple[Any, ...]] = [(name, None, label, None, "meta", None, None, None, meaning, None)
                                   for name, label, meaning in WIDE_META_COLUMNS]
    result = conn.execute(text(f"SELECT {', '.join(DICTIONARY_COLUMNS)} FROM cell_dictionary ORDER BY position"))
    rows += [tuple(row) for row in result]
    return Table("dictionary", columns, rows)


# ---------------------------------------------------------------- writers
def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal):
        return decimal_text(value)
    return str(value)


def decimal_text(value: decimal.Decimal) -> str:
    """The exact digits, without an exponent or trailing zeros after the point (25.1000 → 25.1)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# Parquet: exact decimals. A wide amount column holds report.values' limits (24 digits, 6 places);
# the long form's value column holds counts (to 19 digits) and amounts alike.
_PARQUET_DECIMAL = {"wide": (DECIMAL_DIGITS, DECIMAL_PLACES), "long": (38, DECIMAL_PLACES)}
# An Excel number is a double: beyond 15 significant digits a figure is written as its text.
_EXCEL_DIGITS = 15


def write_csv(table: Table, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column.name for column in table.columns])
        for row in table.rows:
            writer.writerow([_csv_text(value) for value in row])


def write_parquet(table: Table, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    precision, scale = _PARQUET_DECIMAL.get(table.name, _PARQUET_DECIMAL["long"])
    arrow_types = {"int": pa.int64(), "decimal": pa.decimal128(precision, scale), "float": pa.float64(),
                   "str": pa.string(), "bool": pa.bool_()}
    schema = pa.schema([pa.field(column.name, arrow_types[column.type]) for column in table.columns])
    with pq.ParquetWriter(path, schema) as writer:
        for chunk in _chunks(table.rows, CHUNK_ROWS):
            arrays = [pa.array(_floats(values) if field.type == pa.float64() else values, type=field.type)
                      for values, field in zip(zip(*chunk, strict=True), schema, strict=True)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))


def _floats(values: tuple) -> list[float | None]:
    """A float column (a box edge, a confidence) as read back: the database may give Decimals."""
    return [None if value is None else float(value) for value in values]


def write_xlsx(table: Table, path: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                               "strings_to_urls": False, "strings_to_formulas": False})
    try:
        sheet = workbook.add_worksheet(table.name)
        bold = workbook.add_format({"bold": True})
        for index, column in enumerate(table.columns):
            sheet.write_string(0, index, column.name, bold)
        for row_number, row in enumerate(table.rows, start=1):
            if row_number >= EXCEL_MAX_ROWS:
                raise WarehouseError(f"{table.name} has more rows than an Excel sheet holds: "
                                     "narrow it with --region or use --format parquet")
            for index, value in enumerate(row):
                if value is not None:
                    sheet.write(row_number, index, _excel_value(value))
    finally:
        workbook.close()


def _excel_value(value: Any) -> Any:
    """A number Excel keeps exactly (15 significant digits), else the figure's exact text."""
    if isinstance(value, int | decimal.Decimal) and not isinstance(value, bool):
        digits = decimal.Decimal(value).normalize().as_tuple().digits
        if len(digits) > _EXCEL_DIGITS:
            return decimal_text(decimal.Decimal(value))
        return value if isinstance(value, int) else float(value)
    return value


def _chunks(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


WRITERS = {"csv": write_csv, "parquet": write_parquet, "xlsx": write_xlsx}
