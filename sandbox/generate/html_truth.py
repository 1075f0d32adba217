"""Writing `<name>.truth.json` beside a document; shared by the HTML, office, flipbook,
look-alike and hostile generators."""

from __future__ import annotations

import json
from pathlib import Path

from report.catalogue import all_cell_specs
from report.record import ReportRecord
from report.values import parse_cell
from sandbox.agencies import Publication, agency, publication_figures, seed_for
from sandbox.corpus import Truth

MEDIA_TYPES = {
    "html": "text/html",
    "flipbook": "text/html",
    "paged-html": "text/html",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "png": "image/png",
}


FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def printed_record(publication: Publication, amount_unit: str = "万元", digits: str = "ascii") -> ReportRecord:
    """The record a document prints: the plan's figures, with every raw string exact.

    The figures print decimals with `:g` (6 significant digits), so 141.2541 would be
    printed 141.254; the documents print the exact value instead. With amount_unit 元
    the 2019 采购总金额 is printed in 元 (the canonical value stays in 万元). digits
    "fullwidth" prints １２, "thousands" prints 1,172 (the values stay the same).
    """
    record = publication_figures(publication).record.model_copy(deep=True)
    specs = all_cell_specs()
    for key, value in record.cells.items():
        kind = specs[key].kind if key in specs else "count"
        if isinstance(value, float) and parse_cell(record.raw.get(key, ""), kind).value != value:
            record.raw[key] = repr(value)
    amount = record.cells.get("t2.procurement.amount")
    if amount_unit == "元" and amount is not None:
        record.raw["t2.procurement.amount"] = str(round(amount * 10000))
    for key, value in record.cells.items():
        raw = record.raw.get(key, "")
        if value is None or parse_cell(raw, specs[key].kind if key in specs else "count").problem:
            continue
        if digits == "fullwidth":
            record.raw[key] = raw.translate(FULLWIDTH_DIGITS)
        elif digits == "thousands" and isinstance(value, int) and abs(value) >= 1000:
            record.raw[key] = f"{value:,}"
    return record


def report_truth(publication: Publication, file: str, media_type: str, notes: str, record: ReportRecord,
                 form: str | None = None, title: str | None = None) -> Truth:
    """The truth of a report document: the record it prints (see printed_record)."""
    figures = publication_figures(publication)
    who = agency(publication.slug)
    return Truth.model_validate(dict(
        name=publication.name, file=file, form=form or publication.form, kind="report", media_type=media_type,
        agency=who.name, year=publication.year, title=title or record.title, published=publication.published,
        level=who.level, agency_kind=who.kind, region_code=who.region_code, record=record,
        expected_rules=sorted(set(figures.expected_rules)), variant=publication.variant,
        seed=seed_for(publication.slug, publication.year), reviewed=True, notes=notes, site=publication.slug,
    ))


def other_truth(name: str, file: str, form: str, kind: str, media_type: str, site: str, expected_finding: str,
                notes: str, title: str | None = None, year: int | None = None, published: str | None = None) -> Truth:
    """The truth of a look-alike or hostile document: no record, a named expected finding."""
    who = agency(site)
    return Truth.model_validate(dict(
        name=name, file=file, form=form, kind=kind, media_type=media_type, agency=who.name, year=year, title=title,
        published=published, level=who.level, agency_kind=who.kind, region_code=who.region_code, record=None,
        expected_finding=expected_finding, reviewed=True, notes=notes, site=site,
    ))


def write_truth(out_dir: Path, truth: Truth) -> Truth:
    data = truth.model_dump(mode="json")
    path = out_dir / f"{truth.name}.truth.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth
