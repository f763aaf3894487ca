"""One cycle of the whole job: crawl every enabled source → analyse → store → index → warnings → e-mails.

Used by `yuqing run --once` and `yuqing demo`; the service runs the same steps per source on a schedule.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from alerting.store import Store
from alerting.store.tables import OutboxRow, PostRow, SourceRunRow, WarningRow
from yuqing.config import Config
from yuqing.model import utcnow
from yuqing.pipeline import PipelineReport, load_analyzer, new_grouper, process_pending

if TYPE_CHECKING:
    from analysis.analyzer import Analyzer
    from analysis.events import EventGrouper
    from crawler.runner import CrawlResult

log = logging.getLogger(__name__)

Say = Callable[[str], None]


@dataclass
class CycleSummary:
    posts_by_source: dict[str, tuple[str, int, int, str]] = field(default_factory=dict)
    warnings_by_category: dict[str, int] = field(default_factory=dict)
    warnings_by_severity: dict[str, int] = field(default_factory=dict)
    warnings_total: int = 0
    mails_sent_now: int = 0
    mails_total: int = 0
    mails_waiting: int = 0
    pipeline: PipelineReport | None = None
    database: str = ""
    mail_dir: Path | None = None
    index_url: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)


def run_cycle(cfg: Config, config_dir: Path, say: Say, progress: Callable[[int, int], None] | None = None
              ) -> CycleSummary:
    """One full cycle: crawl every source → analyse → store → index → warnings → e-mails."""
    from alerting.health import check_sources
    from alerting.index import open_index_from_config
    from alerting.notify.sender import deliver_pending

    summary = CycleSummary(database=cfg.database_url, mail_dir=cfg.data_dir / "mail", index_url=cfg.index_url)
    store = Store.from_config(cfg)
    index = open_index_from_config(cfg)
    index.ensure()
    t0 = time.perf_counter()
    say(f"正在采集 {len([s for s in cfg.sources if s.enabled])} 个来源(边采集边分析)……")
    # Each source is reported as soon as its crawl ends: a long crawl shows progress, not silence.
    _, summary.pipeline = crawl_and_process(cfg, config_dir, store, index, on_done=lambda r: say(
        f"  {r.source_id}: {_status_zh(r.status)},新帖 {r.new_posts},共 {r.posts}({r.duration_s:.0f} 秒)"),
        progress=progress, before_rest=lambda: say("正在分析其余帖子、归并事件、生成预警……"))
    summary.timings["采集与分析"] = time.perf_counter() - t0
    with store.session() as s:
        # A source that failed or went silent is a warning for the administrator, like the service raises.
        unhealthy = check_sources(s, cfg, utcnow())
    if unhealthy:
        say(f"来源异常预警 {len(unhealthy)} 条(已通知管理员)")
    t2 = time.perf_counter()
    say("正在发送预警邮件……")
    delivery = deliver_pending(store, cfg)
    summary.mails_sent_now = int(getattr(delivery, "sent", 0))
    summary.timings["发送邮件"] = time.perf_counter() - t2
    _fill_counts(store, cfg, summary)
    store.dispose()
    return summary


def crawl_and_process(
    cfg: Config,
    config_dir: Path,
    store: Store,
    index: Any | None = None,
    *,
    source_ids: list[str] | None = None,
    parallel: int = 3,
    extra_settings: dict[str, str] | None = None,
    on_done: Callable[[CrawlResult], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    before_rest: Callable[[], None] | None = None,
) -> tuple[list[CrawlResult], PipelineReport]:
    """Crawl the sources and run the pipeline on what they store while they still crawl, then on the rest.

    The crawls are child processes; the pipeline runs in a thread of this process (still the one writer).
    While crawls run it takes only whole batches of posts crawled before a watermark that no running crawl
    can still store a post under (``_Follower``): the batches ``process_pending`` after the crawl would
    take, in the same order, so every post is analysed once and events and warnings come out as in a run
    that analyses after crawling. The index and the mail sender see the same outbox rows as then.
    """
    from crawler.runner import crawl_sources

    follower = _Follower(cfg, store, index, _source_ids(cfg, source_ids))

    def done(result: CrawlResult) -> None:
        follower.finished(result.source_id)
        if on_done is not None:
            on_done(result)

    follower.start()
    try:
        results = crawl_sources(cfg, config_dir, source_ids, parallel=parallel, extra_settings=extra_settings,
                                on_done=done)
    finally:
        follower.stop()
    report = follower.report
    report.analysed_while_crawling = report.analysed
    analyzer, grouper = follower.analyzer, follower.grouper
    if follower.error is not None:
        # The failed batch was rolled back and is still pending, but the grouper may hold its posts: start
        # from the store again.
        log.error("pipeline during the crawl failed; the rest is analysed now", exc_info=follower.error)
        grouper = new_grouper(cfg, store)
    analyzer = analyzer or load_analyzer(cfg)
    if before_rest is not None:
        before_rest()
    report.add(process_pending(cfg, store, index=index, analyzer=analyzer, progress=progress, grouper=grouper))
    return results, report


def _source_ids(cfg: Config, source_ids: list[str] | None) -> list[str]:
    return list(source_ids) if source_ids else [s.id for s in cfg.sources if s.enabled]


class _Follower(threading.Thread):
    """``process_pending`` every second over what the crawls have stored, up to the watermark.

    The watermark: a running crawl stores its pages in the order it parsed them (crawler.pipelines.store),
    each page's posts in one transaction, so it can still store only posts crawled after the latest
    ``crawled_at`` it has stored (or after its start, before its first save). The earliest of those over
    the running crawls bounds everything still to come; a crawl not started yet crawls after now.
    """

    def __init__(self, cfg: Config, store: Store, index: Any | None, source_ids: list[str]) -> None:
        super().__init__(name="yuqing-pipeline", daemon=True)
        self.cfg, self.store, self.index = cfg, store, index
        # Loaded in the thread, while the crawls start (the model takes seconds to load).
        self.analyzer: Analyzer | None = None
        self.grouper: EventGrouper | None = None
        self.report = PipelineReport()
        self.error: BaseException | None = None
        self._sources = source_ids
        self._done: set[str] = set()
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._since = utcnow()

    def finished(self, source_id: str) -> None:
        with self._lock:
            self._done.add(source_id)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def run(self) -> None:
        try:
            self.analyzer = load_analyzer(self.cfg)
            self.grouper = new_grouper(self.cfg, self.store, self._since)
            while not self._halt.wait(1.0):
                mark = self.watermark()
                if mark is not None:
                    self.report.add(process_pending(self.cfg, self.store, index=self.index, analyzer=self.analyzer,
                                                    grouper=self.grouper, before=mark))
        except Exception as exc:  # noqa: BLE001 - reported by crawl_and_process, which analyses the rest
            self.error = exc

    def watermark(self) -> datetime | None:
        with self._lock:
            running = [sid for sid in self._sources if sid not in self._done]
        if not running:
            return None  # the crawl is ending: the rest is analysed after it
        mark = utcnow()
        with self.store.session() as s:
            for sid in running:
                started = s.scalar(select(func.max(SourceRunRow.started_at)).where(
                    SourceRunRow.source_id == sid, SourceRunRow.started_at >= self._since))
                if started is None:
                    continue  # not started yet
                stored = s.scalar(select(func.max(PostRow.crawled_at)).where(PostRow.source == sid))
                mark = min(mark, max(started, stored) if stored is not None else started)
        return mark


def _status_zh(status: str) -> str:
    return {"ok": "成功", "failed": "失败", "killed": "超时终止", "timeout": "超时终止", "degraded": "异常(疑似改版)",
            "blocked": "被拦截", "login_expired": "登录失效", "running": "运行中",
            "interrupted": "已中断(服务停止)"}.get(status, status)


def _fill_counts(store: Store, cfg: Config, summary: CycleSummary) -> None:
    with store.session() as s:
        for src in cfg.sources:
            total = s.scalar(select(func.count()).select_from(PostRow).where(PostRow.source == src.id)) or 0
            last = s.scalars(
                select(SourceRunRow).where(SourceRunRow.source_id == src.id).order_by(SourceRunRow.id.desc())
            ).first()
            new = last.new_posts if last else 0
            status = _status_zh(last.status) if last else "未运行"
            summary.posts_by_source[src.id] = (src.name, total, new, status)
        for col, target in ((WarningRow.category, summary.warnings_by_category),
                            (WarningRow.severity, summary.warnings_by_severity)):
            for value, n in s.execute(
                select(col, func.count()).where(WarningRow.kind == "opinion").group_by(col)
            ):
                target[value] = n
        summary.warnings_total = sum(summary.warnings_by_category.values())
        summary.mails_total = s.scalar(
            select(func.count()).select_from(OutboxRow)
            .where(OutboxRow.channel == "mail", OutboxRow.delivered_at.is_not(None))
        ) or 0
        summary.mails_waiting = s.scalar(
            select(func.count()).select_from(OutboxRow)
            .where(OutboxRow.channel == "mail", OutboxRow.delivered_at.is_(None))
        ) or 0
