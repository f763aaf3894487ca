"""The HTTP cache storage behind conditional requests: entries are written whole, damaged ones ignored."""

from __future__ import annotations

import os
import time
from pathlib import Path

from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from crawler.middlewares.cache import SafeFilesystemCacheStorage
from crawler.spiders.rss import RssSpider


def _storage(tmp_path: Path, **settings: object) -> tuple[SafeFilesystemCacheStorage, RssSpider]:
    crawler = get_crawler(RssSpider, {"HTTPCACHE_DIR": str(tmp_path), "HTTPCACHE_GZIP": True, **settings})
    spider = RssSpider(source="x")
    spider.crawler = crawler
    storage = SafeFilesystemCacheStorage(crawler.settings)
    storage.open_spider(spider)
    return storage, spider


def test_entries_are_written_whole_and_replaced_whole(tmp_path: Path) -> None:
    storage, spider = _storage(tmp_path)
    request = Request("http://127.0.0.1/news/1.html")
    for body in (b"<html>first</html>", b"<html>second</html>"):
        response = HtmlResponse("http://127.0.0.1/news/1.html?r", status=200, body=body,
                                headers={"ETag": '"e"', "Set-Cookie": ["a=1", "b=2"]})
        storage.store_response(spider, request, response)
        got = storage.retrieve_response(spider, request)
        assert got is not None and got.body == body and got.status == 200 and got.url == response.url
        assert isinstance(got, HtmlResponse)
        assert got.headers[b"ETag"] == b'"e"' and got.headers.getlist(b"Set-Cookie") == [b"a=1", b"b=2"]
        assert request.meta["cache_timestamp"] > 0
    entry = storage.entry_path(spider, request)
    assert sorted(p.name for p in entry.parent.iterdir()) == [entry.name]  # no temporary files left


def test_uncompressed_entries_and_other_response_classes(tmp_path: Path) -> None:
    storage, spider = _storage(tmp_path, HTTPCACHE_GZIP=False)
    request = Request("http://127.0.0.1/weibo/api?page=1")
    body = '{"ok": 1, "text": "示例县"}'.encode()
    storage.store_response(spider, request, TextResponse(request.url, body=body, encoding="utf-8"))
    got = storage.retrieve_response(spider, request)
    assert isinstance(got, TextResponse) and got.text == '{"ok": 1, "text": "示例县"}'


def test_entries_damaged_by_a_kill_are_treated_as_absent(tmp_path: Path) -> None:
    storage, spider = _storage(tmp_path)
    request = Request("http://127.0.0.1/tieba/p/1")
    storage.store_response(spider, request, HtmlResponse(request.url, body=b"<html>thread</html>"))
    entry = storage.entry_path(spider, request)
    whole = entry.read_bytes()
    for damaged in (b"", whole[:1], whole[: len(whole) // 2], b"Zgarbage", b"P\x80\x05garbage", b"<html>"):
        entry.write_bytes(damaged)
        assert storage.retrieve_response(spider, request) is None
    # An empty 200 body is never worth revalidating either.
    storage.store_response(spider, request, HtmlResponse(request.url, body=b""))
    assert storage.retrieve_response(spider, request) is None


def test_expired_and_legacy_entries(tmp_path: Path) -> None:
    storage, spider = _storage(tmp_path, HTTPCACHE_EXPIRATION_SECS=60)
    request = Request("http://127.0.0.1/bbs/forum.php?mod=viewthread&tid=1")
    entry = storage.entry_path(spider, request)
    legacy = entry.with_suffix("")  # Scrapy's folder layout, as an older version wrote it
    legacy.mkdir(parents=True)
    (legacy / "response_body").write_bytes(b"old")
    assert storage.retrieve_response(spider, request) is None
    storage.store_response(spider, request, HtmlResponse(request.url, body=b"<html>new</html>"))
    assert not legacy.exists()
    got = storage.retrieve_response(spider, request)
    assert got is not None and got.body == b"<html>new</html>"
    old = time.time() - 120
    os.utime(entry, (old, old))
    assert storage.retrieve_response(spider, request) is None
