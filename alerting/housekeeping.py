"""Nightly housekeeping: purge what is older than the retention period, then let the database tidy up.

Kept whatever its age: posts marked as evidence, posts of an event whose warning is still open or was
worked on within the retention period (the 登记表 and its posts belong together), posts a reviewer
labelled (the training set), and the stored pages those posts were parsed from. Warnings, the audit log
and the events behind warnings are never purged here: they are the bureau's record.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Select, and_, delete, exists, func, or_, select, text
from sqlalchemy.orm import Session

from alerting.index.outbox import enqueue_delete
from alerting.store import Store
from alerting.store.tables import (
    AnalysisRow,
    EventRow,
    EvidenceRow,
    LabelRow,
    OutboxRow,
    PostRow,
    SeenUrlRow,
    SourceRunRow,
    WarningRow,
)
from yuqing.config import Config
from yuqing.model import utcnow

log = logging.getLogger(__name__)

# Warning states in which the case is finished; any other state keeps its posts.
FINISHED_STATES = ("closed", "dismissed")
CHUNK = 500


@dataclass
class HousekeepingReport:
    cutoff: datetime
    posts: int = 0
    analyses: int = 0
    evidence: int = 0
    events: int = 0
    seen_urls: int = 0
    source_runs: int = 0
    outbox: int = 0
    kept_posts: int = 0
    maintenance: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_log(self) -> str:
        return (f"cutoff={self.cutoff.isoformat()} posts={self.posts} analyses={self.analyses} "
                f"evidence={self.evidence} events={self.events} seen_urls={self.seen_urls} "
                f"source_runs={self.source_runs} outbox={self.outbox} kept_posts={self.kept_posts} "
                f"maintenance={','.join(self.maintenance)} seconds={self.seconds:.1f}")


def _kept_events(cutoff: datetime) -> Select[Any]:
    """Events whose warning is open, or was touched within the retention period."""
    return select(WarningRow.event_id).where(
        WarningRow.event_id.is_not(None),
        or_(WarningRow.status.not_in(FINISHED_STATES), WarningRow.updated_at >= cutoff),
    )


def _old_posts(cutoff: datetime) -> Select[Any]:
    """Posts past retention by both crawl and publish time and not kept for any reason above."""
    in_kept_event = exists().where(
        AnalysisRow.post_id == PostRow.id, AnalysisRow.event_id.in_(_kept_events(cutoff))
    )
    labelled = exists().where(LabelRow.post_id == PostRow.id)
    return select(PostRow.id).where(
        PostRow.crawled_at < cutoff,
        or_(PostRow.published_at.is_(None), PostRow.published_at < cutoff),
        PostRow.evidence.is_(False),
        ~in_kept_event,
        ~labelled,
    )


def _deleted(session: Session, stmt: Executable) -> int:
    return cast(CursorResult[Any], session.execute(stmt)).rowcount


def purge(session: Session, cfg: Config, now: datetime) -> HousekeepingReport:
    """Delete rows past ``cfg.retention_days`` (see the module doc for what is kept); one transaction."""
    cutoff = now - timedelta(days=cfg.retention_days)
    report = HousekeepingReport(cutoff=cutoff)
    while True:
        ids = list(session.scalars(_old_posts(cutoff).limit(CHUNK)))
        if not ids:
            break
        report.analyses += _deleted(session, delete(AnalysisRow).where(AnalysisRow.post_id.in_(ids)))
        report.posts += _deleted(session, delete(PostRow).where(PostRow.id.in_(ids)))
        # The search index forgets them too (delivered by the next index replay): retention covers search.
        enqueue_delete(session, ids, now)
    report.kept_posts = int(session.scalar(
        select(func.count()).select_from(PostRow).where(PostRow.crawled_at < cutoff)
    ) or 0)
    # Stored pages no remaining post was parsed from.
    referenced = exists().where(PostRow.raw_sha256 == EvidenceRow.sha256)
    report.evidence = _deleted(session,
        delete(EvidenceRow).where(EvidenceRow.fetched_at < cutoff, ~referenced)
    )
    # Events with no post left and no warning (a warning keeps its event for the record).
    has_analysis = exists().where(AnalysisRow.event_id == EventRow.id)
    has_warning = exists().where(WarningRow.event_id == EventRow.id)
    report.events = _deleted(session,
        delete(EventRow).where(EventRow.last_seen < cutoff, ~has_analysis, ~has_warning)
    )
    # The crawler's memory of URLs not fetched within retention and not due for a revisit.
    report.seen_urls = _deleted(session, delete(SeenUrlRow).where(
        SeenUrlRow.last_fetched < cutoff, or_(SeenUrlRow.next_visit.is_(None), SeenUrlRow.next_visit < cutoff)
    ))
    report.source_runs = _deleted(session,
        delete(SourceRunRow).where(SourceRunRow.started_at < cutoff, SourceRunRow.status != "running")
    )
    # Delivered side effects only; anything pending stays until it is delivered.
    report.outbox = _deleted(session,
        delete(OutboxRow).where(and_(OutboxRow.delivered_at.is_not(None), OutboxRow.delivered_at < cutoff))
    )
    return report


def maintain(store: Store) -> list[str]:
    """VACUUM and ANALYZE on SQLite (and truncate the WAL), ANALYZE on PostgreSQL; outside a transaction."""
    done: list[str] = []
    dialect = store.engine.dialect.name
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if dialect == "sqlite":
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            conn.execute(text("VACUUM"))
            conn.execute(text("ANALYZE"))
            done += ["vacuum", "analyze"]
        elif dialect == "postgresql":
            conn.execute(text("ANALYZE"))  # autovacuum reclaims space; ANALYZE keeps the planner current
            done.append("analyze")
    return done


def run_housekeeping(store: Store, cfg: Config, now: datetime | None = None, vacuum: bool = True
                     ) -> HousekeepingReport:
    """The nightly job: purge in one transaction, then database maintenance."""
    t0 = time.monotonic()
    with store.session() as s:
        report = purge(s, cfg, now or utcnow())
    if vacuum:
        report.maintenance = maintain(store)
    report.seconds = time.monotonic() - t0
    log.info("housekeeping %s", report.as_log())
    return report
