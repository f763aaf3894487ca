"""HTTP cache storage that survives a crawl killed with -9 in the middle of writing an entry.

Scrapy's filesystem storage writes an entry as several files; a process killed between two of them
leaves an entry that raises on read. Such an entry is treated as absent (the page is fetched afresh).
"""

from __future__ import annotations

import logging
import pickle
from typing import TYPE_CHECKING

from scrapy.extensions.httpcache import FilesystemCacheStorage

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class SafeFilesystemCacheStorage(FilesystemCacheStorage):
    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        try:
            return super().retrieve_response(spider, request)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, KeyError) as exc:
            logger.warning("Ignoring a damaged cache entry for %s: %r", request.url, exc)
            return None
