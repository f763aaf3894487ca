"""Source-health warnings from the crawl records (source_runs), mailed to the administrator.

A source is unhealthy when its latest finished run failed, was blocked, found the login expired,
was killed or ran degraded, or when its last ``health_zero_runs`` runs in a row found no post at all
(a changed page layout usually looks like that). One open ``source_health`` warning per source; a
new kind of problem on it mails again; when the source is healthy again the warning is closed and
the administrator is told it recovered. The messages carry the numbers of the runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import audit
from alerting.notify import compose, outbox
from alerting.queue import OPEN, compute_deadline
from alerting.store.tables import SourceRunRow, WarningRow
from yuqing.config import Config, Source

SYSTEM = "system"
RECENT = 10
FINISHED = ("ok", "failed", "degraded", "login_expired", "blocked", "killed")

PROBLEM_LABELS: dict[str, str] = {
    "failed": "采集失败",
    "killed": "采集超时被终止",
    "blocked": "访问受限(被封禁或限流)",
    "login_expired": "登录已失效",
    "degraded": "采集不完整(部分页面失败)",
    "zero_posts": "连续多次未采集到帖子",
}
# How serious each problem is for the queue: a lost login or a block blinds us until someone acts.
PROBLEM_SEVERITY: dict[str, str] = {"login_expired": "III", "blocked": "III", "failed": "III", "killed": "IV",
                                    "degraded": "IV", "zero_posts": "III"}


@dataclass(frozen=True)
class Problem:
    code: str
    detail: str  # with the numbers, in Chinese

    @property
    def label(self) -> str:
        return PROBLEM_LABELS[self.code]


def recent_runs(session: Session, source_id: str, limit: int = RECENT) -> list[SourceRunRow]:
    """Finished runs, newest first."""
    return list(session.scalars(
        select(SourceRunRow).where(SourceRunRow.source_id == source_id, SourceRunRow.status.in_(FINISHED))
        .order_by(SourceRunRow.started_at.desc(), SourceRunRow.id.desc()).limit(limit)))


def diagnose(src: Source, runs: list[SourceRunRow]) -> Problem | None:
    """The source's current problem from its newest runs, or None when it is healthy (or never ran)."""
    if not runs:
        return None
    last = runs[0]
    if last.status != "ok":
        statuses = ", ".join(f"{k}×{v}" for k, v in sorted((last.http_statuses or {}).items()))
        detail = (f"最近一次采集状态 {last.status}:页面 {last.pages},帖子 {last.posts},错误 {last.errors}"
                  + (f",HTTP {statuses}" if statuses else "") + (f";{last.message}" if last.message else ""))
        return Problem(last.status, detail)
    n = src.health_zero_runs
    streak = 0
    for r in runs:
        if r.status != "ok" or r.posts:
            break
        streak += 1
    if streak >= n:
        return Problem("zero_posts", f"最近连续 {streak} 次采集均为 0 条帖子(阈值 {n} 次),可能是页面改版或被屏蔽")
    return None


def open_health_warning(session: Session, source_id: str) -> WarningRow | None:
    return session.scalars(
        select(WarningRow).where(WarningRow.kind == "source_health", WarningRow.source_id == source_id,
                                 WarningRow.status.in_(OPEN)).order_by(WarningRow.id.desc())
    ).first()


def check_sources(session: Session, cfg: Config, now: datetime) -> list[WarningRow]:
    """Raise, re-mail (new problem) or resolve the source-health warnings; returns the warnings changed."""
    out: list[WarningRow] = []
    for src in cfg.sources:
        if not src.enabled:
            continue
        runs = recent_runs(session, src.id)
        problem = diagnose(src, runs)
        w = open_health_warning(session, src.id)
        if problem is not None:
            if w is None:
                w = _raise(session, cfg, src, problem, runs, now)
                out.append(w)
            elif _mail(session, cfg, w, src, problem, runs, now):
                w.title = f"来源异常:{src.name} · {problem.label}"
                w.severity = PROBLEM_SEVERITY[problem.code]
                w.updated_at = now
                out.append(w)
        elif w is not None and runs:
            _recover(session, cfg, w, src, runs, now)
            out.append(w)
    return out


def _raise(session: Session, cfg: Config, src: Source, problem: Problem, runs: list[SourceRunRow],
           now: datetime) -> WarningRow:
    w = WarningRow(
        kind="source_health", event_id=None, source_id=src.id, status="new", category="none",
        severity=PROBLEM_SEVERITY[problem.code], schools=[], title=f"来源异常:{src.name} · {problem.label}",
        sensitivity=0.0, deadline=compute_deadline(cfg, "none", now), created_at=now, updated_at=now,
        escalation_level=0, alerted_severity=PROBLEM_SEVERITY[problem.code], form={}, summary="",
    )
    session.add(w)
    session.flush()
    audit.record(session, SYSTEM, "raise", warning_id=w.id, to_state="new", at=now, reason=problem.detail,
                 details={"problem": problem.code, "source": src.id})
    _mail(session, cfg, w, src, problem, runs, now)
    return w


def _mail(session: Session, cfg: Config, w: WarningRow, src: Source, problem: Problem, runs: list[SourceRunRow],
          now: datetime) -> bool:
    """Tell the administrator (once per warning and problem); False if this problem was mailed already."""
    to = cfg.recipients(cfg.alerts.admin_to)
    subject = f"【来源异常】{src.name}:{problem.label}"
    mail = compose.render("health", subject, src=src, problem=problem, w=w, url=compose.warning_url(cfg, w.id),
                          runs=_run_rows(cfg, runs), recovered=False, county=cfg.county.name)
    key = f"mail:source_health:{w.id}:{problem.code}"
    queued = bool(to) and outbox.enqueue_mail(session, key=key, to=to, subject=mail.subject, text=mail.text,
                                              html=mail.html, kind="source_health", warning_id=w.id, now=now)
    queued = outbox.enqueue_apprise_groups(session, cfg, cfg.alerts.admin_to, key=key, title=mail.subject,
                                           body=mail.text, kind="source_health", warning_id=w.id, now=now) > 0 or queued
    return queued


def _recover(session: Session, cfg: Config, w: WarningRow, src: Source, runs: list[SourceRunRow],
             now: datetime) -> None:
    before = w.status
    w.status = "closed"
    w.summary = w.summary or f"{compose.local(cfg, runs[0].started_at)} 采集恢复正常,系统自动办结"
    w.updated_at = now
    audit.record(session, SYSTEM, "source_recovered", warning_id=w.id, from_state=before, to_state="closed", at=now,
                 reason=f"最近一次采集成功,帖子 {runs[0].posts} 条", details={"source": src.id})
    to = cfg.recipients(cfg.alerts.admin_to)
    if to:
        mail = compose.render("health", f"【来源恢复】{src.name}:采集已恢复正常", src=src, problem=None, w=w,
                              url=compose.warning_url(cfg, w.id), runs=_run_rows(cfg, runs), recovered=True,
                              county=cfg.county.name)
        outbox.enqueue_mail(session, key=f"mail:source_health:{w.id}:recovered", to=to, subject=mail.subject,
                            text=mail.text, html=mail.html, kind="source_recovered", warning_id=w.id, now=now)


def _run_rows(cfg: Config, runs: list[SourceRunRow]) -> list[dict[str, object]]:
    return [{"started": compose.local(cfg, r.started_at), "status": r.status, "pages": r.pages, "posts": r.posts,
             "new_posts": r.new_posts, "errors": r.errors,
             "http": ", ".join(f"{k}×{v}" for k, v in sorted((r.http_statuses or {}).items())),
             "message": compose.one_line(r.message, 200)} for r in runs[:RECENT]]
