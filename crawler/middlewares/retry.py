"""Retries for server errors and timeouts only, each after an exponentially growing pause.

The pause is taken when the retried request passes ``process_request`` again, so it holds the request
(and, through the per-domain concurrency limit, the site) back instead of hammering a failing server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.http import Request

BACKOFF_META = "yuqing_backoff"


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):  # type: ignore[no-untyped-def]
        super().__init__(settings)
        self.backoff_base = settings.getfloat("YUQING_RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("YUQING_RETRY_BACKOFF_MAX", 30.0)

    def _retry(self, request: Request, reason):  # type: ignore[no-untyped-def]
        new = super()._retry(request, reason)
        if new is not None and self.backoff_base > 0:
            attempt = int(new.meta.get("retry_times", 1))
            new.meta[BACKOFF_META] = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return new

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        delay = request.meta.pop(BACKOFF_META, 0)
        if delay:
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))  # type: ignore[arg-type]
