"""Weibo keyword search through the m.weibo.cn JSON API, long texts through the extend endpoint.

The login cookie comes from the environment variable (``cookie_env``) or file (``cookie_file``) the
source names; it is sent as a header and never logged. A login-expired answer stops the crawl with
the stat ``yuqing/login_expired`` (the run is recorded as login_expired).
"""

from __future__ import annotations

import os
from pathlib import Path

from crawler.spiders.news_search import KeywordSpider


class WeiboSearchSpider(KeywordSpider):
    name = "weibo_search"
    source_type = "weibo_search"
    entry_page = "weibo"
    link_pages = {"extend": "weibo_extend", "comments": "weibo_comments"}  # comments: with options.comments

    def cookie(self) -> str:
        if self.src.cookie_env and os.environ.get(self.src.cookie_env):
            return os.environ[self.src.cookie_env].strip()
        if self.src.cookie_file and Path(self.src.cookie_file).is_file():
            return Path(self.src.cookie_file).read_text(encoding="utf-8").strip()
        return ""

    async def start(self):  # type: ignore[no-untyped-def, override]
        if (self.src.cookie_env or self.src.cookie_file) and not self.cookie():
            # Named but empty: say so (without any value) — Weibo answers less, or asks for a login.
            where = f"variable {self.src.cookie_env}" if self.src.cookie_env else f"file {self.src.cookie_file}"
            self.logger.warning("Weibo cookie not set (%s is empty or missing); searching without login", where)
            self.crawler.stats.set_value("yuqing/cookie_missing", 1)
        async for request in super().start():
            yield request

    def request_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json, text/plain, */*", "X-Requested-With": "XMLHttpRequest",
                   "MWeibo-Pwa": "1"}
        cookie = self.cookie()
        if cookie:
            headers["Cookie"] = cookie
        return headers

    @classmethod
    def adjust_settings(cls, settings, cfg, src):  # type: ignore[no-untyped-def]
        # Search answers change by the minute, and the cache would write the Cookie header to disk.
        settings.set("HTTPCACHE_ENABLED", False, priority="spider")

    def filter_posts(self, posts, links):  # type: ignore[no-untyped-def]
        """A long weibo's cut text is kept only until its full text has been fetched once (then the extend
        page is skipped as seen, and the cut copy must not overwrite the stored full text)."""
        done = {str(link.meta.get("post", {}).get("id")) for link in links
                if link.kind == "extend" and link.url in self.seen}
        return [p for p in posts if p.id not in done]
