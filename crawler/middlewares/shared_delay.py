"""One politeness delay per site across all crawl processes.

Every source crawls in its own process, so Scrapy's per-domain delay only spaces the requests of one
source. Two sources on the same site (a county portal's RSS feed and its news list, or two Tieba boards)
crawled at the same time would together reach the site twice as often as configured. Here every request
reserves the next free time for its host in a small file shared by the crawl processes
(``<crawl state>/politeness/<host>.slot``, under an exclusive ``flock``): reservations are
``DOWNLOAD_DELAY`` apart (or the AutoThrottle delay of the host, when that is larger) and the request waits
for its own. Each process's own randomised delay still applies on top, so single gaps vary; over a
crawl the site sees at most one request per delay from all of our processes together. A source with no
delay (tests, benchmarks) skips all of this; ``YUQING_SHARED_DELAY = False`` turns it off (e.g. when the
crawl state folder is on a file system without working ``flock``).
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request

_SLOT = struct.Struct("<d")  # the host's next free time, seconds since the epoch
# A reservation further ahead than this is left over from a clock change, not a queue: start afresh.
_STALE_AHEAD_S = 3600.0


class SiteSlots:
    """Next free request time per host, shared between processes through one file per host."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fds: dict[str, int] = {}

    def _fd(self, host: str) -> int:
        fd = self._fds.get(host)
        if fd is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9.-]", "_", host) or "_"
            fd = os.open(self.folder / f"{name}.slot", os.O_RDWR | os.O_CREAT, 0o644)
            self._fds[host] = fd
        return fd

    def reserve(self, host: str, delay: float, now: float | None = None) -> float:
        """Take the host's next free time and push it ``delay`` further; return how long to wait for it."""
        fd = self._fd(host)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            now = time.time() if now is None else now
            raw = os.pread(fd, _SLOT.size, 0)
            free = _SLOT.unpack(raw)[0] if len(raw) == _SLOT.size else 0.0
            if free - now > _STALE_AHEAD_S:
                free = now
            slot = max(now, free)
            os.pwrite(fd, _SLOT.pack(slot + delay), 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        return slot - now

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


class SharedDelayMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.enabled = crawler.settings.getbool("YUQING_SHARED_DELAY", True)
        self.slots: SiteSlots | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedDelayMiddleware:
        mw = cls(crawler)
        if not mw.enabled or mw.delay <= 0:
            raise NotConfigured("no delay to share")  # not even a coroutine per request
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        state_dir = getattr(getattr(spider, "cfg", None), "crawl_state_dir", None)
        if state_dir is not None:
            self.slots = SiteSlots(Path(state_dir) / "politeness")

    def spider_closed(self, spider: Spider) -> None:
        if self.slots is not None:
            self.slots.close()

    def _host_delay(self, request: Request) -> float:
        """The configured delay, or the host's AutoThrottle delay when that has grown larger."""
        downloader = getattr(self.crawler.engine, "downloader", None)
        slot = downloader.slots.get(downloader.get_slot_key(request)) if downloader is not None else None
        return max(self.delay, float(getattr(slot, "delay", 0.0) or 0.0))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlparse_cached(request).hostname
        if self.slots is None or not host:
            return
        wait = self.slots.reserve(host, self._host_delay(request))
        if wait > 0:
            stats = self.crawler.stats
            if stats is not None:
                stats.inc_value("yuqing/politeness/shared_waits")
                stats.inc_value("yuqing/politeness/shared_wait_ms", int(wait * 1000))
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))  # type: ignore[arg-type]
