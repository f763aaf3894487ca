"""robots.txt obeyed for every request, also when many start requests reach a site at once.

Scrapy's RobotsTxtMiddleware keeps one Deferred per site while robots.txt downloads and lets every
waiting request await that same Deferred. Awaiting a Deferred adds a callback that swallows its result,
so the first waiter gets the parser and every later one gets ``None`` — which the middleware treats as
"no robots.txt" and lets the request through (a /private/ URL among the start requests was fetched).
Here each waiter gets its own Deferred, fired with the parser once it is known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request
    from scrapy.robotstxt import RobotParser


class ConcurrentSafeRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self._waiters: dict[str, list[Deferred[RobotParser | None]]] = {}

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        known = self._parsers.get(netloc, _MISSING)
        if known is _MISSING:
            # The first request for this site downloads robots.txt (the parent does exactly that).
            parser = await super().robot_parser(request)
            for waiter in self._waiters.pop(netloc, []):
                waiter.callback(parser)
            return parser
        if isinstance(known, Deferred):  # still downloading: wait on a Deferred of our own
            mine: Deferred[RobotParser | None] = Deferred()
            self._waiters.setdefault(netloc, []).append(mine)
            return await maybe_deferred_to_future(mine)
        return known  # type: ignore[return-value]


_MISSING = object()
