"""FeedPage: an RSS 2.0 or Atom feed (feedparser). Its job is mostly links to the articles.

Options: ``feed_only`` (posts() returns one summary post per entry, for feeds whose articles cannot be
fetched); otherwise posts() is empty and the spider follows links() to ArticlePage.
A feed URL that answers with an HTML page (a maintenance page, a portal) raises ParseError("not_a_feed").
"""

from __future__ import annotations

import re
from typing import Any

from crawler.pages.base import BasePage, Link
from crawler.pages.dates import parse_datetime
from crawler.pages.guards import check_page, title_of
from crawler.pages.text import html_to_text
from yuqing.model import Post, PostKind

_CLOSED = re.compile(r"</(rss|feed|rdf:RDF)>", re.I)
_XML_DECL_ENCODING = re.compile(r"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[\w.:-]+\2", re.I)


class FeedPage(BasePage):
    def _feed(self) -> Any:
        cache = self.page._cache
        if "feed" in cache:
            return cache["feed"]
        if not self.page.body.strip():
            raise self.fail("empty_body")
        # Decode with our verified decoder, then hand feedparser UTF-8 with a matching declaration.
        text = _XML_DECL_ENCODING.sub(r"\1\2utf-8\2", self.page.text().lstrip("\ufeff"), count=1)
        import feedparser  # only feed pages need it (and it is slow to import)

        parsed = feedparser.parse(
            text.encode("utf-8"),
            response_headers={"content-type": "application/xml; charset=utf-8"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
        if not parsed.get("version") and not parsed.entries:
            check_page(self.page)  # a captcha, login wall or ban page says so more precisely
            title = title_of(self.page.text())
            raise self.fail("not_a_feed", title or self.page.header("Content-Type"))
        if parsed.get("bozo") and not _CLOSED.search(text[-2048:]):
            raise self.fail("truncated", f"订阅源没有结束标签({len(self.page.body)} 字节)")
        cache["feed"] = parsed
        return parsed

    def links(self) -> list[Link]:
        out: list[Link] = []
        seen: set[str] = set()
        for entry in self._feed().entries:
            href = entry.get("link") or next(
                (link.get("href") for link in entry.get("links", []) if link.get("href")), ""
            )
            if not href:
                continue
            url = self.absolute(href)
            if url in seen:
                continue
            seen.add(url)
            raw = entry.get("published") or entry.get("updated") or ""
            when = parse_datetime(raw, self.page.crawl_time)
            meta = {
                "published_raw": raw,
                "published": when.isoformat() if when else None,
                "author": entry.get("author", ""),
                "summary": html_to_text(entry.get("summary", ""))[:500],
            }
            out.append(Link(url=url, kind="article", title=html_to_text(entry.get("title", "")), meta=meta))
        return out

    def posts(self) -> list[Post]:
        feed = self._feed()
        if not self.option("feed_only", False):
            return []
        posts: list[Post] = []
        for link, entry in zip(self.links(), _entries_with_links(feed.entries), strict=True):
            body = entry.get("content", [{}])[0].get("value") if entry.get("content") else entry.get("summary", "")
            text = html_to_text(body or "")
            if not text:
                continue  # a title-only entry is a link, not a post
            posts.append(
                self.make_post(
                    url=link.url,
                    content=text,
                    kind=PostKind.article,
                    title=link.title,
                    author=link.meta["author"],
                    published_at=parse_datetime(link.meta["published_raw"], self.page.crawl_time),
                    published_at_raw=link.meta["published_raw"],
                    extra={"feed_only": True, "feed": self.url},
                )
            )
        if not posts:
            raise self.fail("no_items", "订阅源中没有带摘要的条目")
        return posts


def _entries_with_links(entries: list[Any]) -> list[Any]:
    """The entries links() kept, in the same order (first occurrence of each URL)."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        href = entry.get("link") or next((x.get("href") for x in entry.get("links", []) if x.get("href")), "")
        if href and href not in seen:
            seen.add(href)
            kept.append(entry)
    return kept
