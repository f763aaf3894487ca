"""Digest e-mails: hourly, the warnings not mailed at once; daily, the morning brief.

The hourly digest lists the warnings raised or escalated since the previous digest whose alert was not
an immediate e-mail (the audit rows ``raise`` / ``re_alert`` say which). It goes out at most once per
local hour, as soon as there is something to say. The daily digest, at ``digest_daily_at`` local
time, is the morning brief: the last 24 hours by category and severity, open and overdue warnings,
source health. Each period's outbox key makes a second call in the same period a no-op.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.dashboard import source_health
from alerting.notify import compose, outbox
from alerting.queue import OPEN, deadline_of, is_overdue, urgency_key
from alerting.store.tables import AuditRow, MetaRow, OutboxRow, WarningRow
from yuqing.config import Config
from yuqing.model import Category, Severity

HOURLY_MARK = "notify.digest_hourly_until"
MAX_LISTED = 30


def enqueue_digests(session: Session, cfg: Config, now: datetime) -> int:
    """Queue the digests due now; returns how many e-mails were queued (0, 1 or 2)."""
    n = 0
    if cfg.alerts.digest_hourly:
        n += int(_hourly(session, cfg, now))
    n += int(_daily(session, cfg, now))
    return n


def _local(cfg: Config, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(cfg.timezone))


def _mark(session: Session, key: str) -> datetime | None:
    row = session.get(MetaRow, key)
    if row is None or not row.value.get("at"):
        return None
    return datetime.fromisoformat(row.value["at"])


def _set_mark(session: Session, key: str, at: datetime, now: datetime) -> None:
    row = session.get(MetaRow, key)
    if row is None:
        session.add(MetaRow(key=key, value={"at": at.isoformat()}, updated_at=now))
    else:
        row.value = {"at": at.isoformat()}
        row.updated_at = now


def _hourly(session: Session, cfg: Config, now: datetime) -> bool:
    hour = _local(cfg, now).strftime("%Y-%m-%dT%H")
    key = f"mail:digest:hourly:{hour}"
    since = _mark(session, HOURLY_MARK) or now - timedelta(hours=1)
    if since >= now or _exists(session, key):
        return False
    items = _digest_items(session, cfg, since, now)
    if not items:
        return False
    local_since, local_now = compose.local(cfg, since), compose.local(cfg, now)
    subject = f"【舆情摘要】{local_since[5:]}—{local_now[11:]} 新增/升级预警 {len(items)} 条"
    mail = compose.render("digest_hourly", subject, items=items[:MAX_LISTED], total=len(items),
                          since=local_since, until=local_now, county=cfg.county.name)
    _send(session, cfg, key, mail, "digest_hourly", now)
    _set_mark(session, HOURLY_MARK, now, now)
    return True


def _exists(session: Session, key: str) -> bool:
    return session.scalar(select(OutboxRow.id).where(OutboxRow.key == key)) is not None


def _send(session: Session, cfg: Config, key: str, mail: compose.Composed, kind: str, now: datetime) -> None:
    to = cfg.recipients(cfg.alerts.digest_to)
    if to:
        outbox.enqueue_mail(session, key=key, to=to, subject=mail.subject, text=mail.text, html=mail.html,
                            kind=kind, now=now)
    outbox.enqueue_apprise_groups(session, cfg, cfg.alerts.digest_to, key=key, title=mail.subject, body=mail.text,
                                  kind=kind, now=now)


def _digest_items(session: Session, cfg: Config, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Warnings raised or escalated in (since, until] whose alert was left to the digest, newest state each."""
    rows = session.execute(
        select(AuditRow, WarningRow).join(WarningRow, WarningRow.id == AuditRow.warning_id)
        .where(AuditRow.action.in_(("raise", "re_alert")), AuditRow.at > since, AuditRow.at <= until,
               WarningRow.kind == "opinion")
        .order_by(AuditRow.at, AuditRow.id)
    ).all()
    by_warning: dict[int, dict[str, Any]] = {}
    for a, w in rows:
        if (a.details or {}).get("immediate", True):
            continue
        item = by_warning.setdefault(w.id, _item(cfg, w))
        if a.action == "re_alert":
            item["changes"].extend((a.details or {}).get("changes", []))
    return sorted(by_warning.values(), key=lambda i: (-i["rank"], i["id"]))


def _item(cfg: Config, w: WarningRow) -> dict[str, Any]:
    return {
        "id": w.id, "rank": _rank(w.severity), "severity": compose.severity_label(w.severity),
        "category": compose.category_label(w.category), "schools": compose.school_names(cfg, list(w.schools or [])),
        "title": compose.one_line(w.title, 80), "deadline": compose.local(cfg, deadline_of(cfg, w)),
        "url": compose.warning_url(cfg, w.id), "status": w.status, "changes": [],
    }


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return 0


def _daily(session: Session, cfg: Config, now: datetime) -> bool:
    local_now = _local(cfg, now)
    hh, mm = (int(x) for x in cfg.alerts.digest_daily_at.split(":"))
    if local_now.time() < time(hh, mm):
        return False
    key = f"mail:digest:daily:{local_now.date().isoformat()}"
    if _exists(session, key):
        return False
    since = now - timedelta(hours=24)
    new = list(session.scalars(select(WarningRow).where(WarningRow.created_at > since, WarningRow.created_at <= now)))
    opinions = [w for w in new if w.kind == "opinion"]
    by_category = Counter(w.category for w in opinions)
    by_severity = Counter(w.severity for w in opinions)
    open_rows = list(session.scalars(select(WarningRow).where(WarningRow.status.in_(OPEN))))
    open_rows.sort(key=lambda w: urgency_key(cfg, w, now))
    overdue = [w for w in open_rows if is_overdue(cfg, w, now)]
    sources = source_health(session, cfg, now)
    period = cfg.active_period(local_now.date())
    subject = (f"【舆情早报】{local_now.strftime('%Y年%m月%d日')}:新增预警 {len(opinions)} 条,"
               f"待处置 {len(open_rows)} 条,逾期 {len(overdue)} 条")
    mail = compose.render(
        "digest_daily", subject, date=local_now.strftime("%Y-%m-%d"), period=period.name if period else "",
        categories=[(c.label, by_category.get(c.value, 0)) for c in Category if c != Category.none],
        severities=[(s.label, by_severity.get(s.value, 0)) for s in reversed(list(Severity))],
        new_total=len(opinions), open_items=[_item(cfg, w) for w in open_rows[:MAX_LISTED]],
        open_total=len(open_rows), overdue=[_item(cfg, w) for w in overdue[:MAX_LISTED]], overdue_total=len(overdue),
        sources=[{"name": h.name, "status": _status_zh(h.last_status), "last": compose.local(cfg, h.last_started),
                  "failures": h.failures_in_row, "message": compose.one_line(h.message, 120)}
                 for h in sources if h.enabled],
        county=cfg.county.name, since=compose.local(cfg, since), until=compose.local(cfg, now),
    )
    _send(session, cfg, key, mail, "digest_daily", now)
    return True


def _status_zh(status: str) -> str:
    return {"ok": "正常", "failed": "失败", "killed": "超时终止", "degraded": "不完整", "login_expired": "登录失效",
            "blocked": "访问受限", "running": "采集中", "never": "尚未运行",
            "interrupted": "已中断(服务停止)"}.get(status, status)
