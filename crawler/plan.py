"""Which sources one crawl covers, and what follows from them: the hosts it may fetch from."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from crawler.locations import crawl_config
from crawler.registry import SANDBOX_PLACEHOLDER, Source, load_registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrawlPlan:
    sources: dict[str, Source]
    list_urls: dict[str, list[str]]   # each source's first list pages, {sandbox} resolved
    allowed_domains: list[str]        # the hosts documents may come from (offsite and redirect guards)
    private_hosts: set[str]           # host:port of allow_private sources (the sandbox)
    sandbox_url: str | None = None    # what {sandbox} stands for in this crawl

    @classmethod
    def from_settings(cls, settings: BaseSettings, only: list[str]) -> CrawlPlan:
        """The registry's sources (`only` these ids, when given); sandbox ones only with a sandbox URL.
        Registry errors are logged, and the entries they concern left out."""
        config = crawl_config(settings)
        sandbox_url = config.sandbox_url
        registry = load_registry(config.sources_dir)
        for error in registry.errors:
            logger.error("registry: %s", error)
        sources = {s.id: s for s in registry.select(only or None)
                   if sandbox_url or not any(SANDBOX_PLACEHOLDER in url for url in s.list_urls)}
        list_urls = {sid: s.resolved_urls(sandbox_url) for sid, s in sources.items()}
        return cls(sources, list_urls, sorted({host for s in sources.values() for host in s.hosts(sandbox_url)}),
                   {_host_port(url) for sid, s in sources.items() if s.allow_private for url in list_urls[sid]},
                   sandbox_url)


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or ''}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
