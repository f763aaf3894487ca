"""Index documents from the SQL store: a post, its analysis and its warning's status.

The only module of ``alerting.index`` that reads the store; the backends take plain ``IndexDoc``s.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from alerting.index.protocol import NO_WARNING, IndexDoc
from alerting.store.tables import AnalysisRow, PostRow, WarningRow

# Plain columns, no ORM objects: replay and rebuild turn thousands of rows into documents.
_COLUMNS = (
    PostRow.id, PostRow.url, PostRow.title, PostRow.content, PostRow.published_at, PostRow.crawled_at,
    PostRow.source, PostRow.site, PostRow.kind, PostRow.author, PostRow.reposts, PostRow.comments, PostRow.likes,
    PostRow.views, PostRow.thread_id, PostRow.content_hash,
    AnalysisRow.post_id.label("analysed"), AnalysisRow.schools, AnalysisRow.category, AnalysisRow.severity,
    AnalysisRow.event_id, AnalysisRow.topics, AnalysisRow.sensitivity, AnalysisRow.sentiment, AnalysisRow.relevant,
    WarningRow.status,
)


def build_doc(row: Row[Any]) -> IndexDoc:
    """One post as indexed, from a row of ``_joined()``. A post not analysed yet is indexed as category
    ``none``; a post whose event raised no warning has status ``none`` (``NO_WARNING``)."""
    analysed = row.analysed is not None
    reach = (row.reposts or 0) * 10 + (row.comments or 0) * 3 + (row.likes or 0) + (row.views or 0) // 100
    return IndexDoc(
        id=row.id,
        url=row.url,
        title=row.title or "",
        content=row.content,
        # Monthly indices go by publish time; a post that shows none is filed by crawl time.
        published_at=row.published_at or row.crawled_at,
        crawled_at=row.crawled_at,
        source=row.source,
        site=row.site,
        kind=row.kind,
        author=row.author or "",
        schools=tuple(row.schools or ()) if analysed else (),
        category=row.category if analysed else "none",
        severity=row.severity if analysed else None,
        status=row.status if row.status is not None else NO_WARNING,
        event_id=row.event_id if analysed else None,
        topics=tuple(row.topics or ()) if analysed else (),
        sensitivity=float(row.sensitivity) if analysed else 0.0,
        sentiment=float(row.sentiment) if analysed else 0.0,
        relevant=bool(row.relevant) if analysed else False,
        reach=reach,
        thread_id=row.thread_id,
        content_hash=row.content_hash,
    )


def _joined() -> Select[Any]:
    return (
        select(*_COLUMNS)
        .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .outerjoin(WarningRow, (WarningRow.event_id == AnalysisRow.event_id) & AnalysisRow.event_id.is_not(None))
    )


def load_docs(session: Session, post_ids: Sequence[str]) -> list[IndexDoc]:
    """The current documents of these posts (missing ids are skipped), in the order given."""
    found: dict[str, IndexDoc] = {}
    ids = list(dict.fromkeys(post_ids))
    session.flush()  # read below the ORM (plain rows), so pending changes must be in the database first
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in session.connection().execute(_joined().where(PostRow.id.in_(chunk))):
            found[row.id] = build_doc(row)
    return [found[i] for i in ids if i in found]


def iter_docs(session: Session, batch: int = 1000) -> Iterator[list[IndexDoc]]:
    """Every post, in batches of documents, in id order (for ``yuqing index rebuild``)."""
    last = ""
    while True:
        rows = session.connection().execute(_joined().where(PostRow.id > last).order_by(PostRow.id).limit(batch)).all()
        if not rows:
            return
        yield [build_doc(r) for r in rows]
        last = rows[-1].id


def post_ids_of_event(session: Session, event_id: str) -> list[str]:
    """The posts grouped into an event (a warning's status applies to all of them)."""
    return list(session.scalars(select(AnalysisRow.post_id).where(AnalysisRow.event_id == event_id)))


def count_posts(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(PostRow)) or 0)
