"""Weibo pages that only work in a browser, rendered by the system Chromium through scrapy-playwright.

Only this spider uses the Playwright download handler (the others stay on plain HTTP). Images, fonts and
media are never downloaded; one browser context with a bounded number of pages (``crawler.max_browser_pages``).

Memory (issue 3: the crawl process tree under 400 MB; issue 7: the whole service under 500 MB with one
Chromium). Measured with bench/bench_crawl.py; what each choice saves is in docs/deployment.md:
- ``crawler.chromium_path`` should be Debian's ``chromium-headless-shell`` (the old headless mode, the same
  engine without the browser UI layer): about 230 MB of Chromium processes where the full ``chromium``
  in ``--headless`` mode takes about 410 MB. The flags below suit both.
- ``BROWSER_ARGS``: no separate GPU, network or zygote processes, one renderer process.
- ``DRIVER_NODE_OPTIONS``: a small young generation and no JIT for Playwright's node driver (its heap is otherwise
  sized for a test runner).
- ``shared_handler()``: one Playwright driver for http and https (scrapy-playwright alone starts one per
  scheme, an idle node process of about 80 MB).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any, ClassVar

from scrapy.http import Request
from scrapy.settings import Settings

from crawler.spiders.base import SourceSpider
from yuqing.config import Config, Source

BLOCKED_RESOURCES = frozenset({"image", "font", "media"})

BROWSER_ARGS = (
    "--no-sandbox",  # the service may run as root in a container; Chromium's sandbox then refuses to start
    "--disable-dev-shm-usage",  # a container's small /dev/shm crashes renderers; use /tmp instead
    "--disable-gpu",
    "--in-process-gpu",  # software compositing in the browser process instead of a GPU process of its own
    # No SwiftShader (software OpenGL/Vulkan) behind the disabled GPU: compositing and canvas stay on Skia's
    # CPU raster and WebGL is off, which no page we read needs. About 12 MB less PSS of Chromium processes
    # (204-211 -> 191-196 MB over 5 rendered pages, docs/deployment.md).
    "--disable-software-rasterizer",
    "--no-zygote",  # no pre-forked zygote processes (needs --no-sandbox): the renderer is started directly
    "--renderer-process-limit=1",  # every page of the crawl in one renderer (one site, one process)
    # The network service in the browser process instead of a utility process of its own. Chromium reads
    # one --enable-features: this replaces Playwright's (screenshot and sign-in tweaks we do not use).
    "--enable-features=NetworkServiceInProcess2",
    "--js-flags=--max-old-space-size=256",  # a runaway page script fails instead of growing without bound
)
# Passed to Playwright's node driver through the environment it inherits from the crawl process.
# --jitless: the driver only relays protocol messages, interpreted JavaScript is fast enough for that, and
# without compiled code it needs about 8 MB less (98–101 MB PSS instead of 106–112 over 5 rendered pages).
DRIVER_NODE_OPTIONS = ("--max-semi-space-size=1", "--max-old-space-size=256", "--jitless")


def abort_heavy(request: Any) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: skip images, fonts and media (text is all we keep)."""
    return request.resource_type in BLOCKED_RESOURCES


def driver_node_options(current: str | None) -> str:
    """NODE_OPTIONS for the driver: ours, then whatever the operator set (the later flag wins in node)."""
    ours = " ".join(DRIVER_NODE_OPTIONS)
    if current and current.startswith(ours):
        return current  # set already (the settings hook ran twice in this process)
    return f"{ours} {current}" if current else ours


@cache
def shared_handler() -> type:
    """scrapy-playwright's download handler, one instance per crawl for every scheme it is registered for.

    Scrapy builds one handler object per scheme, and each ScrapyPlaywrightDownloadHandler starts its own
    Playwright driver when the engine starts, so http + https meant two node processes. Built on first use
    so that the static spiders' processes never import scrapy-playwright (Scrapy imports every spider module).
    """
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler  # type: ignore[import-untyped]

    class SharedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):  # type: ignore[misc]
        @classmethod
        def from_crawler(cls, crawler: Any) -> Any:
            handler = getattr(crawler, "_yuqing_playwright_handler", None)
            if handler is None:
                handler = cls(crawler)
                crawler._yuqing_playwright_handler = handler
            return handler

        async def close(self) -> None:
            # Scrapy closes the handler of each scheme: the shared one once.
            if getattr(self, "_yuqing_closed", False):
                return
            self._yuqing_closed = True
            await super().close()

    return SharedPlaywrightHandler


class WeiboPageSpider(SourceSpider):
    name = "weibo_page"
    source_type = "weibo_page"
    entry_page = "weibo_rendered"
    link_pages: ClassVar[dict[str, str]] = {}

    @classmethod
    def adjust_settings(cls, settings: Settings, cfg: Config, src: Source) -> None:
        handler = shared_handler()
        settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority="spider")
        settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="spider")
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", {
            "executable_path": cfg.crawler.chromium_path, "headless": True, "args": list(BROWSER_ARGS),
        }, priority="spider")
        settings.set("PLAYWRIGHT_ABORT_REQUEST", abort_heavy, priority="spider")
        settings.set("PLAYWRIGHT_MAX_CONTEXTS", 1, priority="spider")
        settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", cfg.crawler.timeout_seconds * 1000, priority="spider")
        settings.set("HTTPCACHE_ENABLED", False, priority="spider")  # a rendered page has no validators
        # The driver is started later by the download handler and inherits this process's environment;
        # this process is the crawl of this one source (a `scrapy crawl` child), so nobody else sees it.
        os.environ["NODE_OPTIONS"] = driver_node_options(os.environ.get("NODE_OPTIONS"))

    def page_request(self, url: str, page_type: str, *, role: str, depth: int, pages: int = 1,
                     **meta: Any) -> Request:
        from scrapy_playwright.page import PageMethod  # type: ignore[import-untyped]

        request = super().page_request(url, page_type, role=role, depth=depth, pages=pages, **meta)
        # Wait until the page's scripts have fetched and rendered; a page that renders nothing is then the
        # parser's verdict (no_items → degraded), not a download timeout.
        request.meta.update(playwright=True, playwright_page_methods=[PageMethod("wait_for_load_state", "networkidle")])
        return request
