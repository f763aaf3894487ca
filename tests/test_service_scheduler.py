"""The scheduler as configured: triggers, sensitive periods, persistence, misfire and coalesce.

APScheduler reads the wall clock itself, so "time passing" is simulated the way it happens in
production: a persisted job whose next run time is already in the past when the scheduler starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from yuqing import service_jobs
from yuqing.config import Config, Schedule, SensitivePeriod
from yuqing.service import (
    CRAWL_PREFIX,
    build_scheduler,
    crawl_timeout,
    grace_seconds,
    planned_jobs,
    sync_jobs,
)
from yuqing.service_jobs import ServiceContext

# 2036-06-10 10:00 in Beijing (far ahead, so no job is ever due while a test looks at it);
# the 中考 period below covers 06-15..06-17 (Asia/Shanghai dates).
NOW = datetime(2036, 6, 10, 2, 0, tzinfo=timezone.utc)
IN_PERIOD = datetime(2036, 6, 15, 1, 0, tzinfo=timezone.utc)
# 16:30 UTC on 06-14 is already 00:30 on 06-15 in Beijing: the period is active by local date.
LOCAL_MIDNIGHT = datetime(2036, 6, 14, 16, 30, tzinfo=timezone.utc)


@pytest.fixture
def pcfg(cfg: Config) -> Config:
    cfg.alerts.sensitive_periods = [SensitivePeriod(name="中考", start=date(2036, 6, 15), end=date(2036, 6, 17))]
    return cfg


def _crawl_specs(cfg: Config, now: datetime) -> dict[str, object]:
    return {s.id.removeprefix(CRAWL_PREFIX): s for s in planned_jobs(cfg, now) if s.id.startswith(CRAWL_PREFIX)}


def test_each_enabled_source_gets_its_interval_and_half_of_it_as_grace(pcfg: Config) -> None:
    pcfg.sources[1].enabled = False
    specs = _crawl_specs(pcfg, NOW)
    assert pcfg.sources[1].id not in specs
    rss = specs["demo-news-rss"]
    assert isinstance(rss.trigger, IntervalTrigger) and rss.trigger.interval == timedelta(minutes=30)
    assert rss.misfire_grace_time == 15 * 60
    assert rss.executor == "default" and rss.args == ("demo-news-rss", 1800)
    others = {s.id for s in planned_jobs(pcfg, NOW)} - {CRAWL_PREFIX + k for k in specs}
    assert others == {"deliver", "reminders", "schedules", "digests", "digest:daily", "health",
                      "housekeeping", "self_check"}


def test_sensitive_period_shortens_intervals_by_local_date(pcfg: Config) -> None:
    for when in (IN_PERIOD, LOCAL_MIDNIGHT):
        specs = _crawl_specs(pcfg, when)
        assert specs["demo-news-rss"].trigger.interval == timedelta(minutes=10)  # sensitive_interval_minutes
        assert specs["demo-weibo-search"].trigger.interval == timedelta(minutes=5)
        assert specs["demo-gov-list"].trigger.interval == timedelta(minutes=60)  # no sensitive interval set
    assert _crawl_specs(pcfg, datetime(2036, 6, 17, 16, 0, tzinfo=timezone.utc))["demo-news-rss"].trigger.interval \
        == timedelta(minutes=30)  # 06-18 00:00 Beijing: the period is over


def test_cron_schedule_runs_in_beijing_time_with_half_the_gap_as_grace(pcfg: Config) -> None:
    pcfg.sources[0].schedule = Schedule(cron="0 */2 * * *")
    spec = _crawl_specs(pcfg, NOW)["demo-news-rss"]
    assert isinstance(spec.trigger, CronTrigger)
    assert spec.misfire_grace_time == 3600
    nxt = spec.trigger.get_next_fire_time(None, NOW)
    assert nxt.utcoffset() == timedelta(hours=8) and nxt.hour % 2 == 0 and nxt.minute == 0
    assert crawl_timeout(spec.trigger, NOW) == 1800
    assert grace_seconds(IntervalTrigger(seconds=3), NOW) == 1


@pytest.fixture
def jobstore(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobs.db'}"


@pytest.fixture
def paused(pcfg: Config, jobstore: str) -> Iterator[BackgroundScheduler]:
    sched = build_scheduler(pcfg, jobstore)
    sched.start(paused=True)
    yield sched
    sched.shutdown(wait=False)


def test_jobs_persist_across_a_restart_keeping_their_next_run(pcfg: Config, jobstore: str) -> None:
    first = build_scheduler(pcfg, jobstore)
    first.start(paused=True)
    sync_jobs(first, planned_jobs(pcfg, NOW))
    before = {j.id: j.next_run_time for j in first.get_jobs()}
    first.shutdown(wait=False)

    again = build_scheduler(pcfg, jobstore)
    again.start(paused=True)
    try:
        assert sync_jobs(again, planned_jobs(pcfg, NOW + timedelta(minutes=5))) == []
        assert {j.id: j.next_run_time for j in again.get_jobs()} == before
        job = again.get_job(CRAWL_PREFIX + "demo-news-rss")
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 900
    finally:
        again.shutdown(wait=False)


def test_new_sources_run_soon_after_start_spread_over_the_shortest_interval(
        pcfg: Config, paused: BackgroundScheduler) -> None:
    sync_jobs(paused, planned_jobs(pcfg, NOW))
    firsts = [paused.get_job(CRAWL_PREFIX + s.id).next_run_time for s in pcfg.sources]
    assert firsts[0] == NOW + timedelta(seconds=1)
    step = 15 * 60 / len(pcfg.sources)  # the shortest interval (weibo search, 15 min) shared by seven sources
    gaps = [(b - a).total_seconds() for a, b in zip(firsts, firsts[1:], strict=False)]
    assert gaps == pytest.approx([step] * (len(firsts) - 1), abs=0.01)
    # Later runs keep the spacing: each follows its own first run by whole intervals.
    rss = paused.get_job(CRAWL_PREFIX + "demo-news-rss")
    assert rss.trigger.get_next_fire_time(firsts[0], firsts[0]) == firsts[0] + timedelta(minutes=30)


def test_period_start_and_end_reschedule_through_the_job(pcfg: Config, paused: BackgroundScheduler,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [NOW]
    ctx = ServiceContext(cfg=pcfg, config_dir=pcfg.root, store=None, clock=lambda: clock[0])  # type: ignore[arg-type]
    ctx.scheduler = paused
    monkeypatch.setattr(service_jobs, "_current", ctx)
    sync_jobs(paused, planned_jobs(pcfg, NOW))
    rss = CRAWL_PREFIX + "demo-news-rss"
    clock[0] = IN_PERIOD
    service_jobs.sync_schedules()
    assert paused.get_job(rss).trigger.interval == timedelta(minutes=10)
    assert paused.get_job(rss).misfire_grace_time == 300
    assert paused.get_job(rss).next_run_time == IN_PERIOD + timedelta(seconds=1)  # the new pace starts now
    assert paused.get_job(CRAWL_PREFIX + "demo-gov-list").trigger.interval == timedelta(minutes=60)
    clock[0] = datetime(2036, 6, 18, 1, 0, tzinfo=timezone.utc)
    service_jobs.sync_schedules()
    assert paused.get_job(rss).trigger.interval == timedelta(minutes=30)


def test_a_removed_source_loses_its_job(pcfg: Config, paused: BackgroundScheduler) -> None:
    sync_jobs(paused, planned_jobs(pcfg, NOW))
    gone = pcfg.sources.pop()
    changes = sync_jobs(paused, planned_jobs(pcfg, NOW))
    assert changes == [f"removed {CRAWL_PREFIX}{gone.id}"]
    assert paused.get_job(CRAWL_PREFIX + gone.id) is None


# --- misfire and coalesce with the real scheduler and the persistent store ---------------------------

RUNS: list[str] = []
RAN = threading.Event()


def record(name: str) -> None:
    RUNS.append(name)
    RAN.set()


def test_missed_runs_within_grace_fire_once_and_beyond_grace_are_skipped(pcfg: Config, jobstore: str) -> None:
    RUNS.clear()
    RAN.clear()
    now = datetime.now(timezone.utc)
    # Jobs added before start() enter the store at start with their old next run time: what a restart sees.
    running = build_scheduler(pcfg, jobstore)
    # Down for 10 minutes: ten runs of a one-minute job were missed, within a 15-minute grace.
    running.add_job(f"{__name__}:record", IntervalTrigger(minutes=1, start_date=now - timedelta(minutes=10)),
                    args=("late",), id="late", coalesce=True, misfire_grace_time=900,
                    next_run_time=now - timedelta(minutes=10))
    # Hourly, down for nearly two hours, 30-minute grace: both missed runs (110 and 50 minutes late) are dropped.
    running.add_job(f"{__name__}:record", IntervalTrigger(hours=1, start_date=now - timedelta(minutes=110)),
                    args=("stale",), id="stale", coalesce=True, misfire_grace_time=1800,
                    next_run_time=now - timedelta(minutes=110))
    running.start()
    try:
        assert RAN.wait(10)
        time.sleep(0.5)  # a second (uncoalesced) run of "late" would come right after the first
        assert RUNS == ["late"]
        assert running.get_job("stale").next_run_time > now
        assert running.get_job("late").next_run_time > now
    finally:
        running.shutdown(wait=True)
