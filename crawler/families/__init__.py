"""One adapter per CMS family; `adapter_for(source)` picks it from the registry entry.

`ADAPTERS` is the one list of CMS families: the registry's `family` field, the crawl pools of
the DAGs (`nianbao.stages.registry.families`) and the checks on the sandbox's families and
the fixtures (tests/test_crawler_family_set.py) all read it. A source whose site has a quirk
its family's options cannot express names a subclass of its own (`adapter:
crawler.sites.<module>:<Class>`, see `crawler/sites/`).
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING

from crawler.families.base import Adapter, Listing, ListPage
from crawler.families.generic import GenericAdapter
from crawler.families.gkmlpt import GkmlptAdapter
from crawler.families.jcms import JcmsAdapter
from crawler.families.plain import PlainAdapter
from crawler.families.trs import TrsAdapter

if TYPE_CHECKING:
    from crawler.registry import Source

ADAPTERS: dict[str, type[Adapter]] = {
    adapter.family: adapter for adapter in (TrsAdapter, JcmsAdapter, GkmlptAdapter, PlainAdapter, GenericAdapter)
}
SITE_ADAPTER = re.compile(r"crawler\.sites\.[a-z_][a-z0-9_]*:[A-Za-z_]\w*")


class AdapterPathError(ValueError):
    """A registry entry's `adapter` does not name a subclass of its family's adapter."""


def site_adapter(path: str, family: str) -> type[Adapter]:
    """The class `crawler.sites.<module>:<Class>` names, checked to extend the family's adapter."""
    if not SITE_ADAPTER.fullmatch(path):
        raise AdapterPathError(f"adapter {path!r}: write it as crawler.sites.<module>:<Class>")
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:   # a missing module, or one that fails to import: both a registry error
        raise AdapterPathError(f"adapter {path!r}: cannot import {module_name}: {exc}") from exc
    adapter = getattr(module, class_name, None)
    family_adapter = ADAPTERS.get(family)
    if family_adapter is None:
        raise AdapterPathError(f"adapter {path!r}: unknown family {family!r}")
    if not (isinstance(adapter, type) and issubclass(adapter, family_adapter)):
        raise AdapterPathError(f"adapter {path!r}: {module_name} has no class {class_name} extending "
                               f"{family_adapter.__name__} (the {family} family's adapter)")
    return adapter


def adapter_for(source: Source) -> Adapter:
    adapter = site_adapter(source.adapter, source.family) if source.adapter else ADAPTERS[source.family]
    return adapter(source)


__all__ = ["ADAPTERS", "Adapter", "AdapterPathError", "ListPage", "Listing", "adapter_for", "site_adapter"]
