"""The review queue: deadlines, who may see which warning, filters and the urgency order.

Deadlines follow the bureau's procedure: an inquiry is answered by the end of the same day
(Asia/Shanghai, or the configured zone); the other categories get the hours in alerts.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.accounts import Actor
from alerting.store.tables import AnalysisRow, EventRow, PostRow, WarningRow
from yuqing.config import Config, category_deadline_hours
from yuqing.errors import InputError, NotFoundError
from yuqing.model import OPEN_STATES, Category, Severity, WarningState, utcnow

OPEN = tuple(s.value for s in OPEN_STATES)
# States in which the deadline clock runs: until the reply, clarification or referral is out.
CLOCK_RUNNING = tuple(s.value for s in (WarningState.new, WarningState.triaged, WarningState.reported,
                                        WarningState.handling))


def compute_deadline(cfg: Config, category: str, created_at: datetime) -> datetime:
    """When the response is due. Inquiry: 24:00 local on the day the warning was raised."""
    cat = Category(category) if category in Category.__members__ else Category.none
    hours = category_deadline_hours(cfg, cat)
    if hours is None:
        tz = ZoneInfo(cfg.timezone)
        local_day = created_at.astimezone(tz).date()
        return datetime.combine(local_day + timedelta(days=1), time(0, 0), tz).astimezone(created_at.tzinfo)
    return created_at + timedelta(hours=hours)


def deadline_of(cfg: Config, w: WarningRow) -> datetime:
    return w.deadline or compute_deadline(cfg, w.category, w.created_at)


def is_overdue(cfg: Config, w: WarningRow, now: datetime) -> bool:
    """Open warnings past their deadline. Responding stops the clock: the answer was given."""
    return w.status in CLOCK_RUNNING and deadline_of(cfg, w) < now


def _severity_rank(value: str) -> int:
    try:
        return Severity(value).rank
    except ValueError:
        return 0


def urgency_key(cfg: Config, w: WarningRow, now: datetime) -> tuple[int, int, int, float, float]:
    """Sort key, most urgent first: open before done, overdue first, graver first, nearest deadline."""
    open_ = w.status in OPEN
    clock_running = w.status in CLOCK_RUNNING
    return (
        0 if open_ else 1,
        0 if is_overdue(cfg, w, now) else 1,
        0 if clock_running else 1,
        -float(_severity_rank(w.severity)),
        deadline_of(cfg, w).timestamp() if open_ else -w.updated_at.timestamp(),
    )


def visible(actor: Actor, w: WarningRow) -> bool:
    """Monitors see warnings about their schools only; source-health warnings name no school."""
    return actor.may_see(list(w.schools or []))


def get_warning(session: Session, actor: Actor, warning_id: int) -> WarningRow:
    """The warning if this actor may see it; the same NotFoundError otherwise, so that guessing an id
    tells a monitor nothing about other schools' warnings."""
    w = session.get(WarningRow, warning_id)
    if w is None or not visible(actor, w):
        raise NotFoundError(f"预警 {warning_id} 不存在或无权查看")
    return w


@dataclass(frozen=True)
class QueueFilter:
    status: str = ""  # a state, "open" (default view), or "" for all
    category: str = ""
    severity: str = ""
    school: str = ""
    assignee: str = ""  # a username, or "none" for unassigned
    overdue: bool = False
    kind: str = ""

    def check(self, cfg: Config) -> None:
        if self.status and self.status != "open" and self.status not in WarningState.__members__:
            raise InputError(f"未知状态 {self.status!r}", "status")
        if self.category and self.category not in Category.__members__:
            raise InputError(f"未知类别 {self.category!r}", "category")
        if self.severity and self.severity not in Severity.__members__:
            raise InputError(f"未知等级 {self.severity!r}", "severity")
        if self.school and self.school not in {s.id for s in cfg.schools}:
            raise InputError(f"未知学校 {self.school!r}", "school")


@dataclass
class QueueItem:
    warning: WarningRow
    deadline: datetime
    overdue: bool
    seconds_left: float
    school_names: list[str] = field(default_factory=list)
    posts: int = 0  # the event's size and spread, to judge how far the story has gone
    sites: int = 0
    reach: int = 0


def school_names(cfg: Config, ids: list[str]) -> list[str]:
    names = {s.id: s.name for s in cfg.schools}
    return [names.get(i, i) for i in ids]


def list_queue(
    session: Session, cfg: Config, actor: Actor, f: QueueFilter, now: datetime | None = None, limit: int = 500,
) -> list[QueueItem]:
    """Warnings this actor may see, filtered, most urgent first."""
    f.check(cfg)
    now = now or utcnow()
    stmt = select(WarningRow)
    if f.status == "open":
        stmt = stmt.where(WarningRow.status.in_(OPEN))
    elif f.status:
        stmt = stmt.where(WarningRow.status == f.status)
    if f.category:
        stmt = stmt.where(WarningRow.category == f.category)
    if f.severity:
        stmt = stmt.where(WarningRow.severity == f.severity)
    if f.kind:
        stmt = stmt.where(WarningRow.kind == f.kind)
    if f.assignee == "none":
        stmt = stmt.where(WarningRow.assignee.is_(None))
    elif f.assignee:
        stmt = stmt.where(WarningRow.assignee == f.assignee)
    # School lists are JSON; filtering them portably (SQLite and PostgreSQL) is done in Python.
    rows = list(session.scalars(stmt.order_by(WarningRow.created_at.desc()).limit(5000)))
    items: list[QueueItem] = []
    for w in rows:
        if not visible(actor, w) or (f.school and f.school not in (w.schools or [])):
            continue
        overdue = is_overdue(cfg, w, now)
        if f.overdue and not overdue:
            continue
        dl = deadline_of(cfg, w)
        items.append(QueueItem(w, dl, overdue, (dl - now).total_seconds(), school_names(cfg, list(w.schools or []))))
    items.sort(key=lambda it: urgency_key(cfg, it.warning, now))
    items = items[:limit]
    event_ids = [it.warning.event_id for it in items if it.warning.event_id]
    if event_ids:
        events = {e.id: e for e in session.scalars(select(EventRow).where(EventRow.id.in_(event_ids)))}
        for it in items:
            ev = events.get(it.warning.event_id or "")
            if ev is not None:
                it.posts, it.sites, it.reach = ev.post_count, ev.site_count, ev.reach
    return items


def paginate(items: list[QueueItem], page: int, size: int) -> tuple[list[QueueItem], int, int]:
    """One page of items, the page number clamped to what exists, and the number of pages."""
    pages = max((len(items) - 1) // size + 1, 1)
    page = min(max(page, 1), pages)
    return items[(page - 1) * size: page * size], page, pages


@dataclass
class TimelinePost:
    post: PostRow
    analysis: AnalysisRow


def event_posts(session: Session, w: WarningRow) -> list[TimelinePost]:
    """The event's posts in publish order (crawl time when the page showed none)."""
    if not w.event_id:
        return []
    rows = session.execute(
        select(PostRow, AnalysisRow)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(AnalysisRow.event_id == w.event_id)
    ).all()
    out = [TimelinePost(p, a) for p, a in rows]
    out.sort(key=lambda t: (t.post.published_at or t.post.crawled_at, t.post.id))
    return out


def event_post_ids(session: Session, w: WarningRow) -> list[str]:
    if not w.event_id:
        return []
    return list(session.scalars(select(AnalysisRow.post_id).where(AnalysisRow.event_id == w.event_id)))


def post_in_scope(session: Session, actor: Actor, post_id: str) -> PostRow:
    """A post the actor may open: a monitor only when it is in a warning they may see."""
    post = session.get(PostRow, post_id)
    if post is None:
        raise NotFoundError(f"帖子 {post_id} 不存在或无权查看")
    if actor.sees_all:
        return post
    a = session.get(AnalysisRow, post_id)
    if a is not None and a.event_id:
        w = session.scalar(select(WarningRow).where(WarningRow.event_id == a.event_id))
        if w is not None and visible(actor, w):
            return post
    raise NotFoundError(f"帖子 {post_id} 不存在或无权查看")

