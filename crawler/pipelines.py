"""The raw-store pipeline: what the spider yields goes to the raw store and the crawl index.

Storage is slow I/O (a local disk, or an object store behind `s3://…`): it runs on one worker
thread, never on the reactor's. One thread keeps the items in the order the spider yielded
them (an article's own document is committed before its page row, which a resumed crawl
relies on). The items yielded within GROUP_WINDOW of the first one waiting, and those that queue
up while the thread is busy, are stored together, in one transaction (a group commit: every
transaction, and every hand-over of a group to the thread, costs CPU on both threads): every item's
bytes first, then the rows, so a crawl killed at any point loses and duplicates nothing — a row not
committed is a URL the next crawl fetches again, its bytes already in the store. A group whose
transaction fails is stored again item by item, so one item's error stays that item's. Bytes the
store cannot keep (a full disk, a refused PUT) become a `store_error` failure of the run, never a
silent gap: the item goes on as that failure.
"""

from __future__ import annotations

import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from crawler.index import DocumentIndex
from crawler.items import ArticlePage, Document, Failed, NotModified, PagePart, Quarantined
from crawler.known import KnownUrls
from crawler.locations import index_url, raw_store_url
from crawler.spiders.reports import ReportsSpider
from crawler.store import RawStore, StoreError
from crawler.summary import STORE_CPU_STAT, count_key
from report.document import Part, parts_digest

_STORED = (Document, ArticlePage, NotModified, Failed)
# Seconds a group waits, from its first item, for more before it goes to the thread: a fast crawl
# yields a few items per reactor turn, and a group of two or three items cost almost as much CPU
# again in its commit and hand-over as in storing them. A polite crawl's items arrive slower than that.
GROUP_WINDOW = 0.1


class RawStorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id = ""
        self.pool: ThreadPool | None = None     # None: nothing to store (a probe, or another spider)
        self.index: DocumentIndex | None = None
        self.store: RawStore | None = None
        self.known: KnownUrls | None = None     # the spider's: told of every URL a row is written for
        self.queued: list[tuple[Any, Deferred]] = []   # items waiting for the worker thread
        self.storing = False                    # a group is on the worker thread
        self.first_queued_at = 0.0              # when the oldest item waiting was queued (time.monotonic)
        self.due = False                        # the next group's start is set
        self.cpu_seconds = 0.0                  # the worker thread's CPU on the groups (the summary's store_cpu_seconds)

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
            self.crawler.stats.inc_value(STORE_CPU_STAT, round(self.cpu_seconds * 1_000_000))

    async def process_item(self, item: Any) -> Any:
        if self.pool is None or not isinstance(item, _STORED):
            return item
        outcome = await maybe_deferred_to_future(self._queue(item))
        if isinstance(outcome, Failed):
            return outcome
        if isinstance(item, Document):
            stats = self.crawler.stats
            assert stats is not None
            for name, value in ((outcome, 1), ("documents", 1), ("document_bytes", item.transferred)):
                stats.inc_value(count_key(item.source_id, name), value)
        return item

    def _queue(self, item: Any) -> Deferred:
        """The item's outcome, once the group it joins is stored."""
        stored: Deferred = Deferred()
        self.queued.append((item, stored))
        if len(self.queued) == 1:
            self.first_queued_at = time.monotonic()
        self._set_next_group()
        return stored

    def _set_next_group(self) -> None:
        """The items waiting go to the thread GROUP_WINDOW after the first of them was queued, or once
        the group on the thread is stored, whichever is later."""
        from twisted.internet import reactor

        if self.queued and not self.storing and not self.due:
            waited = time.monotonic() - self.first_queued_at
            deferLater(reactor, max(GROUP_WINDOW - waited, 0.0), self._store_queued)
            self.due = True

    def _store_queued(self) -> None:
        from twisted.internet import reactor

        assert self.pool is not None
        group, self.queued, self.storing, self.due = self.queued, [], True, False
        done = deferToThreadPool(reactor, self.pool, self._keep_group, [item for item, _ in group])
        done.addBoth(self._stored, [stored for _, stored in group])

    def _stored(self, outcomes: Any, waiting: list[Deferred]) -> None:
        self.storing = False
        if not isinstance(outcomes, list):          # the worker thread itself failed: every item's error
            outcomes = [outcomes] * len(waiting)
        for stored, outcome in zip(waiting, outcomes, strict=True):
            if isinstance(outcome, BaseException | Failure):
                stored.errback(outcome)
            else:
                stored.callback(outcome)
        self._set_next_group()

    async def _in_thread(self, function: Any, *args: Any) -> Any:
        from twisted.internet import reactor

        assert self.pool is not None
        return await maybe_deferred_to_future(deferToThreadPool(reactor, self.pool, function, *args))

    # ------------------------------------------------------------------ on the worker thread
    def _open(self, index: Any, store: str) -> None:
        self.index = DocumentIndex(index)
        self.store = RawStore(store)
        self.store.prepare_for_writing()

    def _close(self) -> None:
        if self.index is not None:
            self.index.close()

    def _keep_group(self, items: list[Any]) -> list[Any]:
        """Each item's outcome (`_keep`'s, or the exception it raised), the group in one transaction
        when it can be; the spider learns of the URLs once their rows are committed."""
        assert self.index is not None
        started = time.thread_time()
        try:
            with self.index.batch():
                outcomes = [self._keep(item) for item in items]
        except Exception:
            outcomes = [self._keep_alone(item) for item in items]
        for item, outcome in zip(items, outcomes, strict=True):
            if not isinstance(outcome, BaseException | Failed):    # Failed: its bytes could not be kept
                self._known(item)
        self.cpu_seconds += time.thread_time() - started
        return outcomes

    def _keep_alone(self, item: Any) -> Any:
        try:
            return self._keep(item)
        except Exception as exc:   # noqa: BLE001 - handed to the item's own Deferred: Scrapy logs it
            return exc

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
                return self._document(item)
            case ArticlePage():
                self.index.record_page(item.url, item.source_id, item.etag, item.last_modified, item.children)
            case NotModified():
                self._not_modified(item)
            case Failed():
                if isinstance(item, Quarantined):   # the bytes are kept, never as a document
                    item.sha256 = self.store.put(item.body) if item.body else None
                    self.index.quarantine(item.url, item.source_id or "", item.kind, item.detail, item.sha256,
                                          item.etag, item.last_modified)
                self.index.record_failure(self.run_id, item.source_id, item.url, item.kind, item.detail, item.sha256)
        return None

    def _may_hold(self, url: str) -> bool:
        """Whether the index may hold a row of `url`: a version, a page, a quarantine row (the spider's
        known URLs say when it holds none)."""
        return self.known is None or url in self.known.urls

    def _known(self, item: Any) -> None:
        """Tell the spider the index now holds a row of the item's URL (when it wrote one)."""
        if self.known is not None and isinstance(item, Document | ArticlePage | Quarantined):
            self.known.add(item.url)

    def _document(self, item: Document) -> str:
        """Bytes first, then the row; a multipart document's every page, then its one row."""
        assert self.index is not None and self.store is not None
        parts = [self._part(part) for part in item.parts]
        sha256 = parts_digest(parts) if parts else self.store.put(item.body)
        listed, may_hold = item.listed, self._may_hold(item.url)
        outcome = self.index.record(
            url=item.url, sha256=sha256, source_id=item.source_id, agency=item.agency, size=item.size,
            # a multipart document's bytes are its parts': the key is its first page's
            storage_key=RawStore.key(parts[0].sha256 if parts else sha256), run_id=self.run_id, parts=parts,
            release=may_hold, first=not may_hold, listing_title=listed.title, year=listed.year,
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
