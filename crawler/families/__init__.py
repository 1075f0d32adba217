"""One adapter per CMS family; `adapter_for(source)` picks it from the registry entry."""

from __future__ import annotations

from crawler.families.base import Adapter, Listing, ListPage
from crawler.families.generic import GenericAdapter
from crawler.families.gkmlpt import GkmlptAdapter
from crawler.families.jcms import JcmsAdapter
from crawler.families.plain import PlainAdapter
from crawler.families.trs import TrsAdapter
from crawler.registry import Source

ADAPTERS: dict[str, type[Adapter]] = {
    adapter.family: adapter for adapter in (TrsAdapter, JcmsAdapter, GkmlptAdapter, PlainAdapter, GenericAdapter)
}


def adapter_for(source: Source) -> Adapter:
    return ADAPTERS[source.family](source)


__all__ = ["ADAPTERS", "Adapter", "ListPage", "Listing", "adapter_for"]
