"""What the service's jobs do. APScheduler stores jobs by the name of a module-level function (the job
store is persistent), so the functions find the running service's context here instead of in their args.

Two locks: one writer for analysis and every job that writes warnings or outbox rows (SQLite has one
writer anyway, and the event grouper must see one batch after another), and one for delivery so the
minute retry and a crawl's own delivery never send the same outbox row twice.

Memory: crawls and the analysis run in child processes that first take their share of one budget
(yuqing.service_budget): a crawl with Chromium runs alone — the analysis worker (yuqing.service_analysis,
the loaded model) is stopped for it and started again after it — and the service process itself never
loads the model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from alerting.store import Store
from yuqing.config import Config
from yuqing.model import utcnow
from yuqing.service_analysis import AnalysisWorker
from yuqing.service_budget import ANALYSIS_MB, BROWSER_TYPES, MemoryBudget, Stopped, crawl_share, trim_memory

log = logging.getLogger("yuqing.service")

Clock = Callable[[], datetime]


@dataclass
class ServiceContext:
    """Everything the jobs share in one service process; built once by ``yuqing serve``."""

    cfg: Config
    config_dir: Path
    store: Store
    clock: Clock = utcnow
    writer_lock: threading.Lock = field(default_factory=threading.Lock)
    delivery_lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    scheduler: Any = None  # the running BaseScheduler, for rescheduling when a sensitive period starts
    budget: MemoryBudget = field(default_factory=MemoryBudget)
    # Analyse in the worker process (yuqing serve); False analyses in this process with a model loaded once.
    analysis_in_child: bool = True
    # Guards the worker: starting, using and stopping it (taken before the budget and the writer lock).
    analysis_lock: threading.Lock = field(default_factory=threading.Lock)
    _worker: AnalysisWorker | None = None
    _index: Any = None
    _analyzer: Any = None

    @classmethod
    def from_config(cls, cfg: Config, config_dir: Path, store: Store | None = None) -> ServiceContext:
        return cls(cfg=cfg, config_dir=config_dir, store=store or Store.from_config(cfg),
                   budget=MemoryBudget(cfg.crawler.service_children_mb))

    def index(self) -> Any | None:
        """The search index, opened once; None (posts wait in the index outbox) when it cannot be opened."""
        if self._index is None:
            from alerting.index import open_index_from_config

            try:
                index = open_index_from_config(self.cfg)
                index.ensure()
            except Exception:  # an index outage must not stop analysis and e-mail; the outbox replays later
                log.exception("event=index_unavailable url=%s", self.cfg.index_url)
                return None
            self._index = index
        return self._index

    def worker(self) -> AnalysisWorker:
        if self._worker is None:
            self._worker = AnalysisWorker(self.config_dir, self.cfg.data_dir / "logs" / "analysis.log")
        return self._worker

    def stop_worker(self) -> None:
        """Stop the analysis worker (waits for a batch in progress) and give back its memory share."""
        with self.analysis_lock:
            if self._worker is not None and self._worker.proc is not None:
                self._worker.stop()
                self.budget.release(ANALYSIS_MB)

    def analyzer(self) -> Any:
        """Loaded once (only when analysing in this process): the model takes seconds to load."""
        if self._analyzer is None:
            from analysis.analyzer import Analyzer

            self._analyzer = Analyzer.from_config(self.cfg)
        return self._analyzer


_current: ServiceContext | None = None


def install(ctx: ServiceContext | None) -> None:
    """Make ``ctx`` the context the jobs of this process use (None when the service stops)."""
    global _current
    _current = ctx


def current() -> ServiceContext:
    if _current is None:
        raise RuntimeError("no service context installed in this process")
    return _current


# --- the jobs ------------------------------------------------------------------------------------


def crawl_source(source_id: str, timeout_s: int) -> None:
    """Crawl one source in a child process, then analyse what it stored, index it and send the alerts."""
    from crawler.runner import crawl_sources

    ctx = current()
    t0 = time.monotonic()
    source_type = ctx.cfg.source(source_id).type
    if source_type in BROWSER_TYPES and ctx.analysis_in_child:
        ctx.stop_worker()  # Chromium and the loaded model never share the memory; process() restarts it
    try:
        with ctx.budget.hold(crawl_share(source_type), ctx.stopping):
            waited = time.monotonic() - t0
            results = crawl_sources(ctx.cfg, ctx.config_dir, [source_id], timeout_s=timeout_s)
    except Stopped:
        log.info("event=crawl_not_started source=%s reason=shutdown", source_id)
        return
    if waited >= 1:
        log.info("event=crawl_waited_for_memory source=%s seconds=%.1f", source_id, waited)
    for r in results:
        log.info("event=crawl_done source=%s status=%s pages=%s posts=%s new=%s errors=%s seconds=%.1f message=%r",
                 r.source_id, r.status, r.pages, r.posts, r.new_posts, r.errors, r.duration_s, r.message)
    if ctx.stopping.is_set():
        # Posts are stored item by item; the next start analyses them (they are still pending).
        log.info("event=crawl_left_pending source=%s reason=shutdown", source_id)
        return
    process(ctx)
    source_health()  # a failed or empty run may raise (or clear) a source-health warning at once
    deliver_now(ctx)
    trim_memory()  # the crawl's log and report buffers, the pipeline's result rows
    log.info("event=crawl_job_done source=%s seconds=%.1f", source_id, time.monotonic() - t0)


def catch_up() -> None:
    """Once at start: posts a stopped crawl stored but nobody analysed yet, then their e-mails."""
    ctx = current()
    process(ctx)
    deliver_now(ctx)


def process(ctx: ServiceContext) -> Any:
    """Analyse pending posts → events → warnings → outboxes, and replay the index outbox (one writer).

    In the analysis worker, started first if a Chromium crawl sent it away (or it died).
    """
    from yuqing.pipeline import PipelineReport, process_pending

    if not ctx.analysis_in_child:
        with ctx.writer_lock:
            report = process_pending(ctx.cfg, ctx.store, index=ctx.index(), analyzer=ctx.analyzer(),
                                     now=ctx.clock())
    else:
        try:
            report = _process_in_worker(ctx)
        except Stopped:
            log.info("event=analysis_left_pending reason=shutdown")
            return PipelineReport()
    log.info("event=pipeline analysed=%s relevant=%s sensitive=%s new_events=%s warnings=%s indexed=%s "
             "index_waiting=%s", report.analysed, report.relevant, report.sensitive, report.new_events,
             len(report.warnings), report.indexed, report.index_waiting)
    return report


def _process_in_worker(ctx: ServiceContext) -> Any:
    with ctx.analysis_lock:
        worker = ctx.worker()
        if worker.proc is None:  # not started, or stopped for a Chromium crawl: take its share again
            ctx.budget.acquire(ANALYSIS_MB, ctx.stopping)
        try:
            worker.start()
        except Exception:
            ctx.budget.release(ANALYSIS_MB)
            raise
        with ctx.writer_lock:
            try:
                return worker.process(ctx.clock())
            finally:
                if worker.proc is None:  # it died on this request: its memory is free
                    ctx.budget.release(ANALYSIS_MB)


def deliver_now(ctx: ServiceContext) -> Any:
    from alerting.notify.sender import deliver_pending

    with ctx.delivery_lock:
        report = deliver_pending(ctx.store, ctx.cfg, now=ctx.clock())
    if report.sent or report.failed or report.errors:
        log.info("event=delivery sent=%s failed=%s waiting=%s errors=%r",
                 report.sent, report.failed, report.waiting, list(report.errors)[:3])
    return report


def deliver() -> None:
    """Every minute: retry what is due in the mail outbox (backoff is the sender's business)."""
    deliver_now(current())


def _write(fn: Callable[[Any, Config, datetime], Any], what: str) -> Any:
    ctx = current()
    now = ctx.clock()
    with ctx.writer_lock, ctx.store.session() as s:
        out = fn(s, ctx.cfg, now)
        n = len(out) if isinstance(out, list) else int(out or 0)
    if n:
        log.info("event=%s changed=%d", what, n)
    return n


def reminders() -> None:
    from alerting.notify.reminders import enqueue_reminders

    if _write(enqueue_reminders, "reminders"):
        deliver_now(current())


def digests() -> None:
    from alerting.notify.digest import enqueue_digests

    if _write(enqueue_digests, "digests"):
        deliver_now(current())


def source_health() -> None:
    """Raise or clear source-health warnings (their mail goes out with the next delivery)."""
    from alerting.health import check_sources

    _write(check_sources, "source_health")


def housekeeping() -> None:
    from alerting.housekeeping import run_housekeeping

    ctx = current()
    with ctx.writer_lock:
        report = run_housekeeping(ctx.store, ctx.cfg, now=ctx.clock())
    log.info("event=housekeeping %s", report.as_log())


def self_check() -> None:
    """Mail the administrators when any source or outbox is unhealthy (nothing when all is well)."""
    from yuqing.service_status import collect_status, enqueue_self_check

    ctx = current()
    status = collect_status(ctx.cfg, ctx.store, now=ctx.clock(), scheduler=ctx.scheduler)
    if status.healthy:
        log.info("event=self_check healthy=true")
        return
    with ctx.writer_lock, ctx.store.session() as s:
        queued = enqueue_self_check(s, ctx.cfg, status, ctx.clock())
    log.info("event=self_check healthy=false problems=%r queued=%s", status.problems, queued)
    deliver_now(ctx)


def sync_schedules() -> None:
    """Re-plan the jobs: a sensitive period that began or ended changes the source intervals."""
    from yuqing.service import planned_jobs, sync_jobs

    ctx = current()
    if ctx.scheduler is None or ctx.stopping.is_set():
        return
    now = ctx.clock()
    for change in sync_jobs(ctx.scheduler, planned_jobs(ctx.cfg, now)):
        log.info("event=reschedule %s", change)
