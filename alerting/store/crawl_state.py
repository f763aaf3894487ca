"""The crawler's state in the SQL store: source runs (health records) and seen URLs (incremental crawling).

The crawler never opens sessions itself; it calls these helpers. A crawled page is saved in one
transaction (its evidence, its posts, its seen-url row), so a crawl killed at any moment leaves either
the whole page or nothing, and a re-run neither loses nor duplicates posts.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from alerting.store.db import Store
from alerting.store.posts import _row_values, upsert_post
from alerting.store.tables import EvidenceRow, PostRow, SeenUrlRow, SourceRunRow
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


@dataclass(frozen=True)
class PageRecord:
    """One crawled page to save: what ``save_page`` takes, as a value (``save_pages`` takes several)."""

    source_id: str
    url: str
    posts: Sequence[Post]
    fingerprint: str
    body: bytes | None = None
    status: int = 200
    content_type: str = ""
    fetched_at: datetime | None = None
    next_visit: datetime | None = None
    item_count: int | None = None
    # Other seen-url rows to write with the page: (url, fingerprint, item_count, next_visit).
    also_seen: Sequence[tuple[str, str, int, datetime | None]] = ()


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
    page = PageRecord(source_id=source_id, url=url, posts=posts, fingerprint=fingerprint, body=body, status=status,
                      content_type=content_type, fetched_at=fetched_at, next_visit=next_visit,
                      item_count=item_count, also_seen=also_seen)
    return save_pages(store, [page])[0]


def save_pages(store: Store, pages: Sequence[PageRecord]) -> list[PageSave]:
    """Several crawled pages in one transaction, each exactly as ``save_page`` would save it, in order (a
    post on two of them is saved as the later one shows it). All or nothing: a crawl killed before the
    commit has none of their seen-url rows either, so it fetches them again. The crawler saves a few dozen
    pages at a time this way: one commit and a few set-based statements instead of a transaction and a
    dozen ORM round trips per page. Returns one PageSave per page.
    """
    for attempt in range(3):
        try:
            return _save_pages(store, pages)
        except IntegrityError:
            # Another crawl process (a source sharing posts with this one) inserted the same post between
            # our read and our commit; the next attempt sees it and updates instead.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


_CHUNK = 500  # ids per IN (...) list: far below every database's bound-parameter limit


def _in_chunks(s: Any, column: Any, keys: set[str], entity: Any = None) -> list[Any]:
    ordered = sorted(keys)
    out: list[Any] = []
    for i in range(0, len(ordered), _CHUNK):
        out += s.scalars(select(entity if entity is not None else column).where(column.in_(ordered[i:i + _CHUNK])))
    return out


def _save_pages(store: Store, pages: Sequence[PageRecord]) -> list[PageSave]:
    now = utcnow()
    outs = [PageSave() for _ in pages]
    shas = [hashlib.sha256(p.body).hexdigest() if p.body is not None and p.posts else None for p in pages]
    seen_keys = {url_hash(u, p.source_id) for p in pages for u in (p.url, *(o[0] for o in p.also_seen))}
    with store.session() as s, s.no_autoflush:
        # What the pages touch, read in a few set-based SELECTs (kept referenced: the identity map only holds
        # weak references, and upsert_post's lookups then hit it instead of the database).
        known = {r.id: r for r in _in_chunks(s, PostRow.id, {p.id for pg in pages for p in pg.posts}, PostRow)}
        have_evidence = set(_in_chunks(s, EvidenceRow.sha256, {h for h in shas if h}))
        seen_rows = {r.url_hash: r for r in _in_chunks(s, SeenUrlRow.url_hash, seen_keys, SeenUrlRow)}
        new_evidence: list[dict[str, Any]] = []
        new_posts: dict[str, dict[str, Any]] = {}  # inserted with one executemany at the end
        for page, out, sha in zip(pages, outs, shas, strict=True):
            if sha is not None:
                out.evidence = sha
                if sha not in have_evidence:
                    have_evidence.add(sha)
                    new_evidence.append(_evidence_values(page, sha, now))
            for post in {p.id: p for p in page.posts}.values():  # a page listing a post twice stores it once
                if out.evidence and post.raw_sha256 != out.evidence:
                    post = post.model_copy(update={"raw_sha256": out.evidence})
                if post.id in new_posts:  # a second page of this batch shows it: write the first, then update
                    _insert(s, new_evidence, new_posts)
                    known[post.id] = s.get(PostRow, post.id)
                if post.id in known:
                    result = upsert_post(s, post)
                else:
                    new_posts[post.id] = {"id": post.id, "updated_at": now, **_row_values(post)}
                    result = "new"
                setattr(out, result, getattr(out, result) + 1)
                out.ids.append(post.id)
            item_count = len(page.posts) if page.item_count is None else page.item_count
            _touch_seen(s, seen_rows, page.source_id, page.url, page.fingerprint, item_count, page.next_visit, now)
            for other in page.also_seen:
                _touch_seen(s, seen_rows, page.source_id, *other, now)
        _insert(s, new_evidence, new_posts)
    return outs


def _evidence_values(page: PageRecord, sha: str, now: datetime) -> dict[str, Any]:
    assert page.body is not None
    return {"sha256": sha, "url": page.url, "fetched_at": page.fetched_at or now, "status": page.status,
            "content_type": page.content_type[:255], "size": len(page.body),
            "body_gz": gzip.compress(page.body, compresslevel=6)}


def _insert(s: Any, evidence: list[dict[str, Any]], posts: dict[str, dict[str, Any]]) -> None:
    """The batch's new evidence and posts, one multi-row INSERT per table (then forgotten: they are stored)."""
    if evidence:
        s.execute(insert(EvidenceRow), evidence)
        evidence.clear()
    if posts:
        s.execute(insert(PostRow), list(posts.values()))
        posts.clear()


def _touch_seen(
    s: Any, rows: dict[str, SeenUrlRow], source_id: str, url: str, fingerprint: str, item_count: int,
    next_visit: datetime | None, now: datetime,
) -> None:
    key = url_hash(url, source_id)
    row = rows.get(key)
    if row is None:
        row = rows[key] = SeenUrlRow(url_hash=key, url=url, source=source_id, first_seen=now, last_fetched=now,
                                     fingerprint=fingerprint, next_visit=next_visit, item_count=item_count)
        s.add(row)
        return
    row.last_fetched = now
    row.fingerprint = fingerprint
    row.next_visit = next_visit
    row.item_count = item_count
