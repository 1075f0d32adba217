"""The registry's sources and agencies, written into the warehouse (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crawler.registry import Source


def sync_sources(session: Session, sources: Iterable[Source]) -> None:
    """Upsert each source and its agency (slug = source id); unchanged rows are not touched."""
    from warehouse.load import upsert_agency, upsert_source

    for source in sources:
        upsert_source(session, id=source.id, name=source.agency, cms=source.family,
                      base_url=source.list_urls[0], region_code=source.region_code)
        upsert_agency(session, slug=source.id, name=source.agency, region_code=source.region_code,
                      level=source.level, kind=source.kind, expected=source.expected,
                      first_year=source.first_year, source_id=source.id)
