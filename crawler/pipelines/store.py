"""Save each parsed page: evidence (gzip + SHA-256), posts upserted by stable id, the seen-url row.

A page whose fingerprint equals the one stored last time (typically a 304 answered from the HTTP cache)
writes nothing but is still counted, so a re-run of an unchanged source is cheap and adds nothing.
Counts: ``yuqing/posts`` (posts on the pages read), ``yuqing/posts/new|changed|same``,
``yuqing/pages/unchanged``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alerting.store.crawl_state import save_page
from crawler.items import PageItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

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
        result = save_page(
            spider.store, source_id=item.source_id, url=item.url, posts=item.posts, fingerprint=item.fingerprint,
            body=item.body, status=item.status, content_type=item.content_type, next_visit=item.next_visit,
            item_count=len(item.posts) or item.links, also_seen=item.also_seen,
        )
        for key in ("new", "changed", "same"):
            if getattr(result, key):
                stats.inc_value(f"yuqing/posts/{key}", getattr(result, key))
        return item
