"""Posts and their evidence in the SQL store: upsert (idempotent), evidence by SHA-256, pending work."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from alerting.store.tables import AnalysisRow, EvidenceRow, PostRow
from yuqing.model import Metrics, Post, PostKind, utcnow

_MUTABLE = ("title", "content", "author", "published_at", "published_at_raw", "reposts", "comments", "likes",
            "views", "raw_sha256", "extra")


def _row_values(post: Post) -> dict[str, object]:
    m = post.metrics
    return {
        "url": post.url,
        "source": post.source,
        "site": post.site,
        "kind": post.kind.value,
        "title": post.title,
        "content": post.content,
        "author": post.author,
        "published_at": post.published_at,
        "published_at_raw": post.published_at_raw,
        "crawled_at": post.crawled_at,
        "reposts": m.reposts,
        "comments": m.comments,
        "likes": m.likes,
        "views": m.views,
        "thread_id": post.thread_id,
        "floor": post.floor,
        "raw_sha256": post.raw_sha256,
        "content_hash": post.content_hash(),
        "extra": post.extra,
    }


def upsert_post(session: Session, post: Post) -> str:
    """Insert a new post or update a known one. Returns 'new', 'changed' or 'same'.

    A changed text drops the old analysis so the post is analysed again; changed engagement counts
    alone keep it (they feed event reach, not the text's scores).
    """
    values = _row_values(post)
    row = session.get(PostRow, post.id)
    now = utcnow()
    if row is None:
        session.add(PostRow(id=post.id, updated_at=now, **values))
        return "new"
    text_changed = row.content_hash != values["content_hash"]
    changed = text_changed or any(getattr(row, k) != values[k] for k in _MUTABLE)
    if not changed:
        return "same"
    for k in _MUTABLE:
        setattr(row, k, values[k])
    row.content_hash = str(values["content_hash"])
    row.crawled_at = post.crawled_at
    row.updated_at = now
    if text_changed:
        analysis = session.get(AnalysisRow, post.id)
        if analysis is not None:
            session.delete(analysis)
    return "changed"


def save_evidence(
    session: Session, url: str, body: bytes, *, status: int = 200, content_type: str = "",
    fetched_at: datetime | None = None,
) -> str:
    """Keep the raw response, compressed, once per distinct body. Returns its SHA-256 hex."""
    sha = hashlib.sha256(body).hexdigest()
    if session.get(EvidenceRow, sha) is None:
        session.add(
            EvidenceRow(
                sha256=sha, url=url, fetched_at=fetched_at or utcnow(), status=status,
                content_type=content_type[:255], size=len(body), body_gz=gzip.compress(body, compresslevel=6),
            )
        )
    return sha


def evidence_body(session: Session, sha256: str) -> tuple[EvidenceRow, bytes] | None:
    row = session.get(EvidenceRow, sha256)
    if row is None:
        return None
    return row, gzip.decompress(row.body_gz)


def row_to_post(row: PostRow | Row[Any]) -> Post:
    """A stored post as the model (from an ORM row or a plain row of the posts table's columns)."""
    return Post(
        id=row.id, url=row.url, source=row.source, site=row.site, kind=PostKind(row.kind), title=row.title,
        content=row.content, author=row.author, published_at=row.published_at,
        published_at_raw=row.published_at_raw, crawled_at=row.crawled_at,
        metrics=Metrics(reposts=row.reposts, comments=row.comments, likes=row.likes, views=row.views),
        thread_id=row.thread_id, floor=row.floor, raw_sha256=row.raw_sha256, extra=dict(row.extra or {}),
    )


def pending_posts(session: Session, limit: int = 1000) -> list[PostRow]:
    """Posts without an analysis, oldest crawl first."""
    stmt = (
        select(PostRow)
        .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(AnalysisRow.post_id.is_(None))
        .order_by(PostRow.crawled_at, PostRow.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _pending() -> Select[Any]:
    return (
        select(*PostRow.__table__.c)
        .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(AnalysisRow.post_id.is_(None))
    )


def pending_post_rows(session: Session, limit: int = 1000) -> list[Row[Any]]:
    """``pending_posts`` as plain rows of the posts table's columns (no ORM objects: the pipeline reads
    hundreds at a time and never changes them)."""
    return list(session.connection().execute(_pending().order_by(PostRow.crawled_at, PostRow.id).limit(limit)))


def count_pending(session: Session) -> int:
    """How many posts have no analysis yet."""
    return int(session.scalar(
        select(func.count()).select_from(PostRow)
        .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id).where(AnalysisRow.post_id.is_(None))
    ) or 0)


def get_posts(session: Session, ids: Iterable[str]) -> list[PostRow]:
    ids = list(ids)
    if not ids:
        return []
    return list(session.scalars(select(PostRow).where(PostRow.id.in_(ids))))
