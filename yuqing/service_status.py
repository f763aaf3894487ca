"""The service's health, one judgement for `/healthz`, `yuqing status` and the daily self-check e-mail.

Works with the service stopped: next run times come from the persistent job store, runs from
source_runs, backlogs from the outbox table. Every problem is a sentence in Chinese with its numbers.
"""

from __future__ import annotations

import html
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alerting.store import Store
from yuqing.config import Config, Source
from yuqing.model import utcnow
from yuqing.service import CRAWL_PREFIX, JOBSTORE_FILE, crawl_timeout, source_trigger, trigger_gap, zone

PID_FILE = "service.pid"
# A mail waiting this long, or failing this many times, means the SMTP path is broken.
MAIL_LATE = timedelta(minutes=15)
MAIL_FAILED_ATTEMPTS = 3
# The index may lag (Elasticsearch restarts); an hour behind is worth telling the administrator.
INDEX_LATE = timedelta(hours=1)
# Run results (crawler.runner.CrawlResult.status) that need the administrator's attention.
FAILED_STATES = ("failed", "killed", "timeout", "degraded", "blocked", "login_expired")
STATUS_ZH = {"ok": "成功", "failed": "失败", "killed": "超时终止", "timeout": "超时终止", "running": "运行中",
             "degraded": "部分失败", "blocked": "被网站封禁", "login_expired": "登录已失效",
             "interrupted": "已中断(服务停止)"}


@dataclass
class SourceStatus:
    id: str
    name: str
    enabled: bool
    schedule: str
    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_status: str | None = None
    last_message: str = ""
    new_posts: int = 0
    posts: int = 0
    last_ok: datetime | None = None
    next_run: datetime | None = None
    problem: str | None = None


@dataclass
class Backlog:
    pending: int = 0
    due: int = 0
    failed: int = 0
    oldest_pending: datetime | None = None


@dataclass
class ServiceStatus:
    now: datetime
    timezone: str
    running: bool
    pid: int | None
    active_period: str | None
    sources: list[SourceStatus] = field(default_factory=list)
    mail: Backlog = field(default_factory=Backlog)
    index: Backlog = field(default_factory=Backlog)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        def conv(v: Any) -> Any:
            if isinstance(v, datetime):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, list):
                return [conv(x) for x in v]
            return v

        data = conv(asdict(self))
        data["healthy"] = self.healthy
        data["outbox"] = {"mail": data.pop("mail"), "index": data.pop("index")}
        return data

    def public_json(self) -> dict[str, Any]:
        """What the unauthenticated /healthz shows: no crawler messages (they may quote URLs or pages)."""
        data = self.as_json()
        for src in data["sources"]:
            src.pop("last_message", None)
        data.pop("pid", None)
        return data


def schedule_text(source: Source, period_active: bool) -> str:
    s = source.schedule
    if period_active and s.sensitive_interval_minutes:
        return f"每 {s.sensitive_interval_minutes:g} 分钟(敏感时段)"
    if s.interval_minutes:
        return f"每 {s.interval_minutes:g} 分钟"
    return f"定时 {s.cron}"


def pid_path(cfg: Config) -> Path:
    return cfg.data_dir / PID_FILE


def service_pid(cfg: Config) -> int | None:
    """The pid of a running `yuqing serve` on this data folder, or None."""
    try:
        pid = int(pid_path(cfg).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def stored_next_runs(cfg: Config) -> dict[str, datetime]:
    """Next run time per job id, read from the persistent job store (no scheduler needed)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    if not (cfg.data_dir / JOBSTORE_FILE).exists():
        return {}
    store = SQLAlchemyJobStore(url=f"sqlite:///{cfg.data_dir / JOBSTORE_FILE}", tablename="apscheduler_jobs")
    try:
        return {j.id: j.next_run_time for j in store.get_all_jobs() if j.next_run_time is not None}
    except Exception:  # noqa: BLE001 - a missing table is a service that never started: no next runs
        return {}
    finally:
        store.engine.dispose()


def collect_status(cfg: Config, store: Store, now: datetime | None = None, scheduler: Any = None) -> ServiceStatus:
    """Judge the service: sources (last run, result, next run), outbox backlogs, the sensitive period."""
    from alerting.index.outbox import backlog as index_backlog
    from alerting.notify.outbox import backlog as mail_backlog
    from alerting.store.status import last_runs

    now = now or utcnow()
    tz = zone(cfg)
    period = cfg.active_period(now.astimezone(tz))
    pid: int | None
    if scheduler is not None:
        running, pid = bool(scheduler.running), os.getpid()
        next_runs = {j.id: j.next_run_time for j in scheduler.get_jobs() if j.next_run_time is not None}
    else:
        pid = service_pid(cfg)
        running = pid is not None
        next_runs = stored_next_runs(cfg)
    status = ServiceStatus(now=now, timezone=cfg.timezone, running=running, pid=pid,
                           active_period=period.name if period else None)
    with store.session() as s:
        runs = last_runs(s)
        mb = mail_backlog(s, now)
        ib = index_backlog(s, now)
    status.mail = Backlog(mb.pending, mb.due, mb.failed, mb.oldest_pending)
    status.index = Backlog(ib.pending, ib.due, ib.failed, ib.oldest_pending)
    if not running:
        status.problems.append("监测服务未运行(yuqing serve)")
    for src in cfg.sources:
        st = SourceStatus(id=src.id, name=src.name, enabled=src.enabled,
                          schedule=schedule_text(src, period is not None) if src.enabled else "已停用",
                          next_run=next_runs.get(CRAWL_PREFIX + src.id))
        run = runs.get(src.id)
        if run is not None:
            st.last_started, st.last_finished, st.last_status = run.started_at, run.finished_at, run.status
            st.last_message, st.new_posts, st.posts, st.last_ok = run.message, run.new_posts, run.posts, run.last_ok_at
        if src.enabled:
            st.problem = _source_problem(st, source_trigger(src, period is not None, tz), now)
            if st.problem:
                status.problems.append(f"来源「{src.name}」{st.problem}")
        status.sources.append(st)
    if mb.failed and _max_attempts(store) >= MAIL_FAILED_ATTEMPTS:
        status.problems.append(f"邮件发送失败:{mb.failed} 封多次重试仍未发出")
    if mb.oldest_pending is not None and now - mb.oldest_pending > MAIL_LATE and mb.due:
        minutes = int((now - mb.oldest_pending).total_seconds() // 60)
        status.problems.append(f"邮件积压:{mb.pending} 封待发,最早的已等待 {minutes} 分钟")
    if ib.oldest_pending is not None and now - ib.oldest_pending > INDEX_LATE:
        minutes = int((now - ib.oldest_pending).total_seconds() // 60)
        status.problems.append(f"检索索引积压:{ib.pending} 条待写入,最早的已等待 {minutes} 分钟")
    return status


def _max_attempts(store: Store) -> int:
    from sqlalchemy import func, select

    from alerting.store.tables import OutboxRow

    with store.session() as s:
        return int(s.scalar(select(func.max(OutboxRow.attempts)).where(
            OutboxRow.channel == "mail", OutboxRow.delivered_at.is_(None))) or 0)


def _source_problem(st: SourceStatus, trigger: Any, now: datetime) -> str | None:
    if st.last_status in FAILED_STATES:
        return f"最近一次采集{STATUS_ZH.get(st.last_status or '', st.last_status)}"
    if st.last_started is None:
        return None  # never ran yet: shown as 未运行, not a fault of its own
    # Late: nothing started for three gaps plus a whole crawl's allowed time.
    late = 3 * trigger_gap(trigger, now) + timedelta(seconds=crawl_timeout(trigger, now))
    if now - st.last_started > late:
        hours = (now - st.last_started).total_seconds() / 3600
        return f"已 {hours:.1f} 小时没有采集"
    return None


def enqueue_self_check(session: Any, cfg: Config, status: ServiceStatus, now: datetime) -> bool:
    """Queue the daily self-check e-mail to the administrators (once per local day); False if queued before."""
    from alerting.notify.outbox import enqueue_mail

    to = cfg.recipients(cfg.alerts.admin_to)
    if not to or status.healthy:
        return False
    day = now.astimezone(zone(cfg)).strftime("%Y-%m-%d")
    subject = f"【系统自检】舆情监测服务有 {len(status.problems)} 项异常({day})"
    lines = [f"{i}. {p}" for i, p in enumerate(status.problems, 1)]
    lines += [f"   「{s.name}」的采集信息:{s.last_message}" for s in status.sources if s.problem and s.last_message]
    backlog = (f"待发邮件 {status.mail.pending} 封(失败 {status.mail.failed}),"
               f"待写入检索索引 {status.index.pending} 条。")
    text = "\n".join([f"{cfg.county.name}教育局舆情监测系统自检发现以下问题:", "", *lines, "", backlog, "",
                      f"详情: {cfg.alerts.base_url.rstrip('/')}/healthz ,或在服务器上运行 yuqing status。", ""])
    items = "".join(f"<li>{html.escape(p)}</li>" for p in status.problems)
    body = (f"<p>{html.escape(cfg.county.name)}教育局舆情监测系统自检发现以下问题:</p><ol>{items}</ol>"
            f"<p>{html.escape(backlog)}</p><p>详情:运行 <code>yuqing status</code>。</p>")
    return enqueue_mail(session, key=f"selfcheck:{day}", to=to, subject=subject, text=text, html=body,
                        kind="self_check", now=now)

