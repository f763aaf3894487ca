"""Deadline reminders and escalation down the duty roster.

A warning whose deadline passed while its clock still runs (not replied, clarified or referred),
or a warning serious enough for an immediate alert that nobody acknowledged within ``ack_minutes``,
is sent to the next person of ``duty_roster``: step k goes to the k-th person, ``ack_minutes`` after
step k-1 (the first step at the deadline, or ``ack_minutes`` after the warning was raised). Each
step raises ``escalation_level`` (the queue shows it), writes an "escalated" audit row and has its
own outbox key, so it happens once however often this runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import audit
from alerting.notify import compose, outbox
from alerting.queue import CLOCK_RUNNING, OPEN, deadline_of
from alerting.store.tables import WarningRow
from yuqing.config import Config
from yuqing.model import STATE_LABELS, Severity, WarningState

SYSTEM = "system"


def _needs_ack(cfg: Config, w: WarningRow) -> bool:
    try:
        rank = Severity(w.severity).rank
    except ValueError:
        return False
    return w.acknowledged_at is None and rank >= cfg.alerts.thresholds.immediate_severity.rank


def pending_steps(cfg: Config, w: WarningRow) -> list[tuple[datetime, str]]:
    """(when due, why) for each reason the next escalation step may happen; empty when none is pending."""
    level = w.escalation_level or 0
    if level >= len(cfg.alerts.duty_roster) or w.status not in OPEN:
        return []
    minutes = cfg.alerts.thresholds.ack_minutes
    step = timedelta(minutes=minutes)
    out: list[tuple[datetime, str]] = []
    if w.kind == "opinion" and w.status in CLOCK_RUNNING:
        dl = deadline_of(cfg, w)
        out.append((dl + step * level, f"已超过处置时限({compose.local(cfg, dl)})仍未回复"))
    # Source-health warnings are the administrator's, who already has their mail: no roster reminders.
    if w.kind == "opinion" and _needs_ack(cfg, w):
        out.append((w.created_at + step * (level + 1),
                    f"{compose.severity_label(w.severity)}预警 {minutes} 分钟内无人确认"))
    return out


def enqueue_reminders(session: Session, cfg: Config, now: datetime) -> int:
    """Queue the escalation steps due now; returns how many reminders were queued."""
    roster = cfg.alerts.duty_roster
    if not roster:
        return 0
    n = 0
    rows = session.scalars(select(WarningRow).where(WarningRow.status.in_(OPEN),
                                                    WarningRow.escalation_level < len(roster)))
    for w in rows:
        reasons = [why for at, why in pending_steps(cfg, w) if at <= now]
        if not reasons:
            continue
        level = (w.escalation_level or 0) + 1
        person = roster[level - 1]
        key = f"mail:warning:{w.id}:reminder:{level}"
        subject = (f"【催办·第{level}级】{compose.severity_label(w.severity)}预警 {w.id}:"
                   f"{compose.one_line(w.title, 40)}")
        mail = compose.render(
            "reminder", subject, w=w, person=person, level=level, reasons=reasons,
            schools=compose.school_names(cfg, list(w.schools or [])), category=compose.category_label(w.category),
            severity=compose.severity_label(w.severity), deadline=compose.local(cfg, deadline_of(cfg, w)),
            created=compose.local(cfg, w.created_at), url=compose.warning_url(cfg, w.id),
            title=compose.one_line(w.title, 120), county=cfg.county.name,
            status=STATE_LABELS.get(WarningState(w.status), w.status),
            previous=[m.username for m in roster[: level - 1]],
        )
        if not outbox.enqueue_mail(session, key=key, to=[person.email], subject=mail.subject, text=mail.text,
                                   html=mail.html, kind="reminder", warning_id=w.id, now=now):
            continue
        w.escalation_level = level
        w.updated_at = now
        audit.record(session, SYSTEM, "escalated", warning_id=w.id, at=now, reason=";".join(reasons),
                     details={"level": level, "to": person.username, "email": person.email})
        n += 1
    return n
