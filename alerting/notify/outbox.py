"""The notification outbox: mail (and Apprise) rows written in the transaction of their cause.

Each row has a unique key that is also the source of the e-mail's Message-ID, so that the same
cause queued twice is one row, and a message re-sent after a crash carries the same Message-ID
(a mail client shows it once). ``alerting.notify.sender`` delivers the rows afterwards.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.store.tables import OutboxRow
from yuqing.config import Config

log = logging.getLogger(__name__)

MAIL = "mail"
APPRISE = "apprise"
CHANNELS = (MAIL, APPRISE)


def _insert(session: Session, channel: str, key: str, payload: dict[str, Any], now: datetime) -> bool:
    # Look first, then insert. No savepoint around the insert: with pysqlite a SAVEPOINT outside an
    # open transaction commits on RELEASE, which would split the row from its cause. Two writers
    # racing on one key make the later transaction fail on the unique key and roll back whole;
    # its next run finds the row and goes on (every caller is idempotent).
    if session.scalar(select(OutboxRow.id).where(OutboxRow.key == key)) is not None:
        return False
    for pending in session.new:  # queued earlier in this same unit of work, not yet flushed
        if isinstance(pending, OutboxRow) and pending.key == key:
            return False
    session.add(OutboxRow(channel=channel, key=key, payload=payload, created_at=now, attempts=0,
                          next_attempt_at=now, delivered_at=None, last_error=""))
    return True


def enqueue_mail(
    session: Session, *, key: str, to: list[str], subject: str, text: str, html: str | None, kind: str,
    warning_id: int | None = None, now: datetime,
) -> bool:
    """Queue one e-mail to ``to`` (all in one message). False if ``key`` was queued before (idempotent)."""
    if not to:
        raise ValueError("an e-mail needs at least one recipient")
    payload = {"to": list(to), "subject": subject, "text": text, "html": html, "kind": kind,
               "warning_id": warning_id}
    return _insert(session, MAIL, key, payload, now)


def enqueue_apprise(
    session: Session, *, key: str, group: str, urls_env: str, title: str, body: str, kind: str,
    warning_id: int | None = None, now: datetime,
) -> bool:
    """Queue one Apprise notification for a recipient group; the URLs are read from ``urls_env`` when
    sending (they hold webhook tokens, which never go into the database)."""
    payload = {"group": group, "urls_env": urls_env, "title": title, "body": body, "kind": kind,
               "warning_id": warning_id}
    return _insert(session, APPRISE, key, payload, now)


# Chat webhooks cap a message (WeCom: 4096 bytes, about 1300 Chinese characters); the e-mail has it all.
APPRISE_MAX_CHARS = 1200


def _short(body: str) -> str:
    if len(body) <= APPRISE_MAX_CHARS:
        return body
    return body[: APPRISE_MAX_CHARS - 12].rstrip() + "\n……(全文见邮件)"


def enqueue_apprise_groups(
    session: Session, cfg: Config, groups: list[str], *, key: str, title: str, body: str, kind: str,
    warning_id: int | None = None, now: datetime,
) -> int:
    """The same notice on the extra channel of each of ``groups`` that configured one; returns rows queued."""
    n = 0
    for g in cfg.alerts.recipients:
        if g.name not in groups or not g.apprise_urls_env:
            continue
        if not os.environ.get(g.apprise_urls_env):
            log.warning("recipient group %s: %s is empty, no Apprise notice", g.name, g.apprise_urls_env)
            continue
        n += enqueue_apprise(session, key=f"apprise:{g.name}:{key}", group=g.name, urls_env=g.apprise_urls_env,
                             title=title, body=_short(body), kind=kind, warning_id=warning_id, now=now)
    return n


def message_id(key: str, sender: str) -> str:
    """A stable Message-ID for an outbox key: the same key always gives the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    domain = sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else "yuqing.localhost"
    return f"<{digest}@{domain or 'yuqing.localhost'}>"


@dataclass
class Backlog:
    pending: int
    due: int
    failed: int  # pending rows whose last attempt failed
    delivered: int
    oldest_pending: datetime | None


def backlog(session: Session, now: datetime, channel: str = MAIL) -> Backlog:
    """What is waiting on one channel (the dashboard, /healthz and `yuqing status` show it)."""
    base = select(func.count()).select_from(OutboxRow).where(OutboxRow.channel == channel)
    pending = base.where(OutboxRow.delivered_at.is_(None))
    return Backlog(
        pending=int(session.scalar(pending) or 0),
        due=int(session.scalar(pending.where(OutboxRow.next_attempt_at <= now)) or 0),
        failed=int(session.scalar(pending.where(OutboxRow.last_error != "")) or 0),
        delivered=int(session.scalar(base.where(OutboxRow.delivered_at.is_not(None))) or 0),
        oldest_pending=session.scalar(
            select(func.min(OutboxRow.created_at)).where(OutboxRow.channel == channel,
                                                         OutboxRow.delivered_at.is_(None))),
    )
