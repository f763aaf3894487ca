"""What spiders hand to the pipeline: one item per parsed page (its posts, fingerprint and raw body).

A page is the unit of saving: its evidence, posts and seen-url row go to the store in one transaction,
which is what makes a crawl killed with -9 resumable without lost or duplicated posts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from yuqing.model import Post


@dataclass(repr=False)
class PageItem:
    url: str
    source_id: str
    page_type: str
    role: str  # "entry" | "list" | "leaf" | "thread"
    status: int = 200
    content_type: str = ""
    body: bytes = b""
    posts: list[Post] = field(default_factory=list)
    links: int = 0  # links the page offered (lists: how many items it showed)
    fingerprint: str = ""
    cached: bool = False  # a 304 revalidation answered from the HTTP cache
    next_visit: datetime | None = None
    # Other seen-url rows to write with this page: (url, fingerprint, item_count, next_visit).
    also_seen: list[tuple[str, str, int, datetime | None]] = field(default_factory=list)

    def __repr__(self) -> str:  # logs never carry bodies
        return f"<PageItem {self.page_type} {self.url} posts={len(self.posts)} links={self.links}>"


def fingerprint(posts: list[Post], link_urls: list[str] | None = None) -> str:
    """SHA-256 over the normalised text (and counts) of what a page yielded: equal means nothing changed."""
    h = hashlib.sha256()
    for p in sorted(posts, key=lambda p: p.id):
        m = p.metrics
        h.update(f"{p.id}\x1f{p.content_hash()}\x1f{m.reposts}\x1f{m.comments}\x1f{m.likes}\x1f{m.views}\x1e".encode())
    for url in sorted(link_urls or []):
        h.update(url.encode("utf-8") + b"\x1e")
    return h.hexdigest()
