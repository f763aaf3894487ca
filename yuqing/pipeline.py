"""The pipeline after the crawl: analyse → store → events → warnings → outbox (index, mail).

Every step is idempotent: posts already analysed are not pending, events are keyed by stable ids,
warnings are one per event, and outbox keys are unique. Running it twice changes nothing.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Text, bindparam, delete, func, insert, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from alerting.store import Store
from alerting.store.posts import count_pending, pending_post_rows, row_to_post
from alerting.store.tables import AnalysisRow, EventRow, PostRow, UTCDateTime, WarningRow
from yuqing.config import Config
from yuqing.model import Analysis, Category, Post, Severity, utcnow

if TYPE_CHECKING:
    from analysis.analyzer import Analyzer
    from analysis.events import EventAssignment, EventGrouper

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
    analysed_while_crawling: int = 0  # of ``analysed``, while crawls were still running (yuqing.cycle)
    # Per step (read, analyse, group, store, events, warnings, commit, index): where the time goes, in
    # seconds of wall clock and of this process's CPU (the figure that holds on a busy machine).
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def add(self, other: PipelineReport) -> None:
        """Fold the report of a later call into this one (a run made of several calls)."""
        self.analysed += other.analysed
        self.analysed_while_crawling += other.analysed_while_crawling
        self.relevant += other.relevant
        self.sensitive += other.sensitive
        self.events_touched += other.events_touched
        self.new_events += other.new_events
        self.warnings.extend(w for w in other.warnings if w not in self.warnings)
        self.by_category.update(other.by_category)
        self.indexed += other.indexed
        self.index_waiting = other.index_waiting
        for mine, theirs in ((self.seconds, other.seconds), (self.cpu_seconds, other.cpu_seconds)):
            for step, value in theirs.items():
                mine[step] = mine.get(step, 0.0) + value

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        mark = _clocks()
        try:
            yield
        finally:
            self.add_since(step, mark)

    def add_since(self, step: str, mark: tuple[float, float]) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - mark[0]
        self.cpu_seconds[step] = self.cpu_seconds.get(step, 0.0) + time.process_time() - mark[1]


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


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


def load_analyzer(cfg: Config) -> Analyzer:
    """The configured analyzer (its model loaded once: callers that run the pipeline repeatedly keep it)."""
    from analysis.analyzer import Analyzer

    return Analyzer.from_config(cfg)


def new_grouper(cfg: Config, store: Store, now: datetime | None = None) -> EventGrouper:
    """An event grouper loaded with the store's recent events, for repeated ``process_pending`` calls."""
    with store.session() as s:
        return build_grouper(s, now or utcnow())


def process_pending(
    cfg: Config,
    store: Store,
    index: Any | None = None,
    analyzer: Analyzer | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    grouper: EventGrouper | None = None,
    before: datetime | None = None,
) -> PipelineReport:
    """Analyse every post that has no analysis yet, group events, raise warnings, fill the outboxes.

    For a caller that runs this while crawls are still storing posts (``yuqing.cycle``): ``grouper`` keeps
    one event grouper across the calls, and ``before`` takes only whole batches of posts crawled before
    that time — the batches a run after the crawl would take, so events and warnings come out the same.
    The caller guarantees that no post crawled before ``before`` is still to be stored."""
    from alerting import rules

    if analyzer is None:
        analyzer = load_analyzer(cfg)
    now = now or utcnow()
    report = PipelineReport()
    with store.session() as s:
        total = count_pending(s)
        if grouper is None:
            grouper = build_grouper(s, now)
    index_outbox = _optional("alerting.index.outbox")
    states: dict[str, _EventState] = {}  # the events this call has touched, as last written
    while True:
        # One transaction per batch: analyses, events, warnings and both outboxes commit together.
        with store.session() as s:
            with report.timed("read"):
                rows = pending_post_rows(s, limit=BATCH)
                if not rows or (before is not None and (len(rows) < BATCH or rows[-1].crawled_at >= before)):
                    break
                posts = [row_to_post(r) for r in rows]
            with report.timed("analyse"):
                analyses = analyzer.analyze_many(posts)
            with report.timed("group"):
                # One batch call: replies are grouped after their thread, and the analyses keep different
                # schools' stories apart.
                assignments = grouper.assign_many(posts, analyses)
            with report.timed("store"):
                hashes = {r.id: r.content_hash for r in rows}
                touched = _store_batch(s, posts, analyses, assignments, now, report)
                stale = _drop_stale(s, hashes, report)
                if index_outbox is not None:
                    index_outbox.enqueue_posts(s, [p.id for p in posts], now, content_hashes=hashes)
            with report.timed("events"):
                fresh = [(p, a) for p, a in zip(posts, analyses, strict=True) if p.id not in stale]
                for p, a in zip(posts, analyses, strict=True):
                    if p.id in stale:
                        states.pop(a.event_id or "", None)  # its event is read again in full
                _update_events(s, cfg, touched, fresh, states)
            with report.timed("warnings"):
                warnings = rules.raise_warnings(s, cfg, touched, now)
                if index_outbox is not None:
                    # Posts indexed before their event became a warning (an earlier batch or run) learn its
                    # status; the posts of this batch are indexed with it anyway.
                    for w in warnings:
                        if w.created_at == now and w.event_id:
                            index_outbox.enqueue_warning_status(s, w.event_id, w.status, now)
            report.warnings.extend(w.id for w in warnings if w.id not in report.warnings)
            report.events_touched += len(touched)
            committing = _clocks()
        report.add_since("commit", committing)  # the session commits as its block ends
        if progress:
            progress(report.analysed, total)
    if index is not None and index_outbox is not None:
        with report.timed("index"):
            replay = index_outbox.replay(store, index)
        report.indexed = getattr(replay, "delivered", 0)
        report.index_waiting = getattr(replay, "waiting", 0)
    return report


def _chunks(ids: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """IN-lists of bounded length (SQLite's bound-parameter limit, and the planner's comfort)."""
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _store_batch(
    s: Session, posts: list[Post], analyses: list[Analysis], assignments: Sequence[EventAssignment], now: datetime,
    report: PipelineReport,
) -> set[str]:
    """New events, then the analyses that refer to them: two multi-row INSERTs, no ORM objects."""
    touched: set[str] = set()
    new_ids = list(dict.fromkeys(a.event_id for a in assignments if a.is_new))
    known: set[str] = set()
    for chunk in _chunks(new_ids):
        known.update(s.scalars(select(EventRow.id).where(EventRow.id.in_(chunk))))
    new_events: list[dict[str, Any]] = []
    for post, assignment in zip(posts, assignments, strict=True):
        if assignment.is_new and assignment.event_id not in known:
            known.add(assignment.event_id)
            seen = post.published_at or post.crawled_at
            new_events.append({"id": assignment.event_id, "title": post.title or post.content[:60],
                               "signature": assignment.signature, "first_seen": seen, "last_seen": seen,
                               "post_count": 0, "site_count": 0, "reach": 0, "schools": [],
                               "category": Category.none.value, "severity": None, "sensitivity": 0.0})
    if new_events:
        s.execute(insert(EventRow.__table__), new_events)
    values: list[dict[str, Any]] = []
    for post, a, assignment in zip(posts, analyses, assignments, strict=True):
        a.event_id = assignment.event_id
        # Pending posts have no analysis row yet (one writer: the service serialises the pipeline).
        values.append({
            "post_id": post.id, "schools": a.schools, "relevant": a.relevant, "sensitivity": a.sensitivity,
            "category": a.category.value, "severity": a.severity.value if a.severity else None,
            "sentiment": a.sentiment, "explanation": [list(t) for t in a.explanation], "topics": a.topics,
            "event_id": a.event_id, "model": a.model, "analysed_at": now,
        })
        touched.add(assignment.event_id)
        report.analysed += 1
        report.relevant += int(a.relevant)
        report.sensitive += int(a.category != Category.none)
        report.by_category[a.category.value] += 1
    s.execute(insert(AnalysisRow.__table__), values)
    report.new_events += len(new_events)
    return touched


def _drop_stale(s: Session, hashes: dict[str, str], report: PipelineReport) -> set[str]:
    """Forget the analyses of posts whose text a crawl changed since they were read (``hashes``: post id →
    content hash as read; a crawl may store while the pipeline runs): they are pending again, and a later
    batch analyses the new text.

    Read after the first write of the transaction, with the rows locked where the database can (SQLite's
    write lock already keeps the crawls' writers out until the commit)."""
    current: dict[str, str] = {}
    for chunk in _chunks(list(hashes)):
        rows = s.connection().execute(
            select(PostRow.id, PostRow.content_hash).where(PostRow.id.in_(chunk)).with_for_update())
        current.update((r.id, r.content_hash) for r in rows)
    stale = [pid for pid, h in hashes.items() if current.get(pid) != h]
    if not stale:
        return set()
    log.info("%d posts changed while being analysed; they are analysed again", len(stale))
    s.execute(delete(AnalysisRow.__table__).where(AnalysisRow.post_id.in_(stale)))
    report.analysed -= len(stale)
    return set(stale)


def _contains(dialect: str, column: Any, term: str) -> ColumnElement[bool]:
    """Case-sensitive substring test in SQL (LIKE folds ASCII case on SQLite and needs escaping)."""
    if dialect == "postgresql":
        return func.strpos(column, term) > 0
    return func.instr(column, term) > 0


def _red_line_events(s: Session, event_ids: Sequence[str], red_lines: Sequence[str]) -> set[str]:
    """Events with a red-line term in some post's title or text, found by the database (the texts of a
    long thread are not fetched into Python each time a reply joins it)."""
    if not red_lines or not event_ids:
        return set()
    dialect = s.get_bind().dialect.name
    test = or_(*(_contains(dialect, col, t) for t in red_lines for col in (PostRow.title, PostRow.content)))
    found: set[str] = set()
    for chunk in _chunks(event_ids):
        found.update(s.scalars(
            select(AnalysisRow.event_id).distinct().join(PostRow, PostRow.id == AnalysisRow.post_id)
            .where(AnalysisRow.event_id.in_(chunk), test)
        ))
    return found


# Per post of a touched event, what the event's figures need; schools as the stored JSON text, decoded once
# per distinct value (a long thread's replies mostly repeat one list), and no datetimes (see _event_times).
_EVENT_POSTS = (AnalysisRow.event_id, type_coerce(AnalysisRow.schools, Text).label("schools"), AnalysisRow.relevant,
                AnalysisRow.sensitivity, AnalysisRow.category, PostRow.site, PostRow.reposts, PostRow.comments,
                PostRow.likes, PostRow.views)


def _event_times(s: Session, chunk: list[str]) -> dict[str, tuple[datetime, datetime]]:
    """First and last time (published, else crawled) of each event's posts, by the database."""
    seen = func.coalesce(PostRow.published_at, PostRow.crawled_at)
    rows = s.connection().execute(
        select(AnalysisRow.event_id, type_coerce(func.min(seen), UTCDateTime()).label("first"),
               type_coerce(func.max(seen), UTCDateTime()).label("last"))
        .join(PostRow, PostRow.id == AnalysisRow.post_id).where(AnalysisRow.event_id.in_(chunk))
        .group_by(AnalysisRow.event_id))
    return {r.event_id: (r.first, r.last) for r in rows}


@dataclass
class _EventState:
    """What an event's figures are computed from, kept between the batches of one call: a long thread
    touched by every batch is read in full once, then only its new posts are added (in the same order a
    full read takes them, so the sums and lists come out the same)."""

    count: int = 0
    sites: set[str] = field(default_factory=set)
    reach: int = 0
    schools: list[str] = field(default_factory=list)
    weight: Counter[str] = field(default_factory=Counter)
    top_relevant: float | None = None
    top_all: float = 0.0
    first: datetime | None = None
    last: datetime | None = None
    red: bool = False

    def add(self, schools: Iterable[str], relevant: bool, sensitivity: float, category: str, site: str,
            reach: int) -> None:
        self.count += 1
        self.sites.add(site)
        self.reach += reach
        for sid in schools:
            if sid not in self.schools:
                self.schools.append(sid)
        if category != Category.none.value:
            self.weight[category] += sensitivity
        if relevant:
            self.top_relevant = sensitivity if self.top_relevant is None else max(self.top_relevant, sensitivity)
        self.top_all = sensitivity if self.count == 1 else max(self.top_all, sensitivity)

    def seen(self, at: datetime) -> None:
        self.first = at if self.first is None else min(self.first, at)
        self.last = at if self.last is None else max(self.last, at)


def _read_events(s: Session, ids: list[str], red_lines: list[str]) -> tuple[dict[str, int], dict[str, _EventState]]:
    """The events' stored post counts and their states from all their posts (a few reads per 500 events)."""
    previous: dict[str, int] = {}
    states: dict[str, _EventState] = {}
    decoded: dict[str | None, list[str]] = {None: []}
    for chunk in _chunks(ids):
        previous.update((r.id, r.post_count or 0) for r in s.connection().execute(
            select(EventRow.id, EventRow.post_count).where(EventRow.id.in_(chunk))))
        for r in s.connection().execute(
            select(*_EVENT_POSTS).join(PostRow, PostRow.id == AnalysisRow.post_id)
            .where(AnalysisRow.event_id.in_(chunk))
            .order_by(AnalysisRow.event_id, PostRow.crawled_at, PostRow.id)
        ):
            listed = decoded.get(r.schools)
            if listed is None:
                listed = decoded[r.schools] = list(json.loads(r.schools) or [])
            reach = (r.reposts or 0) * 10 + (r.comments or 0) * 3 + (r.likes or 0) + (r.views or 0) // 100
            states.setdefault(r.event_id, _EventState()).add(listed, bool(r.relevant), r.sensitivity, r.category,
                                                             r.site, reach)
        for eid, (first, last) in _event_times(s, chunk).items():
            if eid in states:
                states[eid].first, states[eid].last = first, last
    for eid in _red_line_events(s, [e for e in ids if e in previous and e in states], red_lines):
        states[eid].red = True
    return previous, states


def _update_events(s: Session, cfg: Config, event_ids: Iterable[str], batch: list[tuple[Post, Analysis]],
                   states: dict[str, _EventState]) -> None:
    """Recompute each touched event from all its posts: counts, reach, schools, category, severity.

    ``batch``: the posts just stored with their analyses; ``states``: the events already written by this
    call (updated here), which need only those posts added. Others are read in full."""
    from analysis.severity import event_severity

    ids = sorted(set(event_ids))
    if not ids:
        return
    red_lines = [t for t in cfg.red_lines if t]
    known = [eid for eid in ids if eid in states]
    previous = {eid: states[eid].count for eid in known}
    for post, a in batch:
        state = states.get(a.event_id or "")
        if state is None or a.event_id not in previous:
            continue
        state.add(a.schools, a.relevant, a.sensitivity, a.category.value, post.site, post.metrics.reach())
        state.seen(post.published_at or post.crawled_at)
        state.red = state.red or any(t in post.title or t in post.content for t in red_lines)
    counts, read = _read_events(s, [eid for eid in ids if eid not in states], red_lines)
    previous.update(counts)
    states.update(read)
    updates: list[dict[str, Any]] = []
    for eid in ids:
        state = states.get(eid)
        if eid not in previous or state is None or not state.count:
            continue
        sensitivity = state.top_relevant if state.top_relevant is not None else state.top_all
        category = state.weight.most_common(1)[0][0] if state.weight else Category.none.value
        growth = state.count / previous[eid] if previous[eid] else 1.0
        sev = event_severity(sensitivity, Category(category), state.reach, len(state.sites), growth, state.red)
        updates.append({
            "b_id": eid, "post_count": state.count, "site_count": len(state.sites), "reach": state.reach,
            "schools": list(state.schools), "first_seen": state.first, "last_seen": state.last,
            "sensitivity": sensitivity, "category": category,
            "severity": sev.value if isinstance(sev, Severity) else None,
        })
    if updates:
        table = EventRow.__table__
        s.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                {k: bindparam(k) for k in updates[0] if k != "b_id"}),
            updates,
        )


def open_warning_ids(s: Session) -> list[int]:
    return list(s.scalars(select(WarningRow.id).where(WarningRow.status.not_in(["closed", "dismissed"]))))
