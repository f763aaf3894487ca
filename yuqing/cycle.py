"""One cycle of the whole job: crawl every enabled source → analyse → store → index → warnings → e-mails.

Used by `yuqing run --once` and `yuqing demo`; the service runs the same steps per source on a schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from alerting.store import Store
from alerting.store.tables import OutboxRow, PostRow, SourceRunRow, WarningRow
from yuqing.config import Config
from yuqing.model import utcnow
from yuqing.pipeline import PipelineReport, process_pending

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
    from crawler.runner import crawl_sources

    summary = CycleSummary(database=cfg.database_url, mail_dir=cfg.data_dir / "mail", index_url=cfg.index_url)
    store = Store.from_config(cfg)
    t0 = time.perf_counter()
    say(f"正在采集 {len([s for s in cfg.sources if s.enabled])} 个来源……")
    # Each source is reported as soon as its crawl ends: a long crawl shows progress, not silence.
    crawl_sources(cfg, config_dir, on_done=lambda r: say(
        f"  {r.source_id}: {_status_zh(r.status)},新帖 {r.new_posts},共 {r.posts}({r.duration_s:.0f} 秒)"))
    summary.timings["采集"] = time.perf_counter() - t0
    with store.session() as s:
        # A source that failed or went silent is a warning for the administrator, like the service raises.
        unhealthy = check_sources(s, cfg, utcnow())
    if unhealthy:
        say(f"来源异常预警 {len(unhealthy)} 条(已通知管理员)")
    t1 = time.perf_counter()
    say("正在分析、归并事件、生成预警……")
    index = open_index_from_config(cfg)
    index.ensure()
    summary.pipeline = process_pending(cfg, store, index=index, progress=progress)
    summary.timings["分析与预警"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    say("正在发送预警邮件……")
    delivery = deliver_pending(store, cfg)
    summary.mails_sent_now = int(getattr(delivery, "sent", 0))
    summary.timings["发送邮件"] = time.perf_counter() - t2
    _fill_counts(store, cfg, summary)
    store.dispose()
    return summary


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
