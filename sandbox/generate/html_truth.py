"""Writing `<name>.truth.json` beside a document; shared by the HTML, office, flipbook,
look-alike and hostile generators."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.agencies import Publication, agency, publication_figures, seed_for
from sandbox.corpus import Truth

MEDIA_TYPES = {
    "html": "text/html",
    "flipbook": "text/html",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "png": "image/png",
}


def report_truth(publication: Publication, file: str, media_type: str, notes: str,
                 form: str | None = None, title: str | None = None) -> Truth:
    """The truth of a report document: the plan's figures for the publication, as printed."""
    figures = publication_figures(publication)
    who = agency(publication.slug)
    record = figures.record.model_copy(deep=True)
    return Truth(
        name=publication.name, file=file, form=form or publication.form, kind="report", media_type=media_type,
        agency=who.name, year=publication.year, title=title or record.title, published=publication.published,
        level=who.level, agency_kind=who.kind, region_code=who.region_code, record=record,
        expected_rules=sorted(set(figures.expected_rules)), variant=publication.variant,
        seed=seed_for(publication.slug, publication.year), reviewed=True, notes=notes, site=publication.slug,
    )


def other_truth(name: str, file: str, form: str, kind: str, media_type: str, site: str, expected_finding: str,
                notes: str, title: str | None = None, year: int | None = None, published: str | None = None) -> Truth:
    """The truth of a look-alike or hostile document: no record, a named expected finding."""
    who = agency(site)
    return Truth(
        name=name, file=file, form=form, kind=kind, media_type=media_type, agency=who.name, year=year, title=title,
        published=published, level=who.level, agency_kind=who.kind, region_code=who.region_code, record=None,
        expected_finding=expected_finding, reviewed=True, notes=notes, site=site,
    )


def write_truth(out_dir: Path, truth: Truth) -> Truth:
    data = truth.model_dump(mode="json")
    path = out_dir / f"{truth.name}.truth.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth
