"""The pipeline after the crawl: analyse → store → events → warnings → outbox (index, mail).

Every step is idempotent: posts already analysed are not pending, events are keyed by stable ids,
warnings are one per event, and outbox keys are unique. Running it twice changes nothing.
"""

from __future__ import annotations

import importlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.store import Store
from alerting.store.posts import pending_posts, row_to_post
from alerting.store.tables import AnalysisRow, EventRow, PostRow, WarningRow
from yuqing.config import Config
from yuqing.model import Analysis, Category, Post, Severity, utcnow

if TYPE_CHECKING:
    from analysis.analyzer import Analyzer
    from analysis.events import EventGrouper

log = logging.getLogger(__name__)

# Events older than this are not candidates for new posts: a story that resurfaces after a month
# is a new event for the working group (and the grouper's memory stays bounded).
EVENT_WINDOW = timedelta(days=30)
BATCH = 500


@dataclass
class PipelineReport:
    analysed: int = 0
    relevant: int = 0
    sensitive: int = 0
    events_touched: int = 0
    new_events: int = 0
    warnings: list[int] = field(default_factory=list)
    by_category: Counter[str] = field(default_factory=Counter)
    indexed: int = 0
    index_waiting: int = 0


def _optional(module: str) -> Any | None:
    """Optional collaborators (index outbox) that a minimal install may lack."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


def build_grouper(session: Session, now: datetime) -> EventGrouper:
    from analysis.events import EventGrouper

    grouper = EventGrouper()
    rows = session.execute(
        select(EventRow.id, EventRow.signature).where(EventRow.last_seen >= now - EVENT_WINDOW)
    )
    grouper.load((r.id, r.signature) for r in rows if r.signature)
    # Recent analysed posts: their schools keep stories apart, and an incident retold in other words
    # after a restart still joins its event (analysis.events.STORY_WINDOW).
    from analysis.events import STORY_WINDOW

    recent = session.execute(
        select(AnalysisRow.event_id, AnalysisRow.schools, AnalysisRow.topics, AnalysisRow.category,
               PostRow.published_at, PostRow.crawled_at)
        .join(PostRow, PostRow.id == AnalysisRow.post_id)
        .where(AnalysisRow.relevant.is_(True), PostRow.crawled_at >= now - STORY_WINDOW)
    )
    grouper.load_stories(
        (r.event_id, list(r.schools or []), list(r.topics or []), r.category, r.published_at or r.crawled_at)
        for r in recent if r.event_id
    )
    return grouper


def process_pending(
    cfg: Config,
    store: Store,
    index: Any | None = None,
    analyzer: Analyzer | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PipelineReport:
    """Analyse every post that has no analysis yet, group events, raise warnings, fill the outboxes."""
    from alerting import rules

    if analyzer is None:
        from analysis.analyzer import Analyzer

        analyzer = Analyzer.from_config(cfg)
    now = now or utcnow()
    report = PipelineReport()
    with store.session() as s:
        total = s.scalar(
            select(func.count()).select_from(PostRow)
            .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id).where(AnalysisRow.post_id.is_(None))
        ) or 0
        grouper = build_grouper(s, now)
    index_outbox = _optional("alerting.index.outbox")
    while True:
        with store.session() as s:
            rows = pending_posts(s, limit=BATCH)
            if not rows:
                break
            posts = [row_to_post(r) for r in rows]
            analyses = analyzer.analyze_many(posts)
            with s.no_autoflush:  # one flush for the batch instead of one per lookup
                touched = _store_batch(s, grouper, posts, analyses, now, report)
            if index_outbox is not None:
                index_outbox.enqueue_posts(s, [p.id for p in posts], now)
            s.flush()
            _update_events(s, cfg, touched)
            warnings = rules.raise_warnings(s, cfg, touched, now)
            report.warnings.extend(w.id for w in warnings if w.id not in report.warnings)
            report.events_touched += len(touched)
        if progress:
            progress(report.analysed, total)
    if index is not None and index_outbox is not None:
        replay = index_outbox.replay(store, index)
        report.indexed = getattr(replay, "delivered", 0)
        report.index_waiting = getattr(replay, "waiting", 0)
    return report


def _store_batch(
    s: Session, grouper: EventGrouper, posts: list[Post], analyses: list[Analysis], now: datetime,
    report: PipelineReport,
) -> set[str]:
    touched: set[str] = set()
    # One batch call: replies are grouped after their thread, and the analyses keep different schools'
    # stories apart. New events are added first, since analyses refer to them.
    assignments = grouper.assign_many(posts, analyses)
    for post, assignment in zip(posts, assignments, strict=True):
        if assignment.is_new and s.get(EventRow, assignment.event_id) is None:
            seen = post.published_at or post.crawled_at
            s.add(EventRow(id=assignment.event_id, title=post.title or post.content[:60],
                           signature=assignment.signature, first_seen=seen, last_seen=seen))
            report.new_events += 1
    s.flush()  # events before the analyses that refer to them (no ORM relationship orders them)
    for post, a, assignment in zip(posts, analyses, assignments, strict=True):
        a.event_id = assignment.event_id
        # Pending posts have no analysis row yet (one writer: the service serialises the pipeline).
        s.add(
            AnalysisRow(
                post_id=post.id, schools=a.schools, relevant=a.relevant, sensitivity=a.sensitivity,
                category=a.category.value, severity=a.severity.value if a.severity else None,
                sentiment=a.sentiment, explanation=[list(t) for t in a.explanation], topics=a.topics,
                event_id=a.event_id, model=a.model, analysed_at=now,
            )
        )
        touched.add(assignment.event_id)
        report.analysed += 1
        report.relevant += int(a.relevant)
        report.sensitive += int(a.category != Category.none)
        report.by_category[a.category.value] += 1
    return touched


def _update_events(s: Session, cfg: Config, event_ids: Iterable[str]) -> None:
    """Recompute each touched event from all its posts: counts, reach, schools, category, severity."""
    from analysis.severity import event_severity

    red_lines = [t for t in cfg.red_lines if t]
    for eid in event_ids:
        event = s.get(EventRow, eid)
        if event is None:
            continue
        rows = s.execute(
            select(PostRow, AnalysisRow).join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
            .where(AnalysisRow.event_id == eid)
        ).all()
        if not rows:
            continue
        previous = event.post_count or 0
        times = [p.published_at or p.crawled_at for p, _ in rows]
        schools: list[str] = []
        weight: Counter[str] = Counter()
        reach = 0
        for p, a in rows:
            reach += (p.reposts or 0) * 10 + (p.comments or 0) * 3 + (p.likes or 0) + (p.views or 0) // 100
            for sid in a.schools:
                if sid not in schools:
                    schools.append(sid)
            if a.category != Category.none.value:
                weight[a.category] += a.sensitivity
        relevant = [a for _, a in rows if a.relevant]
        scored = relevant or [a for _, a in rows]
        event.post_count = len(rows)
        event.site_count = len({p.site for p, _ in rows})
        event.reach = reach
        event.schools = schools
        event.first_seen = min(times)
        event.last_seen = max(times)
        event.sensitivity = max(a.sensitivity for a in scored)
        event.category = weight.most_common(1)[0][0] if weight else Category.none.value
        growth = event.post_count / previous if previous else 1.0
        text = " ".join(f"{p.title} {p.content}" for p, _ in rows)
        red = any(t in text for t in red_lines)
        sev = event_severity(event.sensitivity, Category(event.category), reach, event.site_count, growth, red)
        event.severity = sev.value if isinstance(sev, Severity) else None


def open_warning_ids(s: Session) -> list[int]:
    return list(s.scalars(select(WarningRow.id).where(WarningRow.status.not_in(["closed", "dismissed"]))))
