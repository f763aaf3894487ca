"""Weibo pages that only work in a browser, rendered by the system Chromium through scrapy-playwright.

Only this spider uses the Playwright download handler (the others stay on plain HTTP). Images, fonts and
media are never downloaded; pages and contexts are bounded (``crawler.max_browser_pages``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from scrapy.http import Request
from scrapy.settings import Settings

from crawler.spiders.base import SourceSpider
from yuqing.config import Config, Source

BLOCKED_RESOURCES = frozenset({"image", "font", "media"})


def abort_heavy(request: Any) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: skip images, fonts and media (text is all we keep)."""
    return request.resource_type in BLOCKED_RESOURCES


class WeiboPageSpider(SourceSpider):
    name = "weibo_page"
    source_type = "weibo_page"
    entry_page = "weibo_rendered"
    link_pages: ClassVar[dict[str, str]] = {}

    @classmethod
    def adjust_settings(cls, settings: Settings, cfg: Config, src: Source) -> None:
        handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
        settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority="spider")
        settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="spider")
        settings.set("PLAYWRIGHT_ABORT_REQUEST", abort_heavy, priority="spider")
        settings.set("PLAYWRIGHT_MAX_CONTEXTS", 1, priority="spider")
        settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", cfg.crawler.timeout_seconds * 1000, priority="spider")
        settings.set("HTTPCACHE_ENABLED", False, priority="spider")  # a rendered page has no validators

    def page_request(self, url: str, page_type: str, *, role: str, depth: int, pages: int = 1,
                     **meta: Any) -> Request:
        from scrapy_playwright.page import PageMethod  # type: ignore[import-untyped]

        request = super().page_request(url, page_type, role=role, depth=depth, pages=pages, **meta)
        # Wait until the page's scripts have fetched and rendered; a page that renders nothing is then the
        # parser's verdict (no_items → degraded), not a download timeout.
        request.meta.update(playwright=True, playwright_page_methods=[PageMethod("wait_for_load_state", "networkidle")])
        return request
