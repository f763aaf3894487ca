"""Warnings from events: one warning per event, its alert mail in the same transaction.

An event becomes a warning when it has a category, names at least one of our schools in a relevant
post, and its sensitivity reaches the threshold (the lower one during a sensitive period). The
first alert is an immediate e-mail when the severity reaches ``immediate_severity``; otherwise the
warning waits for the digest. Later posts of the same event re-alert only on escalation: severity up,
or posts / reach grown ``escalation_growth`` times since the last alert; the mail says what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import audit
from alerting.notify import compose, outbox
from alerting.queue import compute_deadline
from alerting.store.tables import AnalysisRow, EventRow, PostRow, WarningRow
from yuqing.config import Config
from yuqing.model import Category, Severity

log = logging.getLogger(__name__)

SYSTEM = "system"
# Growth needs a floor besides the ratio: one repost doubling a one-post event is not news.
MIN_POST_GROWTH = 3
MIN_REACH_GROWTH = 100
# Warnings people have judged false alarms never re-alert.
SILENT_STATES = ("dismissed",)


def threshold(cfg: Config, now: datetime) -> float:
    """The sensitivity threshold now: lower while a sensitive period (local date) is active."""
    t = cfg.alerts.thresholds
    today = now.astimezone(ZoneInfo(cfg.timezone)).date()
    return t.sensitive_period_sensitivity if cfg.active_period(today) else t.sensitivity


def is_immediate(cfg: Config, severity: str) -> bool:
    return _rank(severity) >= cfg.alerts.thresholds.immediate_severity.rank


def _rank(severity: str | None) -> int:
    try:
        return Severity(severity or "").rank
    except ValueError:
        return 0


def relevant_schools(session: Session, cfg: Config, event_id: str) -> list[str]:
    """Our schools named by the event's relevant posts (a same-named school elsewhere is not relevant)."""
    return relevant_schools_of(session, cfg, [event_id]).get(event_id, [])


def relevant_schools_of(session: Session, cfg: Config, event_ids: Sequence[str]) -> dict[str, list[str]]:
    """``relevant_schools`` for many events in one query per 500, in the order their posts were crawled."""
    known = {s.id for s in cfg.schools}
    out: dict[str, list[str]] = {}
    session.flush()  # read below the ORM (plain rows), so pending analyses must be in the database first
    for chunk in _chunks(event_ids):
        for eid, schools in session.connection().execute(
            select(AnalysisRow.event_id, AnalysisRow.schools).join(PostRow, PostRow.id == AnalysisRow.post_id)
            .where(AnalysisRow.event_id.in_(chunk), AnalysisRow.relevant.is_(True))
            .order_by(AnalysisRow.event_id, PostRow.crawled_at, PostRow.id)
        ):
            found = out.setdefault(eid, [])
            for sid in schools or []:
                if sid in known and sid not in found:
                    found.append(sid)
    return out


def _chunks(ids: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def raise_warnings(session: Session, cfg: Config, event_ids: Iterable[str], now: datetime) -> list[WarningRow]:
    """Create or re-alert the warnings of the touched events; returns those created or re-alerted.

    The events, their warnings and their relevant schools are read once for the whole batch (the
    pipeline touches hundreds of events per batch; most have no category and are skipped in SQL)."""
    limit = threshold(cfg, now)
    ids = sorted(set(event_ids))
    events: dict[str, EventRow] = {}
    existing: dict[str, WarningRow] = {}
    for chunk in _chunks(ids):
        events.update((e.id, e) for e in session.scalars(
            select(EventRow).where(EventRow.id.in_(chunk), EventRow.category != Category.none.value)))
    candidates = sorted(events)
    for chunk in _chunks(candidates):
        existing.update((w.event_id, w) for w in session.scalars(
            select(WarningRow).where(WarningRow.event_id.in_(chunk))) if w.event_id)
    schools_of = relevant_schools_of(session, cfg, candidates)
    out: list[WarningRow] = []
    for eid in candidates:
        event = events[eid]
        schools = schools_of.get(eid, [])
        warning = existing.get(eid)
        if warning is not None:
            if _re_alert(session, cfg, warning, event, schools, now):
                out.append(warning)
            continue
        if not schools or event.sensitivity < limit:
            continue
        out.append(_create(session, cfg, event, schools, now))
    return out


def _create(session: Session, cfg: Config, event: EventRow, schools: list[str], now: datetime) -> WarningRow:
    severity = event.severity or Severity.IV.value
    w = WarningRow(
        kind="opinion", event_id=event.id, status="new", category=event.category, severity=severity,
        schools=schools, title=event.title, sensitivity=event.sensitivity,
        deadline=compute_deadline(cfg, event.category, now), created_at=now, updated_at=now,
        escalation_level=0, alerted_severity=severity, alerted_posts=event.post_count,
        alerted_reach=event.reach, form={}, summary="",
    )
    session.add(w)
    session.flush()  # the id, for the audit row, the outbox key and the link in the mail
    immediate = is_immediate(cfg, severity)
    log.info("warning %s raised for event %s (%s, %s)", w.id, event.id, event.category, severity)
    audit.record(session, SYSTEM, "raise", warning_id=w.id, to_state="new", at=now,
                 reason="达到预警阈值", details={"immediate": immediate, "severity": severity,
                                             "posts": event.post_count, "reach": event.reach})
    if immediate:
        _mail_now(session, cfg, w, f"mail:warning:{w.id}:raised", None, "immediate", now)
    return w


def _re_alert(session: Session, cfg: Config, w: WarningRow, event: EventRow, schools: list[str],
              now: datetime) -> bool:
    changes = escalation_changes(cfg, w, event)
    # The warning follows its event (never down: people may have raised the severity by hand).
    if _rank(event.severity) > _rank(w.severity):
        w.severity = event.severity or w.severity
    w.sensitivity = max(w.sensitivity, event.sensitivity)
    w.schools = list(dict.fromkeys([*(w.schools or []), *schools]))
    if not changes or w.status in SILENT_STATES:
        return False
    key = f"mail:warning:{w.id}:escalated:{event.severity}:{event.post_count}:{event.reach}"
    immediate = is_immediate(cfg, w.severity)
    w.alerted_severity = w.severity if _rank(w.severity) > _rank(w.alerted_severity) else w.alerted_severity
    w.alerted_posts = event.post_count
    w.alerted_reach = event.reach
    w.updated_at = now
    audit.record(session, SYSTEM, "re_alert", warning_id=w.id, at=now, reason=";".join(changes),
                 details={"immediate": immediate, "changes": changes, "severity": w.severity,
                          "posts": event.post_count, "reach": event.reach})
    if immediate:
        _mail_now(session, cfg, w, key, changes, "escalation", now)
    return True


def escalation_changes(cfg: Config, w: WarningRow, event: EventRow) -> list[str]:
    """What grew since the last alert, in words for the mail; empty when nothing escalated."""
    growth = cfg.alerts.thresholds.escalation_growth
    changes: list[str] = []
    if _rank(event.severity) > _rank(w.alerted_severity):
        changes.append(f"等级由{compose.severity_label(w.alerted_severity)}升为{compose.severity_label(event.severity)}")
    if (event.post_count >= growth * max(w.alerted_posts, 1)
            and event.post_count - w.alerted_posts >= MIN_POST_GROWTH):
        changes.append(f"帖子数由 {w.alerted_posts} 条增至 {event.post_count} 条")
    if event.reach >= growth * max(w.alerted_reach, 1) and event.reach - w.alerted_reach >= MIN_REACH_GROWTH:
        changes.append(f"影响力由 {w.alerted_reach} 增至 {event.reach}")
    return changes


def _mail_now(session: Session, cfg: Config, w: WarningRow, key: str, changes: list[str] | None, kind: str,
              now: datetime) -> None:
    mail = compose.warning_mail(session, cfg, w, changes)
    to = cfg.recipients(cfg.alerts.immediate_to)
    if to:
        outbox.enqueue_mail(session, key=key, to=to, subject=mail.subject, text=mail.text, html=mail.html,
                            kind=kind, warning_id=w.id, now=now)
    outbox.enqueue_apprise_groups(session, cfg, cfg.alerts.immediate_to, key=key, title=mail.subject, body=mail.text,
                                  kind=kind, warning_id=w.id, now=now)
