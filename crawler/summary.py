"""A crawl run's summary: the one schema the crawler writes and the CLI, the stages and the alerts read.

`crawler.extensions.RunSummary` builds it at the end of a run from the crawl's stats (counted
under `count_key(source, name)` by the spider and the raw-store pipeline) and from the failures
and candidates the spider yields; it goes to `<data dir>/crawl/runs/<run id>.json` and to the
crawl index's `runs` table. Readers: `CrawlSummary.model_validate(json)`; one source's figures
(the warehouse's crawl_runs.stats): `SourceSummary.model_validate(stats)`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from crawler.items import Candidate, ListPageProbe

Mode = Literal["probe", "full", "incremental"]
# a source looks broken: no report where an earlier run had some, none where some are expected,
# a list page that no longer parses or fails, a WAF challenge, a pager shown but not followed,
# a list that only a browser could read
Flag = Literal["zero_reports", "no_reports_found", "unparsable_page", "list_page_error", "challenge",
               "pager_unfollowed", "needs_browser"]


class SourceCounts(BaseModel):
    """What one run did for one source: every figure a stats counter of its own."""

    reports_listed: int = 0     # report links found on the list pages (each once)
    list_pages: int = 0
    article_pages: int = 0
    report_pages: int = 0       # pages of reports paginated over several HTML pages, each kept as one document
    documents: int = 0          # documents kept (new, changed or unchanged bytes)
    document_bytes: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0          # same bytes again, or a 304 for a known document
    not_modified: int = 0       # answered 304
    not_due: int = 0            # known and checked within the recheck interval: not asked


class SourceSummary(SourceCounts):
    errors: dict[str, int] = Field(default_factory=dict)    # failures by kind
    list_errors: dict[str, int] = Field(default_factory=dict)   # …of list pages (the listing may be broken)
    flags: list[Flag] = Field(default_factory=list)


class Pages(BaseModel):
    list: int = 0
    article: int = 0


class DocumentCounts(BaseModel):
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    not_modified: int = 0
    not_due: int = 0


class CrawlSummary(BaseModel):
    run_id: str
    mode: Mode
    finish_reason: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0    # this process's CPU from the first request to the end
    store_cpu_seconds: float = 0.0   # of which the raw-store thread's (bytes and rows of the items)
    pages: Pages = Field(default_factory=Pages)
    documents: DocumentCounts = Field(default_factory=DocumentCounts)
    document_bytes: int = 0
    responses: int = 0
    retries: int = 0
    retry_wait_ms: int = 0
    response_bytes: int = 0
    errors: dict[str, int] = Field(default_factory=dict)
    flags: dict[str, list[Flag]] = Field(default_factory=dict)   # only the sources with a flag
    sources: dict[str, SourceSummary] = Field(default_factory=dict)
    candidates: list[Candidate] = Field(default_factory=list)   # a probe's: reports a crawl would collect
    list_page_probes: list[ListPageProbe] = Field(default_factory=list)   # a probe's: what each list page gave

    @property
    def new_documents(self) -> int:
        return self.documents.new + self.documents.changed


COUNT_NAMES = frozenset(SourceCounts.model_fields)


STORE_CPU_STAT = "nianbao/store_cpu_us"   # the raw-store thread's CPU, in microseconds (a Scrapy stat)


def count_key(source_id: str, name: str) -> str:
    """The stats key of one of a source's `SourceCounts`."""
    if name not in COUNT_NAMES:
        raise KeyError(f"not a source count: {name!r}")
    return f"nianbao/source/{source_id}/{name}"
