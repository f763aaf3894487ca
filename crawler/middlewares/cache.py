"""HTTP cache storage: one file per entry, written whole, so it survives a crawl killed with -9 at any moment.

Scrapy's filesystem storage writes an entry as seven files in a folder, in place: a process killed between
two of them leaves an entry that either raises on read or — worse — reads back as a valid response with an
empty or stale body, which a revalidation (304) would then hand to the spider as the page. It also costs
about a millisecond of CPU per page in file creation alone (a fifth of what the rest of a crawl costs).
Here an entry is one compressed pickle (``<key>.entry``) written to a temporary file and renamed into
place, so it is either complete or absent; a damaged entry found anyway is treated as absent, and an entry
in Scrapy's folder layout (written by an older version) is ignored and removed when the page is stored
again. Either way the page is simply fetched again.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import zlib
from pathlib import Path
from time import time
from typing import TYPE_CHECKING, Any

from scrapy.utils.project import data_path
from scrapy.utils.response import response_from_dict

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)
_SUFFIX = ".entry"
_LEVEL = 1  # the evidence table keeps the long-term copy; this one only has to be cheap to write


class SafeFilesystemCacheStorage:
    """A Scrapy ``HTTPCACHE_STORAGE``: ``HTTPCACHE_DIR``, ``HTTPCACHE_EXPIRATION_SECS`` and ``HTTPCACHE_GZIP``
    (compression on or off) mean what they mean for Scrapy's filesystem storage."""

    def __init__(self, settings: BaseSettings) -> None:
        self.cachedir = data_path(settings["HTTPCACHE_DIR"])
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")
        self.compress = settings.getbool("HTTPCACHE_GZIP")
        self._made: set[Path] = set()  # folders known to exist (one mkdir per folder, not per page)

    def open_spider(self, spider: Spider) -> None:
        self._fingerprinter = spider.crawler.request_fingerprinter

    def close_spider(self, spider: Spider) -> None:
        pass

    def entry_path(self, spider: Spider, request: Request) -> Path:
        key = self._fingerprinter.fingerprint(request).hex()
        return Path(self.cachedir, spider.name, key[0:2], key + _SUFFIX)

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        path = self.entry_path(spider, request)
        folder = path.parent
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        legacy = path.with_suffix("")
        if legacy.is_dir():  # Scrapy's layout from an older version
            shutil.rmtree(legacy, ignore_errors=True)
        data = response.to_dict()
        data["headers"] = {bytes(k): list(v) for k, v in response.headers.items()}
        entry = {"url": request.url, "method": request.method, "timestamp": time(), "response": data}
        raw = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(b"Z" + zlib.compress(raw, _LEVEL) if self.compress else b"P" + raw)
        os.replace(tmp, path)  # a kill before this line leaves the old entry (or none), never half of one

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        path = self.entry_path(spider, request)
        try:
            if 0 < self.expiration_secs < time() - path.stat().st_mtime:
                return None
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            kind, payload = blob[:1], blob[1:]
            if kind not in (b"Z", b"P"):
                raise ValueError(f"not a cache entry ({len(blob)} bytes)")
            entry: dict[str, Any] = pickle.loads(zlib.decompress(payload) if kind == b"Z" else payload)  # noqa: S301
            response = response_from_dict(entry["response"])
        except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError, KeyError, TypeError,
                AttributeError, IndexError) as exc:
            logger.warning("Ignoring a damaged cache entry for %s: %r", request.url, exc)
            return None
        if response.status == 200 and not response.body:
            return None  # an empty stored page is never worth revalidating
        request.meta["cache_timestamp"] = entry["timestamp"]
        return response
