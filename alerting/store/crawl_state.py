"""The crawler's state in the SQL store: source runs (health records) and seen URLs (incremental crawling).

The crawler never opens sessions itself; it calls these helpers. A crawled page is saved in one
transaction (its evidence, its posts, its seen-url row), so a crawl killed at any moment leaves either
the whole page or nothing, and a re-run neither loses nor duplicates posts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from alerting.store.db import Store
from alerting.store.posts import _row_values, save_evidence, upsert_post
from alerting.store.tables import PostRow, SeenUrlRow, SourceRunRow
from yuqing.model import Post, utcnow

RUN_STATUSES = ("running", "ok", "failed", "degraded", "login_expired", "blocked", "killed", "interrupted")


@dataclass(frozen=True)
class RunRecord:
    """A source_runs row, detached from its session."""

    id: int
    source_id: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pages: int
    posts: int
    new_posts: int
    errors: int
    http_statuses: dict[str, Any]
    stats: dict[str, Any]
    message: str


@dataclass(frozen=True)
class SeenUrl:
    url: str
    fingerprint: str
    last_fetched: datetime
    next_visit: datetime | None
    item_count: int


@dataclass
class PageSave:
    """What saving one page did to the store."""

    new: int = 0
    changed: int = 0
    same: int = 0
    evidence: str | None = None
    ids: list[str] = field(default_factory=list)


def url_hash(url: str, source_id: str) -> str:
    """The seen_urls key: per source, since two sources may fetch the same URL (a feed and a search) and
    each needs its own memory of it."""
    return hashlib.sha256(f"{source_id}\n{url}".encode()).hexdigest()


def _record(row: SourceRunRow) -> RunRecord:
    return RunRecord(
        id=row.id, source_id=row.source_id, status=row.status, started_at=row.started_at,
        finished_at=row.finished_at, pages=row.pages, posts=row.posts, new_posts=row.new_posts, errors=row.errors,
        http_statuses=dict(row.http_statuses or {}), stats=dict(row.stats or {}), message=row.message,
    )


# --- source runs -------------------------------------------------------------------------------------


def start_run(store: Store, source_id: str, started_at: datetime | None = None) -> int:
    """A new 'running' row; its id is handed to the crawl process, which finishes it."""
    with store.session() as s:
        row = SourceRunRow(source_id=source_id, started_at=started_at or utcnow(), status="running")
        s.add(row)
        s.flush()
        return int(row.id)


def record_run(
    store: Store,
    source_id: str,
    *,
    status: str,
    run_id: int | None = None,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    pages: int = 0,
    posts: int = 0,
    new_posts: int = 0,
    errors: int = 0,
    http_statuses: dict[str, Any] | None = None,
    stats: dict[str, Any] | None = None,
    message: str = "",
) -> RunRecord:
    """Write the outcome of a run: update row ``run_id`` when given (and present), else add a row."""
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    with store.session() as s:
        row = s.get(SourceRunRow, run_id) if run_id is not None else None
        if row is None:
            row = SourceRunRow(source_id=source_id, started_at=started_at or utcnow())
            s.add(row)
        row.status = status
        row.finished_at = finished_at if finished_at is not None else (None if status == "running" else utcnow())
        row.pages, row.posts, row.new_posts, row.errors = pages, posts, new_posts, errors
        row.http_statuses = dict(http_statuses or {})
        row.stats = dict(stats or {})
        row.message = message
        s.flush()
        return _record(row)


def get_run(store: Store, run_id: int) -> RunRecord | None:
    with store.session() as s:
        row = s.get(SourceRunRow, run_id)
        return _record(row) if row is not None else None


def last_runs(store: Store, source_id: str, limit: int = 10) -> list[RunRecord]:
    """A source's latest finished or running runs, newest first."""
    with store.session() as s:
        rows = s.scalars(
            select(SourceRunRow).where(SourceRunRow.source_id == source_id)
            .order_by(SourceRunRow.started_at.desc(), SourceRunRow.id.desc()).limit(limit)
        )
        return [_record(r) for r in rows]


# --- seen URLs -----------------------------------------------------------------------------------------


def load_seen(store: Store, source_id: str) -> dict[str, SeenUrl]:
    """Everything a source has fetched before, by URL (loaded once per crawl; thousands of rows are cheap)."""
    with store.session() as s:
        rows = s.scalars(select(SeenUrlRow).where(SeenUrlRow.source == source_id))
        return {
            r.url: SeenUrl(r.url, r.fingerprint, r.last_fetched, r.next_visit, r.item_count) for r in rows
        }


def _touch_seen(
    s: Any, source_id: str, url: str, fingerprint: str, item_count: int, next_visit: datetime | None,
    now: datetime,
) -> None:
    key = url_hash(url, source_id)
    row = s.get(SeenUrlRow, key)
    if row is None:
        s.add(SeenUrlRow(url_hash=key, url=url, source=source_id, first_seen=now, last_fetched=now,
                         fingerprint=fingerprint, next_visit=next_visit, item_count=item_count))
        return
    row.last_fetched = now
    row.fingerprint = fingerprint
    row.next_visit = next_visit
    row.item_count = item_count


def save_page(
    store: Store,
    *,
    source_id: str,
    url: str,
    posts: Sequence[Post],
    fingerprint: str,
    body: bytes | None = None,
    status: int = 200,
    content_type: str = "",
    fetched_at: datetime | None = None,
    next_visit: datetime | None = None,
    item_count: int | None = None,
    also_seen: Sequence[tuple[str, str, int, datetime | None]] = (),
) -> PageSave:
    """One crawled page in one transaction: its raw body as evidence, its posts upserted, its seen row.

    Posts get ``raw_sha256`` of the evidence. ``also_seen`` rows (url, fingerprint, item_count, next_visit)
    are written in the same transaction. Returns how many posts were new, changed or the same.
    """
    for attempt in range(3):
        try:
            return _save_page(store, source_id, url, posts, fingerprint, body, status, content_type, fetched_at,
                              next_visit, item_count, also_seen)
        except IntegrityError:
            # Another crawl process (a source sharing posts with this one) inserted the same post between
            # our read and our commit; the next attempt sees it and updates instead.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _save_page(
    store: Store, source_id: str, url: str, posts: Sequence[Post], fingerprint: str, body: bytes | None,
    status: int, content_type: str, fetched_at: datetime | None, next_visit: datetime | None,
    item_count: int | None, also_seen: Sequence[tuple[str, str, int, datetime | None]],
) -> PageSave:
    out = PageSave()
    now = utcnow()
    unique = list({p.id: p for p in posts}.values())  # a page listing a post twice stores it once
    with store.session() as s, s.no_autoflush:
        # The page's known posts in one SELECT (upsert_post's lookups then hit the identity map), and one
        # flush at commit instead of one per post. Kept referenced: the identity map only holds weak references.
        _loaded = list(s.scalars(select(PostRow).where(PostRow.id.in_([p.id for p in unique]))))
        known = {row.id for row in _loaded}
        if body is not None and unique:
            out.evidence = save_evidence(s, url, body, status=status, content_type=content_type,
                                         fetched_at=fetched_at or now)
        for post in unique:
            if out.evidence and post.raw_sha256 != out.evidence:
                post = post.model_copy(update={"raw_sha256": out.evidence})
            if post.id in known:
                result = upsert_post(s, post)
            else:  # certainly new: insert as upsert_post would, without its per-post lookup
                s.add(PostRow(id=post.id, updated_at=now, **_row_values(post)))
                result = "new"
            setattr(out, result, getattr(out, result) + 1)
            out.ids.append(post.id)
        _touch_seen(s, source_id, url, fingerprint, len(posts) if item_count is None else item_count, next_visit, now)
        for other in also_seen:
            _touch_seen(s, source_id, *other, now)
    return out
