"""The service analyses new posts in a worker process (the model never sits in the service's own memory):
one worker, loaded once, answering each request with what process_pending did; stopped for a Chromium
crawl (its memory share given back) and started again by the next analysis."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from alerting.store import Store
from alerting.store.posts import upsert_post
from alerting.store.tables import AnalysisRow, WarningRow
from yuqing.config import Config
from yuqing.model import Post, post_id_for
from yuqing.service_analysis import AnalysisWorker
from yuqing.service_budget import ANALYSIS_MB, BROWSER_CRAWL_MB
from yuqing.service_jobs import ServiceContext, process

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
SERIOUS = ("示例县第一中学食堂午餐后三十多名学生呕吐腹泻",
           "示例县第一中学食堂今天午餐后,三十多名学生出现呕吐、腹泻症状,已送县医院住院观察,疑似食物中毒。"
           "家长质疑学校隐瞒情况,要求公开食材来源。")
PLAIN = ("示例县实验小学举行秋季运动会", "示例县实验小学今天举行秋季运动会,同学们积极参加各项比赛。")


def _seed(cfg: Config, stories: list[tuple[str, str]], tag: str) -> list[str]:
    store = Store.from_config(cfg)
    ids = []
    try:
        with store.session() as s:
            for i, (title, text) in enumerate(stories):
                url = f"http://news.example.com/{tag}/{i}.html"
                post = Post(id=post_id_for(url), url=url, source="demo-news-rss", site="news.example.com",
                            title=title, content=text, published_at=NOW, crawled_at=NOW)
                upsert_post(s, post)
                ids.append(post.id)
    finally:
        store.dispose()
    return ids


def _count(cfg: Config, row: Any) -> int:
    store = Store.from_config(cfg)
    try:
        with store.session() as s:
            return int(s.scalar(select(func.count()).select_from(row)) or 0)
    finally:
        store.dispose()


def test_the_worker_analyses_pending_posts_once_per_request(cfg: Config, config_dir: Path, tmp_path: Path) -> None:
    Store.from_config(cfg).migrate()
    _seed(cfg, [SERIOUS, PLAIN], "worker")
    worker = AnalysisWorker(config_dir, tmp_path / "analysis.log")
    try:
        report = worker.process(NOW)
        assert worker.running and worker.starts == 1
        assert report.analysed == 2 and report.relevant == 2 and report.sensitive == 1
        assert len(report.warnings) == 1 and report.by_category["none"] == 1
        assert _count(cfg, AnalysisRow) == 2 and _count(cfg, WarningRow) == 1
        assert worker.process(NOW).analysed == 0  # the same worker, nothing left to do
        _seed(cfg, [PLAIN], "later")
        assert worker.process(NOW).analysed == 1 and worker.starts == 1
        worker.proc.kill()  # type: ignore[union-attr]  # a worker that died is started again
        worker.proc.wait()  # type: ignore[union-attr]
        assert worker.process(NOW).analysed == 0 and worker.starts == 2
    finally:
        worker.stop()
    assert not worker.running and _count(cfg, WarningRow) == 1


def test_process_uses_one_worker_that_a_browser_crawl_sends_away(cfg: Config, config_dir: Path) -> None:
    ctx = ServiceContext.from_config(cfg, config_dir)
    ctx.clock = lambda: NOW
    ctx.store.migrate()
    try:
        assert process(ctx).analysed == 0
        worker = ctx.worker()
        assert worker.running and ctx.budget.used == ANALYSIS_MB
        _seed(cfg, [SERIOUS], "process")
        report = process(ctx)
        assert report.analysed == 1 and len(report.warnings) == 1 and worker.starts == 1
        assert ctx._analyzer is None  # the service process itself never loaded the model
        ctx.stop_worker()  # what a Chromium crawl does before it takes its share
        assert not worker.running and ctx.budget.used == 0
        with ctx.budget.hold(BROWSER_CRAWL_MB):
            assert ctx.budget.used == BROWSER_CRAWL_MB  # the crawl has the memory to itself
        assert process(ctx).analysed == 0 and worker.starts == 2 and ctx.budget.used == ANALYSIS_MB
    finally:
        ctx.stop_worker()
        ctx.store.dispose()
    assert ctx.budget.used == 0
