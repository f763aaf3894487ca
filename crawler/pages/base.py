"""The one input and the shared helpers of every page object.

A page object takes a PageInput (URL, body, headers, source id, crawl time, per-source options) and
returns typed ``yuqing.model.Post`` objects and the links worth following. It never touches the network,
Scrapy or storage, so the same class serves the spider, ``yuqing parse`` and the fixture tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawler.pages.charset import decode_body
from crawler.pages.errors import ParseError
from crawler.pages.text import clean_text
from yuqing.model import Metrics, Post, PostKind, post_id_for, utcnow


@dataclass(frozen=True)
class PageInput:
    """One fetched page or API response, as the spider (or a saved file) hands it over."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    source: str = ""  # configured source id
    crawled_at: datetime | None = None  # aware UTC; None means now
    options: Mapping[str, Any] = field(default_factory=dict)  # Source.selectors / Source.options merged
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.crawled_at is None:
            object.__setattr__(self, "crawled_at", utcnow())

    def header(self, name: str, default: str = "") -> str:
        """A response header, looked up case-insensitively."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return default

    def text(self) -> str:
        """The body decoded with decode_body (header charset, BOM, <meta>, all verified)."""
        if "text" not in self._cache:
            self._cache["text"] = decode_body(self.body, self.header("Content-Type"))
        text: str = self._cache["text"]
        return text

    def selector(self) -> Selector:
        if "selector" not in self._cache:
            self._cache["selector"] = Selector(text=self.text(), base_url=self.url)
        selector: Selector = self._cache["selector"]
        return selector

    @property
    def site(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def sha256(self) -> str:
        if "sha256" not in self._cache:
            self._cache["sha256"] = hashlib.sha256(self.body).hexdigest()
        digest: str = self._cache["sha256"]
        return digest

    @property
    def crawl_time(self) -> datetime:
        assert self.crawled_at is not None  # set in __post_init__
        return self.crawled_at


@dataclass(frozen=True)
class Link:
    """A URL a page object found worth following, and why."""

    url: str
    kind: str  # "article" | "thread" | "next" | "extend" | "comments"
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)  # e.g. replies, last_reply_at, published


class PageObject(Protocol):
    def __init__(self, page: PageInput) -> None: ...

    def posts(self) -> list[Post]: ...

    def links(self) -> list[Link]: ...


class _Unset:
    pass


_UNSET = _Unset()


class BasePage:
    """Common plumbing: the input, absolute URLs, option lookup and Post construction."""

    def __init__(self, page: PageInput) -> None:
        self.page = page

    @property
    def url(self) -> str:
        return self.page.url

    @property
    def sel(self) -> Selector:
        return self.page.selector()

    def absolute(self, href: str) -> str:
        return urljoin(self.page.url, href.strip())

    def option(self, name: str, default: Any = None) -> Any:
        return self.page.options.get(name, default)

    def selector_override(self, name: str) -> str | None:
        """A per-source CSS (or XPath when it starts with '/' or '(') override from options["selectors"]."""
        selectors = self.page.options.get("selectors") or {}
        value = selectors.get(name) if isinstance(selectors, Mapping) else None
        return value or None

    def by_id(self, element_id: str) -> Selector | None:
        """The element with this id, through the parser's id table (a CSS ``#id`` scans the whole tree)."""
        if "'" in element_id:
            found = self.sel.css(f"#{element_id}")
        else:
            found = self.sel.xpath(f"id('{element_id}')")
        return found[0] if found else None

    def select(self, query: str, root: Selector | None = None) -> Any:
        base = root if root is not None else self.sel
        return base.xpath(query) if query.lstrip().startswith(("/", "(", "./")) else base.css(query)

    def fail(self, reason: str, detail: str = "") -> ParseError:
        return ParseError(reason, self.page.url, detail)

    def make_post(
        self,
        *,
        url: str,
        content: str,
        kind: PostKind = PostKind.article,
        floor: int | None = None,
        id_key: str | int | None | _Unset = _UNSET,
        title: str = "",
        author: str = "",
        published_at: datetime | None = None,
        published_at_raw: str = "",
        metrics: Metrics | None = None,
        thread_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Post:
        """A Post with source, site, crawl time and evidence hash filled in.

        The id is post_id_for(url, id_key); id_key defaults to the floor. A thread's first post passes
        id_key=None so that its id is post_id_for(thread URL), which replies on any page can compute.
        """
        content = clean_text(content)
        if not content:
            raise self.fail("missing_content", f"{kind.value} {floor or ''}".strip())
        key = floor if isinstance(id_key, _Unset) else id_key
        return Post(
            id=post_id_for(url, key),
            url=url,
            source=self.page.source,
            site=(urlsplit(url).hostname or self.page.site).lower(),
            kind=kind,
            title=clean_text(title).replace("\n", " "),
            content=content,
            author=author.strip(),
            published_at=published_at,
            published_at_raw=published_at_raw.strip(),
            crawled_at=self.page.crawl_time,
            metrics=metrics or Metrics(),
            thread_id=thread_id,
            floor=floor,
            raw_sha256=self.page.sha256,
            extra=extra or {},
        )
