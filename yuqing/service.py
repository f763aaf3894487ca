"""The unattended service: one APScheduler that crawls every source on its schedule and runs the alerting jobs.

The job store is persistent (a SQLite file beside the database), so a restart keeps each job's next run
time: a run missed while the service was down fires once on start (``coalesce``) if it is still within
its ``misfire_grace_time``. Job functions live in yuqing.service_jobs and are stored by name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from yuqing.config import Config, Source

log = logging.getLogger("yuqing.service")

JOBSTORE_FILE = "scheduler.db"
JOBS = "yuqing.service_jobs"
CRAWL_PREFIX = "crawl:"
# Crawls are child processes; a few at once is what 2 cores and one Chromium each can carry.
CRAWL_WORKERS = 3
# Short jobs (delivery, reminders, digests) get their own pool so a long crawl never delays an e-mail.
LIGHT_WORKERS = 2
# A crawl longer than this is killed even when its interval is long (crawler.runner enforces it).
MAX_CRAWL_SECONDS = 1800
MIN_CRAWL_SECONDS = 60
HOUSEKEEPING_AT = (3, 30)  # nightly, when nobody reviews
SELF_CHECK_AT = (8, 0)  # after the morning brief, in office hours


@dataclass(frozen=True)
class JobSpec:
    """One job as the configuration wants it; ``sync_jobs`` makes the job store match a list of these."""

    id: str
    func: str
    trigger: BaseTrigger
    name: str
    args: tuple[Any, ...] = ()
    executor: str = "light"
    misfire_grace_time: int = 30
    run_at_start: bool = False

    def matches(self, job: Job) -> bool:
        """Whether a stored job is this one unchanged (then it keeps its persisted next run time)."""
        return (job.func_ref == self.func and str(job.trigger) == str(self.trigger) and tuple(job.args) == self.args
                and job.misfire_grace_time == self.misfire_grace_time and job.executor == self.executor)


def zone(cfg: Config) -> ZoneInfo:
    return ZoneInfo(cfg.timezone)


def source_interval(source: Source, period_active: bool) -> float | None:
    """Minutes between runs, or None for a cron schedule; the sensitive interval wins during a period."""
    sched = source.schedule
    if period_active and sched.sensitive_interval_minutes:
        return sched.sensitive_interval_minutes
    return sched.interval_minutes


def source_trigger(source: Source, period_active: bool, tz: ZoneInfo) -> BaseTrigger:
    minutes = source_interval(source, period_active)
    if minutes is not None:
        return IntervalTrigger(seconds=max(1, round(minutes * 60)), timezone=tz)
    assert source.schedule.cron is not None  # Schedule validates exactly one of the two
    return CronTrigger.from_crontab(source.schedule.cron, timezone=tz)


def trigger_gap(trigger: BaseTrigger, now: datetime) -> timedelta:
    """Time between two consecutive fire times (for cron: the next two after ``now``)."""
    if isinstance(trigger, IntervalTrigger):
        return trigger.interval
    first = trigger.get_next_fire_time(None, now)
    if first is None:
        return timedelta(hours=1)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    return (second - first) if second is not None else timedelta(hours=1)


def grace_seconds(trigger: BaseTrigger, now: datetime) -> int:
    """Half the gap between runs: a run that starts late is still worth doing until the next one is near.

    APScheduler's default of 1 s silently drops a run delayed by a busy pool or a restart.
    """
    return max(1, int(trigger_gap(trigger, now).total_seconds() // 2))


def crawl_timeout(trigger: BaseTrigger, now: datetime) -> int:
    """A crawl may take up to three gaps (the next runs coalesce meanwhile), within fixed bounds."""
    gap = trigger_gap(trigger, now).total_seconds()
    return int(min(MAX_CRAWL_SECONDS, max(MIN_CRAWL_SECONDS, 3 * gap)))


def planned_jobs(cfg: Config, now: datetime) -> list[JobSpec]:
    """Every job the configuration asks for at ``now`` (aware); sensitive periods shorten source intervals."""
    tz = zone(cfg)
    local = now.astimezone(tz)
    period = cfg.active_period(local)
    specs: list[JobSpec] = []
    for src in cfg.sources:
        if not src.enabled:
            continue
        trig = source_trigger(src, period is not None, tz)
        specs.append(JobSpec(
            id=CRAWL_PREFIX + src.id, func=f"{JOBS}:crawl_source", trigger=trig, name=f"采集 {src.name}",
            args=(src.id, crawl_timeout(trig, local)), executor="default",
            misfire_grace_time=grace_seconds(trig, local), run_at_start=src.schedule.interval_minutes is not None,
        ))
    minute = IntervalTrigger(minutes=1, timezone=tz)
    specs.append(JobSpec("deliver", f"{JOBS}:deliver", minute, "发送待发邮件(重试)", misfire_grace_time=30))
    specs.append(JobSpec("reminders", f"{JOBS}:reminders", minute, "期限提醒与升级", misfire_grace_time=30))
    specs.append(JobSpec("schedules", f"{JOBS}:sync_schedules", minute, "敏感时段切换采集频率",
                         misfire_grace_time=30))
    if cfg.alerts.digest_hourly:
        specs.append(JobSpec("digest:hourly", f"{JOBS}:digests", CronTrigger(minute=0, timezone=tz), "每小时摘要",
                             misfire_grace_time=1800))
    hh, mm = (int(x) for x in cfg.alerts.digest_daily_at.split(":"))
    specs.append(JobSpec("digest:daily", f"{JOBS}:digests", CronTrigger(hour=hh, minute=mm, timezone=tz),
                         "每日早报", misfire_grace_time=4 * 3600))
    specs.append(JobSpec("health", f"{JOBS}:source_health", IntervalTrigger(minutes=15, timezone=tz),
                         "来源健康检查", misfire_grace_time=450))
    specs.append(JobSpec("housekeeping", f"{JOBS}:housekeeping",
                         CronTrigger(hour=HOUSEKEEPING_AT[0], minute=HOUSEKEEPING_AT[1], timezone=tz),
                         "夜间清理与数据库维护", misfire_grace_time=3 * 3600))
    specs.append(JobSpec("self_check", f"{JOBS}:self_check",
                         CronTrigger(hour=SELF_CHECK_AT[0], minute=SELF_CHECK_AT[1], timezone=tz),
                         "每日自检邮件", misfire_grace_time=6 * 3600))
    return specs


def sync_jobs(scheduler: BaseScheduler, specs: list[JobSpec], now: datetime) -> list[str]:
    """Make the scheduler's jobs match ``specs``; return what changed (for the log).

    A stored job whose signature is unchanged keeps its next run time (that is what persistence is for);
    a changed one (new interval, e.g. a sensitive period began) is replaced and runs on the new trigger.
    """
    changes: list[str] = []
    wanted = {s.id: s for s in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            changes.append(f"removed {job.id}")
    for spec in specs:
        job = scheduler.get_job(spec.id)
        if job is not None and spec.matches(job):
            continue
        options: dict[str, Any] = {}
        if job is None and spec.run_at_start:
            options["next_run_time"] = now
        scheduler.add_job(
            spec.func, trigger=spec.trigger, args=spec.args,
            id=spec.id, name=spec.name, executor=spec.executor, misfire_grace_time=spec.misfire_grace_time,
            coalesce=True, max_instances=1, replace_existing=True, **options,
        )
        changes.append(f"{'changed' if job is not None else 'added'} {spec.id} {spec.trigger}")
    return changes


def jobstore_url(cfg: Config) -> str:
    return f"sqlite:///{cfg.data_dir / JOBSTORE_FILE}"


def build_scheduler(cfg: Config, url: str | None = None) -> BackgroundScheduler:
    """A scheduler on the persistent job store with the crawl and light pools, in the configured timezone."""
    from apscheduler.executors.pool import ThreadPoolExecutor

    url = url or jobstore_url(cfg)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(CRAWL_WORKERS), "light": ThreadPoolExecutor(LIGHT_WORKERS)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=zone(cfg),
    )
