"""The one input and the shared helpers of every page object.

A page object takes a PageInput (URL, body, headers, source id, crawl time, per-source options) and
returns typed ``yuqing.model.Post`` objects and the links worth following. It never touches the network,
Scrapy or storage, so the same class serves the spider, ``yuqing parse`` and the fixture tests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawler.pages.charset import decode_body
from crawler.pages.errors import ParseError
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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2002\u2003\u2009\u200b\u3000]+")


def clean_text(text: str) -> str:
    """Whitespace-normalised plain text: runs of spaces collapsed, lines stripped, blank lines dropped."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


_BLOCK_TAGS = frozenset(
    "p div br li tr td th h1 h2 h3 h4 h5 h6 ul ol table section article blockquote dd dt header footer pre".split()
)
_SKIP_TAGS = frozenset(("script", "style", "noscript", "template"))


def node_text(sel: Selector | None, block_tags: bool = True) -> str:
    """Plain text of an element: block elements and <br> become line breaks; scripts, styles, comments dropped.

    Walks the lxml tree directly: an XPath over text nodes with ancestor tests costs ten times more.
    """
    if sel is None:
        return ""
    root = sel.root
    if isinstance(root, str):
        return clean_text(root)
    parts: list[str] = []
    _walk(root, parts, block_tags)
    return clean_text("".join(parts))


def _walk(el: Any, parts: list[str], block_tags: bool) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""  # comments and processing instructions have no str tag
    if not tag or tag in _SKIP_TAGS:
        return
    block = block_tags and tag in _BLOCK_TAGS
    if block:
        parts.append("\n")
    if el.text:
        parts.append(el.text)
    for child in el:
        _walk(child, parts, block_tags)
        if child.tail:
            parts.append(child.tail)
    if block:
        parts.append("\n")


def to_int(text: str | int | None) -> int | None:
    """A count as shown: '1,234' → 1234, '1.2万' → 12000, '转发' (no number) → None."""
    if text is None:
        return None
    if isinstance(text, int):
        return text
    m = re.search(r"(\d+(?:\.\d+)?)\s*(万|w|千|k)?", text.replace(",", ""), re.I)
    if not m:
        return None
    value = float(m.group(1))
    unit = (m.group(2) or "").lower()
    value *= {"万": 10000, "w": 10000, "千": 1000, "k": 1000}.get(unit, 1)
    return int(value)


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


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed summaries, Weibo text): <br> and blocks become line breaks."""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    return node_text(Selector(text=f"<div>{fragment}</div>").css("body > div")[0])
