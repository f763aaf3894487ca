"""Figures for the dashboard and /healthz: today's counts, open warnings, overdue, sources, outbox."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from alerting.accounts import Actor
from alerting.queue import OPEN, QueueFilter, QueueItem, list_queue, visible
from alerting.store import Store
from alerting.store.tables import AuditRow, OutboxRow, PostRow, SourceRunRow, WarningRow
from yuqing.config import Config, SensitivePeriod
from yuqing.model import utcnow


def health(store: Store) -> dict[str, Any]:
    """ok / db reachable / outbox backlog; never raises (a broken database is the answer, not an error)."""
    try:
        with store.session() as s:
            s.execute(text("SELECT 1"))
            backlog = s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_(None)))
        return {"ok": True, "db": True, "outbox_backlog": int(backlog or 0)}
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed: the status says what failed
        return {"ok": False, "db": False, "outbox_backlog": None, "error": type(exc).__name__}


@dataclass
class SourceHealth:
    source_id: str
    name: str
    enabled: bool
    last_status: str = "never"
    last_started: datetime | None = None
    last_ok: datetime | None = None
    new_posts: int = 0
    errors: int = 0
    message: str = ""
    failures_in_row: int = 0


@dataclass
class Dashboard:
    day_start: datetime
    posts_today: int = 0
    warnings_today: int = 0
    closed_today: int = 0
    actions_today: int = 0  # workflow steps taken today by people
    open_total: int = 0
    open_matrix: dict[str, Counter[str]] = field(default_factory=dict)  # category → severity → count
    by_status: Counter[str] = field(default_factory=Counter)
    overdue: list[QueueItem] = field(default_factory=list)
    sources: list[SourceHealth] = field(default_factory=list)
    period: SensitivePeriod | None = None
    outbox: dict[str, int] = field(default_factory=dict)
    mail_failed: int = 0  # notifications waiting after a failed attempt
    mail_error: str = ""  # the latest failure's reason (never holds a password)


def build_dashboard(session: Session, cfg: Config, actor: Actor, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    tz = ZoneInfo(cfg.timezone)
    local = now.astimezone(tz)
    start = datetime.combine(local.date(), time(0, 0), tz).astimezone(now.tzinfo)
    d = Dashboard(day_start=start, period=cfg.active_period(local.date()))
    d.posts_today = int(session.scalar(select(func.count()).select_from(PostRow).where(PostRow.crawled_at >= start))
                        or 0)
    for w in session.scalars(select(WarningRow).where(
            (WarningRow.status.in_(OPEN)) | (WarningRow.created_at >= start))):
        if not visible(actor, w):
            continue
        if w.created_at >= start:
            d.warnings_today += 1
        if w.status in OPEN:
            d.open_total += 1
            d.by_status[w.status] += 1
            d.open_matrix.setdefault(w.category, Counter())[w.severity] += 1
    today_actions = select(AuditRow.action).where(AuditRow.at >= start, AuditRow.warning_id.is_not(None),
                                                  AuditRow.to_state.is_not(None),
                                                  AuditRow.actor != "system")  # raised/resolved by the system
    acts = list(session.scalars(today_actions))
    d.actions_today, d.closed_today = len(acts), acts.count("close")
    d.overdue = list_queue(session, cfg, actor, QueueFilter(status="open", overdue=True), now, limit=20)
    d.sources = source_health(session, cfg, now)
    rows = session.execute(select(OutboxRow.channel, func.count()).where(OutboxRow.delivered_at.is_(None))
                           .group_by(OutboxRow.channel)).all()
    d.outbox = {str(c): int(n) for c, n in rows}
    # Notifications whose last attempt failed (they are retried with backoff): count and latest reason.
    failing = select(OutboxRow).where(OutboxRow.channel.in_(("mail", "apprise")), OutboxRow.delivered_at.is_(None),
                                      OutboxRow.last_error != "")
    d.mail_failed = int(session.scalar(select(func.count()).select_from(failing.subquery())) or 0)
    latest = session.scalars(failing.order_by(OutboxRow.next_attempt_at.desc()).limit(1)).first()
    d.mail_error = latest.last_error if latest is not None else ""
    return d


def source_health(session: Session, cfg: Config, now: datetime, recent: int = 10) -> list[SourceHealth]:
    out = []
    since = now - timedelta(days=7)
    for src in cfg.sources:
        h = SourceHealth(src.id, src.name, src.enabled)
        runs = list(session.scalars(
            select(SourceRunRow).where(SourceRunRow.source_id == src.id, SourceRunRow.started_at >= since)
            .order_by(SourceRunRow.started_at.desc()).limit(recent)))
        if runs:
            last = runs[0]
            h.last_status, h.last_started, h.new_posts, h.errors, h.message = (
                last.status, last.started_at, last.new_posts, last.errors, last.message)
            for r in runs:
                if r.status == "ok":
                    h.last_ok = h.last_ok or r.started_at
                    break
                if r.status in ("failed", "killed"):
                    h.failures_in_row += 1
        out.append(h)
    return out


def recent_runs(session: Session, source_id: str, limit: int = 10) -> list[SourceRunRow]:
    """A source's latest runs, newest first (shown on its source-health warning)."""
    return list(session.scalars(select(SourceRunRow).where(SourceRunRow.source_id == source_id)
                                .order_by(SourceRunRow.started_at.desc()).limit(limit)))
