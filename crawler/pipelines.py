"""The raw-store pipeline: what the spider yields goes to the raw store and the crawl index.

Storage is slow I/O (a local disk, or an object store behind `s3://…`): it runs on one worker
thread, never on the reactor's. One thread keeps the items in the order the spider yielded
them (an article's own document is committed before its page row, which a resumed crawl
relies on). Each document is committed on its own: bytes first, then the row, so a crawl killed at
any point loses and duplicates nothing. Bytes the store cannot keep (a full disk, a refused PUT)
become a `store_error` failure of the run, never a silent gap: the item goes on as that failure.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from crawler.index import DocumentIndex
from crawler.items import ArticlePage, Document, Failed, NotModified, PagePart, Quarantined
from crawler.known import KnownUrls
from crawler.locations import index_url, raw_store_url
from crawler.spiders.reports import ReportsSpider
from crawler.store import RawStore, StoreError
from crawler.summary import count_key
from report.document import Part, parts_digest

_STORED = (Document, ArticlePage, NotModified, Failed)


class RawStorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id = ""
        self.pool: ThreadPool | None = None     # None: nothing to store (a probe, or another spider)
        self.index: DocumentIndex | None = None
        self.store: RawStore | None = None
        self.known: KnownUrls | None = None     # the spider's: told of every URL a row is written for

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RawStorePipeline:
        return cls(crawler)

    async def open_spider(self) -> None:
        spider = self.crawler.spider
        if not isinstance(spider, ReportsSpider) or spider.probe:
            return
        self.run_id = spider.run_id
        self.known = spider.known
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="nianbao-raw-store")
        self.pool.start()
        settings = self.crawler.settings
        await self._in_thread(self._open, index_url(settings), raw_store_url(settings))

    async def close_spider(self) -> None:
        if self.pool is None:
            return
        try:
            await self._in_thread(self._close)
        finally:
            self.pool.stop()
            self.pool = None

    async def process_item(self, item: Any) -> Any:
        if self.pool is None or not isinstance(item, _STORED):
            return item
        outcome = await self._in_thread(self._keep, item)
        if isinstance(outcome, Failed):
            return outcome
        if isinstance(item, Document):
            stats = self.crawler.stats
            assert stats is not None
            for name, value in ((outcome, 1), ("documents", 1), ("document_bytes", item.transferred)):
                stats.inc_value(count_key(item.source_id, name), value)
        return item

    async def _in_thread(self, function: Any, *args: Any) -> Any:
        from twisted.internet import reactor

        assert self.pool is not None
        return await maybe_deferred_to_future(deferToThreadPool(reactor, self.pool, function, *args))

    # ------------------------------------------------------------------ on the worker thread
    def _open(self, index: Any, store: str) -> None:
        self.index = DocumentIndex(index)
        self.store = RawStore(store)

    def _close(self) -> None:
        if self.index is not None:
            self.index.close()

    def _keep(self, item: Any) -> str | Failed | None:
        """Store one item; for a document, whether its bytes are new, changed or unchanged; the
        `store_error` failure (recorded) when the raw store could not keep its bytes."""
        try:
            return self._keep_item(item)
        except StoreError as exc:
            assert self.index is not None
            year = item.listed.year if isinstance(item, Document) else None
            failure = Failed(item.source_id, item.url, "store_error", str(exc), year=year)
            self.index.record_failure(self.run_id, failure.source_id, failure.url, failure.kind, failure.detail,
                                      year=year)
            return failure

    def _keep_item(self, item: Any) -> str | None:
        assert self.index is not None and self.store is not None
        match item:
            case Document():
                outcome = self._document(item)
                self._known(item.url)
                return outcome
            case ArticlePage():
                self.index.record_page(item.url, item.source_id, item.etag, item.last_modified, item.children)
                self._known(item.url)
            case NotModified():
                self._not_modified(item)
            case Failed():
                if isinstance(item, Quarantined):   # the bytes are kept, never as a document
                    item.sha256 = self.store.put(item.body) if item.body else None
                    self.index.quarantine(item.url, item.source_id or "", item.kind, item.detail, item.sha256,
                                          item.etag, item.last_modified)
                    self._known(item.url)
                self.index.record_failure(self.run_id, item.source_id, item.url, item.kind, item.detail, item.sha256)
        return None

    def _may_be_held(self, url: str) -> bool:
        """Whether the index may hold a quarantine row of `url` (not when it holds no row of it at all)."""
        return self.known is None or url in self.known.urls

    def _known(self, url: str) -> None:
        if self.known is not None:
            self.known.add(url)

    def _document(self, item: Document) -> str:
        """Bytes first, then the row; a multipart document's every page, then its one row."""
        assert self.index is not None and self.store is not None
        parts = [self._part(part) for part in item.parts]
        sha256 = parts_digest(parts) if parts else self.store.put(item.body)
        listed = item.listed
        outcome = self.index.record(
            url=item.url, sha256=sha256, source_id=item.source_id, agency=item.agency, size=item.size,
            # a multipart document's bytes are its parts': the key is its first page's
            storage_key=RawStore.key(parts[0].sha256 if parts else sha256), run_id=self.run_id, parts=parts,
            release=self._may_be_held(item.url), listing_title=listed.title, year=listed.year,
            listing_date=listed.listed, content_type=item.content_type, real_kind=item.real_kind,
            filename=item.filename or listed.filename, etag=item.etag, last_modified=item.last_modified,
            referer=item.referer)
        return outcome

    def _part(self, part: PagePart) -> Part:
        """A page of a multipart document in the raw store (a page that answered 304 is there already)."""
        assert self.store is not None
        if part.body is None:
            assert part.known is not None, part.url
            return part.known
        return Part(part.url, self.store.put(part.body), len(part.body), part.etag, part.last_modified)

    def _not_modified(self, item: NotModified) -> None:
        assert self.index is not None
        if item.document:
            self.index.touch(item.url)
        if item.quarantined:
            self.index.touch_quarantine(item.url)
        if item.page:
            self.index.touch_page(item.url)
