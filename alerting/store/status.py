"""Read-only facts about the crawl runs that `/healthz`, `yuqing status` and the self-check report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.store.tables import SourceRunRow


@dataclass(frozen=True)
class LastRun:
    source_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # running | ok | failed | killed
    pages: int
    posts: int
    new_posts: int
    errors: int
    message: str
    last_ok_at: datetime | None  # when the most recent successful run finished


def last_runs(session: Session) -> dict[str, LastRun]:
    """The newest run of every source that ever ran, with the end of its newest successful run."""
    newest = select(func.max(SourceRunRow.id)).group_by(SourceRunRow.source_id)
    last_ok = dict(session.execute(
        select(SourceRunRow.source_id, func.max(SourceRunRow.finished_at))
        .where(SourceRunRow.status == "ok").group_by(SourceRunRow.source_id)
    ).tuples().all())
    out: dict[str, LastRun] = {}
    for r in session.scalars(select(SourceRunRow).where(SourceRunRow.id.in_(newest))):
        out[r.source_id] = LastRun(
            source_id=r.source_id, started_at=r.started_at, finished_at=r.finished_at, status=r.status,
            pages=r.pages, posts=r.posts, new_posts=r.new_posts, errors=r.errors, message=r.message,
            last_ok_at=last_ok.get(r.source_id),
        )
    return out
