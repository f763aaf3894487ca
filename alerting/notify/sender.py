"""Deliver due notification outbox rows (mail, Apprise), one by one, marking each as it goes.

Nothing is lost: a row stays pending until the server accepted it, and failures back off
exponentially (30 s doubling, capped at 30 min). Nothing is doubled: each row is claimed with a
short lease before sending (two senders never send one row at the same time), is marked delivered
right after the server accepted it, and always carries the Message-ID derived from its key, so even
a crash between "accepted" and "marked" re-sends the same message, which mail clients show once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from sqlalchemy import select, update

from alerting.notify import outbox
from alerting.notify.mail import Mailer, MailError, Outgoing
from alerting.store import Store
from alerting.store.tables import OutboxRow
from yuqing.config import Config
from yuqing.model import utcnow

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=30)
# A claimed row is invisible to other senders this long; a sender that dies mid-send leaves the
# row to be taken again after the lease.
LEASE = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Delay after the ``attempts``-th failure (1-based)."""
    delay: timedelta = BACKOFF_BASE * (2 ** min(max(attempts - 1, 0), 16))
    return min(delay, BACKOFF_MAX)


def deliver_pending(store: Store, cfg: Config, now: datetime | None = None, limit: int = 200) -> DeliveryReport:
    """Send every due mail and Apprise row (oldest first, at most ``limit``); back off the failures."""
    now = now or utcnow()
    report = DeliveryReport()
    with store.session() as s:
        rows = s.execute(
            select(OutboxRow.id, OutboxRow.channel, OutboxRow.key, OutboxRow.payload, OutboxRow.attempts,
                   OutboxRow.next_attempt_at, OutboxRow.created_at)
            .where(OutboxRow.channel.in_(outbox.CHANNELS), OutboxRow.delivered_at.is_(None),
                   OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.id).limit(limit)
        ).all()
    mail_rows = [r for r in rows if r.channel == outbox.MAIL]
    if mail_rows:
        _deliver_mail(store, cfg, mail_rows, now, report)
    for r in rows:
        if r.channel == outbox.APPRISE and _claim(store, r, now):
            _deliver_apprise(store, r, now, report)
    with store.session() as s:
        report.waiting = sum(outbox.backlog(s, now, ch).pending for ch in outbox.CHANNELS)
    return report


def _claim(store: Store, row: Any, now: datetime) -> bool:
    """Take the row for this sender (compare-and-set on its next attempt time)."""
    with store.session() as s:
        result = s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row.id, OutboxRow.delivered_at.is_(None),
                   OutboxRow.next_attempt_at == row.next_attempt_at)
            .values(next_attempt_at=now + LEASE)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _mark_sent(store: Store, row: Any, now: datetime, note: str = "") -> None:
    with store.session() as s:
        s.execute(update(OutboxRow).where(OutboxRow.id == row.id)
                  .values(delivered_at=now, attempts=row.attempts + 1, last_error=note[:2000]))


def _mark_failed(store: Store, row: Any, now: datetime, error: str) -> None:
    attempts = row.attempts + 1
    with store.session() as s:
        s.execute(update(OutboxRow).where(OutboxRow.id == row.id)
                  .values(attempts=attempts, next_attempt_at=now + backoff(attempts), last_error=error[:2000]))


def _deliver_mail(store: Store, cfg: Config, rows: list[Any], now: datetime, report: DeliveryReport) -> None:
    smtp = cfg.alerts.smtp
    with Mailer(smtp, ca_file=smtp.ca_file) as mailer:
        for i, r in enumerate(rows):
            if not _claim(store, r, now):
                continue  # another sender has it
            p = r.payload
            out = Outgoing(message_id=outbox.message_id(r.key, smtp.sender), to=list(p["to"]),
                           subject=p["subject"], text=p["text"], html=p.get("html"))
            try:
                refused = mailer.send(out, date=format_datetime(r.created_at))
            except MailError as exc:
                report.failed += 1
                report.errors.append(str(exc))
                log.warning("mail %s not sent (attempt %d): %s", r.key, r.attempts + 1, exc)
                _mark_failed(store, r, now, str(exc))
                if exc.connection_lost:
                    # The server is away: the rest of the batch waits its turn with the same backoff
                    # rather than hammering it message by message.
                    for rest in rows[i + 1:]:
                        if _claim(store, rest, now):
                            _mark_failed(store, rest, now, str(exc))
                            report.failed += 1
                    return
                continue
            report.sent += 1
            note = f"部分收件人被拒绝:{', '.join(refused)}" if refused else ""
            _mark_sent(store, r, now, note)


def _deliver_apprise(store: Store, row: Any, now: datetime, report: DeliveryReport) -> None:
    from alerting.notify import apprise_channel

    p = row.payload
    urls = os.environ.get(p.get("urls_env") or "", "")
    try:
        apprise_channel.notify(urls, p["title"], p["body"])
    except apprise_channel.ChannelError as exc:
        report.failed += 1
        report.errors.append(str(exc))
        _mark_failed(store, row, now, str(exc))
        return
    report.sent += 1
    _mark_sent(store, row, now)
