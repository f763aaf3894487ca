"""Save parsed pages: evidence (gzip + SHA-256), posts upserted by stable id, the seen-url rows.

Pages are saved a batch at a time — ``YUQING_SAVE_BATCH`` pages (default 32) or whatever arrived in the
last ``YUQING_SAVE_SECONDS`` (default 1 s), and the rest when the spider closes — each batch in one
transaction: one commit and a few set-based statements instead of a transaction per page (which cost a
fifth of a crawl's CPU). A crawl killed with -9 loses at most the unsaved batch, seen-url rows included,
so the next run fetches those pages again: nothing is lost or duplicated.

A page whose fingerprint equals the one stored last time (typically a 304 answered from the HTTP cache)
writes nothing but is still counted, so a re-run of an unchanged source is cheap and adds nothing.
Counts: ``yuqing/posts`` (posts on the pages read), ``yuqing/posts/new|changed|same``,
``yuqing/pages/unchanged``, ``yuqing/store_failed`` (pages the database refused; the run is degraded).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from twisted.internet import task

from alerting.store.crawl_state import PageRecord, save_pages
from crawler.items import PageItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.batch_size = max(1, crawler.settings.getint("YUQING_SAVE_BATCH", 32))
        self.max_wait = crawler.settings.getfloat("YUQING_SAVE_SECONDS", 1.0)
        self._pending: list[PageRecord] = []
        self._oldest = 0.0
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        if self.max_wait > 0:  # a slow crawl still saves what it has every second or so
            self._timer = task.LoopingCall(self._flush_if_due)
            self._timer.start(self.max_wait / 2, now=False)

    def close_spider(self, spider: Any = None) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.flush()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        spider = self.crawler.spider
        stats = self.crawler.stats
        assert stats is not None and spider is not None
        stats.inc_value("yuqing/posts", len(item.posts))
        previous = spider.seen.get(item.url)
        if previous is not None and previous.fingerprint == item.fingerprint and not item.also_seen \
                and previous.next_visit == item.next_visit:
            stats.inc_value("yuqing/pages/unchanged")
            stats.inc_value("yuqing/posts/same", len(item.posts))
            return item
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append(PageRecord(
            source_id=item.source_id, url=item.url, posts=item.posts, fingerprint=item.fingerprint, body=item.body,
            status=item.status, content_type=item.content_type, next_visit=item.next_visit,
            item_count=len(item.posts) or item.links, also_seen=item.also_seen,
        ))
        if len(self._pending) >= self.batch_size:
            self.flush()
        return item

    def _flush_if_due(self) -> None:
        if self._pending and time.monotonic() - self._oldest >= self.max_wait:
            self.flush()

    def flush(self) -> None:
        """Save the pending pages in one transaction; when that fails, each page alone (one bad page must
        not cost the others), counting and logging the pages that still fail."""
        pages, self._pending = self._pending, []
        if not pages:
            return
        spider = self.crawler.spider
        try:
            results = save_pages(spider.store, pages)  # type: ignore[union-attr]
        except Exception:
            if len(pages) == 1:
                self._failed(pages[0])
                return
            logger.warning("Saving %d pages together failed; saving them one by one", len(pages), exc_info=True)
            for page in pages:
                try:
                    results = save_pages(spider.store, [page])  # type: ignore[union-attr]
                except Exception:
                    self._failed(page)
                else:
                    self._count(results)
            return
        self._count(results)

    def _count(self, results: list[Any]) -> None:
        stats = self.crawler.stats
        assert stats is not None
        for result in results:
            for key in ("new", "changed", "same"):
                if getattr(result, key):
                    stats.inc_value(f"yuqing/posts/{key}", getattr(result, key))

    def _failed(self, page: PageRecord) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("yuqing/store_failed")
        logger.exception("Could not save %s (%d posts)", page.url, len(page.posts))
