"""The source registry as the stages need it: which sources, which crawl pool, which agencies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nianbao.stages.context import StageContext

if TYPE_CHECKING:
    from crawler.registry import Registry, Source

CRAWL_BATCH_SIZE = 4


class RegistryProblem(ValueError):
    """The registry cannot be read, has errors (each named by file:line), or names no such source."""


def checked_registry(context: StageContext) -> Registry:
    """The registry, or RegistryProblem listing every error: a broken entry stops the run, it is
    never silently left out."""
    from crawler.registry import load_registry

    registry = load_registry(context.sources_dir)
    if registry.errors:
        listed = "\n".join(f"  {error}" for error in registry.errors)
        raise RegistryProblem(f"the source registry has {len(registry.errors)} error(s):\n{listed}")
    return registry


def load_sources(context: StageContext, ids: Sequence[str] | None = None) -> list[Source]:
    from crawler.registry import SANDBOX_PLACEHOLDER

    registry = checked_registry(context)
    usable = [s for s in registry.sources if context.sandbox_url or SANDBOX_PLACEHOLDER not in "".join(s.list_urls)]
    if ids:
        known = {s.id for s in registry.sources}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise RegistryProblem(f"unknown source id(s): {', '.join(unknown)}")
        return [s for s in registry.sources if s.id in set(ids)]
    return usable


def sandbox_source_ids(context: StageContext) -> list[str]:
    """The sources served by the local sandbox portal (their URLs hold the {sandbox} placeholder)."""
    from crawler.registry import SANDBOX_PLACEHOLDER

    registry = checked_registry(context)
    return [s.id for s in registry.sources if any(SANDBOX_PLACEHOLDER in url for url in s.list_urls)]


def families() -> tuple[str, ...]:
    """The CMS families, each crawled in its own pool: the crawler's adapter table, read when asked."""
    from crawler.families import ADAPTERS

    return tuple(ADAPTERS)


def pool_name(family: str) -> str:
    """The Airflow pool that keeps crawls of one CMS family polite (one slot each by default)."""
    return f"nianbao_crawl_{family}"


def pools(slots: int = 1) -> dict[str, dict[str, object]]:
    """Every crawl pool, in the format of `airflow pools import`."""
    return {pool_name(family): {"slots": slots, "description": f"nianbao: crawls of {family} portals",
                                "include_deferred": False} for family in families()}


def crawl_batches(context: StageContext, family: str, ids: Sequence[str] | None = None,
                  batch_size: int = CRAWL_BATCH_SIZE) -> list[list[str]]:
    """The sources of one CMS family in batches, each batch one crawl process."""
    by_family: dict[str, list[str]] = defaultdict(list)
    for source in load_sources(context, ids):
        by_family[source.family].append(source.id)
    chosen = sorted(by_family.get(family, []))
    return [chosen[i:i + batch_size] for i in range(0, len(chosen), batch_size)]
