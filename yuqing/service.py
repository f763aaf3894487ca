"""The unattended service: one APScheduler that crawls every source on its schedule and runs the alerting jobs.

The job store is persistent (a SQLite file beside the database), so a restart keeps each job's next run
time: a run missed while the service was down fires once on start (``coalesce``) if it is still within
its ``misfire_grace_time``. Job functions live in yuqing.service_jobs and are stored by name.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from yuqing.config import Config, Source

if TYPE_CHECKING:
    from yuqing.service_jobs import ServiceContext

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
    # First run of a new or re-planned interval job (sources are spread over the interval, see stagger()).
    first_run: datetime | None = None

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


def stagger(intervals: list[float]) -> float:
    """Seconds between the first runs of interval sources: spread over the shortest interval, so that
    crawls (each a process, some with Chromium) do not all start at once on two cores."""
    return min(intervals) / len(intervals) if intervals else 0.0


def planned_jobs(cfg: Config, now: datetime) -> list[JobSpec]:
    """Every job the configuration asks for at ``now`` (aware); sensitive periods shorten source intervals."""
    tz = zone(cfg)
    local = now.astimezone(tz)
    period = cfg.active_period(local)
    enabled = [s for s in cfg.sources if s.enabled]
    intervals = [m * 60 for s in enabled if (m := source_interval(s, period is not None)) is not None]
    step = stagger(intervals)
    specs: list[JobSpec] = []
    slot = 0
    for src in enabled:
        trig = source_trigger(src, period is not None, tz)
        first = None
        if isinstance(trig, IntervalTrigger):
            first = now + timedelta(seconds=1 + slot * step)
            slot += 1
        specs.append(JobSpec(
            id=CRAWL_PREFIX + src.id, func=f"{JOBS}:crawl_source", trigger=trig, name=f"采集 {src.name}",
            args=(src.id, crawl_timeout(trig, local)), executor="default",
            misfire_grace_time=grace_seconds(trig, local), first_run=first,
        ))
    minute = IntervalTrigger(minutes=1, timezone=tz)
    specs.append(JobSpec("deliver", f"{JOBS}:deliver", minute, "发送待发邮件(重试)", misfire_grace_time=30))
    specs.append(JobSpec("reminders", f"{JOBS}:reminders", minute, "期限提醒与升级", misfire_grace_time=30))
    specs.append(JobSpec("schedules", f"{JOBS}:sync_schedules", minute, "敏感时段切换采集频率",
                         misfire_grace_time=30))
    # The digest module sends the hourly digest once per local hour as soon as there is something to say
    # and the morning brief once after digest_daily_at, so asking it often is cheap and never doubles.
    specs.append(JobSpec("digests", f"{JOBS}:digests", IntervalTrigger(minutes=5, timezone=tz), "摘要邮件",
                         misfire_grace_time=150))
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


def sync_jobs(scheduler: BaseScheduler, specs: list[JobSpec]) -> list[str]:
    """Make the scheduler's jobs match ``specs``; return what changed (for the log).

    A stored job whose signature is unchanged keeps its next run time (that is what persistence is for);
    a changed one (new interval, e.g. a sensitive period began) is replaced and runs on the new trigger.
    """
    changes: list[str] = []
    wanted = {s.id: s for s in specs}
    for job in scheduler.get_jobs(jobstore="default"):
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            changes.append(f"removed {job.id}")
    for spec in specs:
        job = scheduler.get_job(spec.id)
        if job is not None and spec.matches(job):
            continue
        options: dict[str, Any] = {}
        if spec.first_run is not None:
            options["next_run_time"] = spec.first_run
        scheduler.add_job(
            spec.func, trigger=spec.trigger, args=spec.args,
            id=spec.id, name=spec.name, executor=spec.executor, misfire_grace_time=spec.misfire_grace_time,
            coalesce=True, max_instances=1, replace_existing=True, jobstore="default", **options,
        )
        changes.append(f"{'changed' if job is not None else 'added'} {spec.id} {spec.trigger}")
    return changes


class _Scheduler(BackgroundScheduler):
    """APScheduler wakes its loop once more on shutdown and would submit due jobs to executors already
    shut down (logging a spurious error and advancing the job); a stopped scheduler runs nothing."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


def jobstore_url(cfg: Config) -> str:
    return f"sqlite:///{cfg.data_dir / JOBSTORE_FILE}"


def build_scheduler(cfg: Config, url: str | None = None) -> BackgroundScheduler:
    """A scheduler on the persistent job store with the crawl and light pools, in the configured timezone."""
    from apscheduler.executors.pool import ThreadPoolExecutor

    url = url or jobstore_url(cfg)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return BackgroundScheduler(
        # "volatile" holds one-off jobs of this process only (the catch-up after a start).
        jobstores={"default": SQLAlchemyJobStore(url=url, tablename="apscheduler_jobs"), "volatile": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(CRAWL_WORKERS), "light": ThreadPoolExecutor(LIGHT_WORKERS)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=zone(cfg),
    )


class Service:
    """The scheduler and its jobs' shared context in one process: ``start()``, then ``stop()`` on SIGTERM."""

    def __init__(self, ctx: ServiceContext, scheduler: BackgroundScheduler) -> None:
        self.ctx = ctx
        self.scheduler = scheduler
        ctx.scheduler = scheduler

    @classmethod
    def from_config(cls, cfg: Config, config_dir: Path, jobstore: str | None = None) -> Service:
        from yuqing.service_jobs import ServiceContext

        return cls(ServiceContext.from_config(cfg, config_dir), build_scheduler(cfg, jobstore))

    def start(self) -> None:
        """Plan the jobs against the persisted ones, then run; pending posts from a stopped run go first."""
        from yuqing.service_jobs import install
        from yuqing.service_status import pid_path

        install(self.ctx)
        self.scheduler.start(paused=True)
        now = self.ctx.clock()
        for change in sync_jobs(self.scheduler, planned_jobs(self.ctx.cfg, now)):
            log.info("event=schedule %s", change)
        # Posts stored by a crawl that a shutdown interrupted are still pending: analyse and mail them now.
        self.scheduler.add_job(f"{JOBS}:catch_up", id="catch_up", name="处理上次未完成的帖子",
                               jobstore="volatile", executor="light", next_run_time=now, misfire_grace_time=None)
        pid_path(self.ctx.cfg).write_text(str(os.getpid()))
        self.scheduler.resume()
        period = self.ctx.cfg.active_period(now.astimezone(zone(self.ctx.cfg)))
        log.info("event=service_started jobs=%d sensitive_period=%s", len(self.scheduler.get_jobs()),
                 period.name if period else "-")

    def stop(self, grace_s: float = 20.0, children: bool = True) -> None:
        """Stop taking jobs; ask running crawl processes to stop (SIGTERM, then SIGKILL after ``grace_s``);
        wait a bounded time for the job threads. Posts already stored stay pending for the next start."""
        from yuqing.service_jobs import install
        from yuqing.service_status import pid_path

        self.ctx.stopping.set()
        if self.scheduler.running:
            self.scheduler.pause()
        if children:
            stopped = terminate_children(grace_s)
            if stopped:
                log.info("event=crawl_children_stopped count=%d", stopped)
        waiter = threading.Thread(target=self._shutdown, name="scheduler-shutdown", daemon=True)
        waiter.start()
        waiter.join(grace_s + 10)
        if waiter.is_alive():
            log.warning("event=shutdown_timeout seconds=%.0f (jobs still running are abandoned)", grace_s + 10)
        pid_path(self.ctx.cfg).unlink(missing_ok=True)
        install(None)
        self.ctx.store.dispose()
        log.info("event=service_stopped")

    def _shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def terminate_children(grace_s: float) -> int:
    """SIGTERM every child process (Scrapy finishes what is in flight and saves its state), SIGKILL those
    still alive after ``grace_s`` (with their Chromium). Returns how many there were."""
    import psutil

    me = psutil.Process()
    direct = me.children()
    everyone = me.children(recursive=True)
    for p in direct:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(direct, timeout=grace_s)
    for p in [*alive, *(c for c in everyone if c not in direct)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(everyone, timeout=5)
    return len(direct)
