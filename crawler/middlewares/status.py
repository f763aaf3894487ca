"""Per-source HTTP statuses and download errors as stats, next to the network (below the cache).

Bumps ``yuqing/source/<id>/http/<code>`` for every response (robots.txt apart) and
``yuqing/source/<id>/error/<kind>`` for every download exception, so the health extension can tell a
site that is down, blocking us, or answering 5xx from one that is merely quiet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response


def error_kind(exc: BaseException) -> str:
    """A short English key for a download failure (the stat name's last part)."""
    name = type(exc).__name__
    text = str(exc)
    if "max redirections" in text or "redirect" in name.lower():
        return "redirect_loop"
    if "maxsize" in text or "max size" in text or "larger than download max size" in text:
        return "too_large"
    if "Timeout" in name or "timed out" in text.lower() or "took longer than" in text:
        return "timeout"
    if "Refused" in name:
        return "connection_refused"
    if "DNS" in name:
        return "dns"
    if "Robots" in text or "robots.txt" in text:
        return "robots_forbidden"
    if "dataloss" in text.lower() or "PotentialDataLoss" in text:
        return "truncated"
    if name in ("ResponseFailed", "ConnectionLost", "ResponseNeverReceived", "ConnectionDone"):
        return "dropped"
    if isinstance(exc, IgnoreRequest):
        return "ignored"
    return name.lower()


class SourceStatusMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceStatusMiddleware:
        return cls(crawler)

    def _prefix(self) -> str:
        spider = self.crawler.spider
        return f"yuqing/source/{getattr(spider, 'source_id', '') or 'unknown'}"

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if not request.meta.get("dont_obey_robotstxt"):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"{self._prefix()}/http/{response.status}")
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> None:
        if not request.meta.get("dont_obey_robotstxt"):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"{self._prefix()}/error/{error_kind(exception)}")
        return None
