"""Index documents from the SQL store: a post, its analysis and its warning's status.

The only module of ``alerting.index`` that reads the store; the backends take plain ``IndexDoc``s.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from alerting.index.protocol import NO_WARNING, IndexDoc
from alerting.store.tables import AnalysisRow, PostRow, WarningRow


def build_doc(post: PostRow, analysis: AnalysisRow | None, warning: WarningRow | None) -> IndexDoc:
    """One post as indexed. A post not analysed yet is indexed as category ``none``; a post whose
    event raised no warning has status ``none`` (``NO_WARNING``)."""
    reach = (post.reposts or 0) * 10 + (post.comments or 0) * 3 + (post.likes or 0) + (post.views or 0) // 100
    return IndexDoc(
        id=post.id,
        url=post.url,
        title=post.title or "",
        content=post.content,
        # Monthly indices go by publish time; a post that shows none is filed by crawl time.
        published_at=post.published_at or post.crawled_at,
        crawled_at=post.crawled_at,
        source=post.source,
        site=post.site,
        kind=post.kind,
        author=post.author or "",
        schools=tuple(analysis.schools) if analysis else (),
        category=analysis.category if analysis else "none",
        severity=analysis.severity if analysis else None,
        status=warning.status if warning is not None else NO_WARNING,
        event_id=analysis.event_id if analysis else None,
        topics=tuple(analysis.topics) if analysis else (),
        sensitivity=float(analysis.sensitivity) if analysis else 0.0,
        sentiment=float(analysis.sentiment) if analysis else 0.0,
        relevant=bool(analysis.relevant) if analysis else False,
        reach=reach,
        thread_id=post.thread_id,
        content_hash=post.content_hash,
    )


def _joined() -> Select[PostRow, AnalysisRow, WarningRow]:
    return (
        select(PostRow, AnalysisRow, WarningRow)
        .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .outerjoin(WarningRow, (WarningRow.event_id == AnalysisRow.event_id) & AnalysisRow.event_id.is_not(None))
    )


def load_docs(session: Session, post_ids: Sequence[str]) -> list[IndexDoc]:
    """The current documents of these posts (missing ids are skipped), in the order given."""
    found: dict[str, IndexDoc] = {}
    ids = list(dict.fromkeys(post_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for post, analysis, warning in session.execute(_joined().where(PostRow.id.in_(chunk))):
            found[post.id] = build_doc(post, analysis, warning)
    return [found[i] for i in ids if i in found]


def iter_docs(session: Session, batch: int = 1000) -> Iterator[list[IndexDoc]]:
    """Every post, in batches of documents, in id order (for ``yuqing index rebuild``)."""
    last = ""
    while True:
        rows = session.execute(_joined().where(PostRow.id > last).order_by(PostRow.id).limit(batch)).all()
        if not rows:
            return
        yield [build_doc(p, a, w) for p, a, w in rows]
        last = rows[-1][0].id
        session.expunge_all()  # keep memory flat over a large store


def post_ids_of_event(session: Session, event_id: str) -> list[str]:
    """The posts grouped into an event (a warning's status applies to all of them)."""
    return list(session.scalars(select(AnalysisRow.post_id).where(AnalysisRow.event_id == event_id)))


def count_posts(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(PostRow)) or 0)
