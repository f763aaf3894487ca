"""HTTP cache storage that survives a crawl killed with -9 at any moment.

Scrapy's filesystem storage writes an entry as several files, in place. A process killed between two of
them leaves an entry that either raises on read or — worse — reads back as a valid response with an
empty or stale body (a gzip file killed before its first write is an empty file, which reads as b""),
which a revalidation (304) would then hand to the spider as the page. Here an entry is written into a
temporary folder and moved into place whole, so it is either complete or absent; a damaged entry found
anyway (written by an older version) is treated as absent. Either way the page is simply fetched again.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.extensions.httpcache import FilesystemCacheStorage

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class SafeFilesystemCacheStorage(FilesystemCacheStorage):
    _writing: str | None = None

    def _get_request_path(self, spider: Spider, request: Request) -> str:
        return self._writing or super()._get_request_path(spider, request)

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        final = Path(super()._get_request_path(spider, request))
        tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}")
        old = final.with_name(f"{final.name}.old-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)  # left by a killed run
        self._writing = str(tmp)
        try:
            super().store_response(spider, request, response)
        finally:
            self._writing = None
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
        tmp.rename(final)  # a kill between the two renames leaves no entry: the page is fetched afresh
        shutil.rmtree(old, ignore_errors=True)

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        try:
            response = super().retrieve_response(spider, request)
        except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError, KeyError) as exc:
            logger.warning("Ignoring a damaged cache entry for %s: %r", request.url, exc)
            return None
        if response is not None and response.status == 200 and not response.body:
            return None  # an empty stored page is never worth revalidating
        return response
