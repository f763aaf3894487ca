"""The HTTP cache storage behind conditional requests: entries are written whole, damaged ones ignored."""

from __future__ import annotations

from pathlib import Path

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.middlewares.cache import SafeFilesystemCacheStorage
from crawler.spiders.rss import RssSpider


def _storage(tmp_path: Path) -> tuple[SafeFilesystemCacheStorage, RssSpider]:
    crawler = get_crawler(RssSpider, {"HTTPCACHE_DIR": str(tmp_path), "HTTPCACHE_GZIP": True})
    spider = RssSpider(source="x")
    spider.crawler = crawler
    storage = SafeFilesystemCacheStorage(crawler.settings)
    storage.open_spider(spider)
    return storage, spider


def test_entries_are_written_whole_and_replaced_whole(tmp_path: Path) -> None:
    storage, spider = _storage(tmp_path)
    request = Request("http://127.0.0.1/news/1.html")
    for body in (b"<html>first</html>", b"<html>second</html>"):
        storage.store_response(spider, request, HtmlResponse(request.url, body=body, headers={"ETag": '"e"'}))
        got = storage.retrieve_response(spider, request)
        assert got is not None and got.body == body and got.headers[b"ETag"] == b'"e"'
    entry = Path(storage._get_request_path(spider, request))
    assert sorted(p.name for p in entry.parent.iterdir()) == [entry.name]  # no temporary or old folders left


def test_entries_damaged_by_a_kill_are_treated_as_absent(tmp_path: Path) -> None:
    storage, spider = _storage(tmp_path)
    request = Request("http://127.0.0.1/tieba/p/1")
    storage.store_response(spider, request, HtmlResponse(request.url, body=b"<html>thread</html>"))
    entry = Path(storage._get_request_path(spider, request))
    (entry / "response_body").write_bytes(b"")  # what a kill before the first write of the body leaves
    assert storage.retrieve_response(spider, request) is None
    (entry / "response_body").write_bytes(b"\x1f\x8b\x08\x00")  # a gzip stream cut short
    assert storage.retrieve_response(spider, request) is None
    (entry / "response_body").write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xffgarbage")  # not deflate
    assert storage.retrieve_response(spider, request) is None
    (entry / "pickled_meta").write_bytes(b"\x1f\x8b")  # meta cut short
    assert storage.retrieve_response(spider, request) is None
