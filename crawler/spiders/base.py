"""The one spider all source types share: configuration, incremental following, page objects, counting.

A spider per source type (crawler/spiders/<type>.py) only says which page object parses its start
pages and which parses each kind of link. Everything else is here:

- ``from_crawler`` loads the configuration (``-a config=DIR``, the ``YUQING_CONFIG`` setting or
  environment variable, else ./config), picks the source (``-a source=ID``) and applies its politeness
  (config/county.yaml ``crawler:`` with the source's ``politeness`` overrides) to the crawler settings
  before they freeze — so ``scrapy crawl`` and the runner crawl with exactly the same settings;
- following links obeys the depth, page and age limits and the crawler's memory (seen URLs): articles
  already stored are not fetched again, threads only when their listing changed or their revisit is due;
- every parse failure is a typed ParseError counted as ``yuqing/parse/<reason>``; an expired login
  stops the crawl (``yuqing/login_expired``) — the health extension turns the counts into a verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response
from scrapy.settings import Settings
from twisted.python.failure import Failure

from alerting.store import Store
from alerting.store.crawl_state import SeenUrl, load_seen
from crawler.items import PageItem, fingerprint
from crawler.middlewares.status import error_kind
from crawler.pages import Link, LoginExpired, PageInput, ParseError, page_for
from crawler.spiders.sources import config_dir_from, page_options, pick_source, source_settings
from yuqing.config import Config, Source, load_config
from yuqing.model import Post, utcnow

# Link kinds that lead to a single post page, fetched once (unless a revisit is due).
LEAF_KINDS = ("article", "extend")


def _listing_fingerprint(link: Link, comments: int | None = None) -> str:
    """What a list page says about a thread (reply count, last reply; for a weibo's comments, its comment
    count): a change means new replies."""
    keys = ("replies", "last_reply_raw")
    shown = "|".join(str(link.meta.get(k, "")) for k in keys) + f"|{comments}"
    return hashlib.sha256(f"{link.url}|{shown}".encode()).hexdigest()


class SourceSpider(scrapy.Spider):
    """Base of the seven source-type spiders; run with ``scrapy crawl <type> -a source=<id>``."""

    source_type: ClassVar[str] = ""
    entry_page: ClassVar[str] = ""
    link_pages: ClassVar[dict[str, str]] = {}  # link kind → page type

    cfg: Config
    src: Source
    store: Store
    seen: dict[str, SeenUrl]

    def __init__(self, *args: Any, source: str = "", config: str | None = None, run_id: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source_id = source
        self.config_arg = config
        self.run_id = int(run_id) if run_id else None
        self.started_at = utcnow()
        self.options: dict[str, Any] = {}
        self._parse_failures: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SourceSpider:
        cfg = load_config(config_dir_from(crawler.settings, kwargs.get("config")))
        src = pick_source(cfg, cls.source_type, kwargs.get("source"))
        kwargs["source"] = src.id
        kwargs.setdefault("run_id", crawler.settings.get("YUQING_RUN_ID"))
        crawler.settings.setdict(source_settings(cfg, src), priority="spider")
        cls.adjust_settings(crawler.settings, cfg, src)
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, SourceSpider)
        spider.cfg, spider.src = cfg, src
        spider.options = page_options(src)
        # The runner migrates once before starting its children; a bare `scrapy crawl` migrates itself.
        spider.store = Store(crawler.settings.get("YUQING_DATABASE_URL") or cfg.database_url)
        if spider.run_id is None:
            spider.store.migrate()
        spider.seen = load_seen(spider.store, src.id)
        return spider

    @classmethod
    def adjust_settings(cls, settings: Settings, cfg: Config, src: Source) -> None:
        """Hook for a spider type that needs more (the browser spider's download handlers)."""

    # --- requests ----------------------------------------------------------------------------------
    def entry_urls(self) -> list[str]:
        return list(self.src.urls)

    async def start(self) -> AsyncIterator[Request]:
        for url in self.entry_urls():
            yield self.page_request(url, self.entry_page, role="entry", depth=0, pages=1)

    def page_request(self, url: str, page_type: str, *, role: str, depth: int, pages: int = 1,
                     **meta: Any) -> Request:
        return Request(
            url,
            callback=self.parse_page,
            errback=self.on_error,
            meta={"page_type": page_type, "role": role, "depth_": depth, "pages": pages, **meta},
            headers=self.request_headers(),
            dont_filter=role == "entry",
        )

    def request_headers(self) -> dict[str, str]:
        return {}

    # --- parsing -------------------------------------------------------------------------------------
    def page_input(self, response: Response, extra: dict[str, Any] | None = None) -> PageInput:
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        opts = {**self.options, **(extra or {})}
        return PageInput(url=response.url, body=response.body, headers=headers, source=self.src.id,
                         crawled_at=utcnow(), options=opts)

    def parse_page(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        page_type, role = meta["page_type"], meta["role"]
        stats = self.crawler.stats
        stats.inc_value("yuqing/pages")
        stats.inc_value(f"yuqing/pages/{role}")
        cached = "cached" in response.flags
        if cached:
            stats.inc_value("yuqing/pages/not_modified")
        link_meta = meta.get("link_meta") or {}
        extra = {"link": link_meta, **({"post": link_meta["post"]} if "post" in link_meta else {})}
        page = page_for(page_type, self.page_input(response, extra))
        posts = self._extract(page, "posts", response)
        links = self._extract(page, "links", response)
        links = links or []
        posts = self.filter_posts(self.keep_recent(posts or []), links)
        stats.inc_value("yuqing/posts/parsed", len(posts))
        previous = self.seen.get(response.url)
        # A start page (a board, a feed, page 1 of a search) that used to list items and lists none now; later
        # pages of a search may empty out naturally, so only the start page counts.
        if role == "entry" and not links and not posts and previous and previous.item_count:
            stats.inc_value("yuqing/parse/items_vanished")
        # Comment counts of the posts on this page, for deciding whether their comment pages changed.
        response.meta["_comment_counts"] = {p.id: p.metrics.comments for p in posts}
        requests = [r for r in (self.follow(link, response) for link in links) if r is not None]
        requests += list(self.more_requests(response, posts, links))
        page_fp = fingerprint(posts, [li.url for li in links])
        next_visit = self.next_visit(role)
        # A link that redirected is remembered under the URL the list showed too (that is what it is
        # looked up by next time).
        also_seen = [(url, page_fp, len(posts) or len(links), next_visit)
                     for url in meta.get("redirect_urls", []) if url != response.url]
        is_last = not any(r.meta.get("role") == meta["role"] and r.meta.get("chain") for r in requests)
        if meta.get("listing") and is_last:
            also_seen.append(meta["listing"])  # the thread is fully read: remember its listing entry
        yield PageItem(
            url=response.url, source_id=self.src.id, page_type=page_type, role=role, status=response.status,
            content_type=(response.headers.get(b"Content-Type") or b"").decode("latin-1"), body=response.body,
            posts=posts, links=len(links), fingerprint=page_fp, cached=cached, next_visit=next_visit,
            also_seen=also_seen,
        )
        yield from requests

    def _extract(self, page: Any, what: str, response: Response) -> Any:
        try:
            return getattr(page, what)()
        except LoginExpired as exc:
            self.crawler.stats.inc_value("yuqing/login_expired")
            self.crawler.stats.inc_value("yuqing/parse/login_expired")
            self.logger.warning("Login expired at %s: %s", response.url, exc.detail or exc.reason)
            raise CloseSpider("login_expired") from None
        except ParseError as exc:
            if (exc.reason, response.url) not in self._parse_failures:  # once per page, not per call
                self._parse_failures.add((exc.reason, response.url))
                self.crawler.stats.inc_value(f"yuqing/parse/{exc.reason}")
                self.crawler.stats.inc_value(f"yuqing/parse_failed/{response.meta['role']}")
            self.logger.info("Parse failure (%s) at %s: %s", exc.reason, response.url, exc.detail)
            return None

    def keep_recent(self, posts: list[Post]) -> list[Post]:
        """Posts within ``max_age_days``; an old thread's first post stays while it gets new replies (they
        point at it with ``thread_id``)."""
        cutoff = utcnow() - timedelta(days=self.src.max_age_days)
        recent = {p.id for p in posts if p.published_at is None or p.published_at >= cutoff}
        parents = {p.thread_id for p in posts if p.id in recent and p.thread_id}
        kept = [p for p in posts if p.id in recent or p.id in parents]
        if len(kept) != len(posts):
            self.crawler.stats.inc_value("yuqing/skipped/too_old", len(posts) - len(kept))
        return kept

    def filter_posts(self, posts: list[Post], links: list[Link]) -> list[Post]:
        return posts

    def next_visit(self, role: str) -> datetime | None:
        if role == "thread" and self.src.revisit_minutes:
            return utcnow() + timedelta(minutes=self.src.revisit_minutes)
        return None

    def more_requests(self, response: Response, posts: list[Post], links: list[Link]) -> Iterator[Request]:
        """Extra requests a source type derives itself (search result pages by number)."""
        return iter(())

    # --- following -------------------------------------------------------------------------------------
    def follow(self, link: Link, response: Response) -> Request | None:
        meta = response.meta
        stats = self.crawler.stats
        parent_type, role, depth = meta["page_type"], meta["role"], meta["depth_"]
        if link.kind == "next":
            if meta["pages"] >= self.src.max_pages:
                stats.inc_value("yuqing/skipped/max_pages")
                return None
            next_role = "list" if role in ("entry", "list") else role
            return self.page_request(link.url, parent_type, role=next_role, depth=depth, pages=meta["pages"] + 1,
                                     chain=True, listing=meta.get("listing"), link_meta=meta.get("link_meta", {}))
        page_type = self.link_pages.get(link.kind)
        if page_type is None:
            return None
        if depth + 1 > self.src.max_depth:
            stats.inc_value("yuqing/skipped/depth")
            return None
        published = _aware(link.meta.get("last_reply_at") or link.meta.get("published"))
        if published is not None and published < utcnow() - timedelta(days=self.src.max_age_days):
            stats.inc_value("yuqing/skipped/too_old")
            return None
        seen = self.seen.get(link.url)
        due = seen is not None and seen.next_visit is not None and seen.next_visit <= utcnow()
        extra: dict[str, Any] = {"link_meta": dict(link.meta)}
        if link.kind in LEAF_KINDS:
            if seen is not None and not due:
                stats.inc_value("yuqing/skipped/seen")
                return None
            next_role = "leaf"
        else:  # a thread: revisit when its listing changed or its revisit is due
            key = link.url + "#listing"
            listing_fp = _listing_fingerprint(link, meta.get("_comment_counts", {}).get(link.meta.get("post_id")))
            known = self.seen.get(key)
            if seen is not None and known is not None and known.fingerprint == listing_fp and not due:
                stats.inc_value("yuqing/skipped/unchanged_thread")
                return None
            extra["listing"] = (key, listing_fp, 0, None)
            next_role = "thread"
        return self.page_request(link.url, page_type, role=next_role, depth=depth + 1, pages=1, **extra)

    # --- failures ------------------------------------------------------------------------------------
    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        role = request.meta.get("role", "leaf")
        exc = failure.value
        response = getattr(exc, "response", None)
        kind = f"http_{response.status}" if response is not None else error_kind(exc)
        stats = self.crawler.stats
        if kind == "robots_forbidden":  # policy, not a failure: counted apart (and by Scrapy's robotstxt/*)
            stats.inc_value(f"yuqing/robots_forbidden/{role}")
            return
        stats.inc_value(f"yuqing/failed/{role}")
        stats.inc_value(f"yuqing/failed/kind/{kind}")
        self.logger.warning("Failed (%s) %s: %s", kind, request.url, exc)


def _aware(value: Any) -> datetime | None:
    """A link's time (datetime or ISO text) when it is known and aware; else None."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def search_url(template: str, keyword: str, page: int) -> str:
    return template.replace("{q}", quote(keyword)).replace("{page}", str(page))
