"""Service health: one judgement for /healthz, `yuqing status` and the daily self-check e-mail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from typer.testing import CliRunner

from alerting.notify.sender import deliver_pending
from alerting.store import Store
from alerting.store.tables import OutboxRow, SourceRunRow
from yuqing.cli import app as cli_app
from yuqing.config import Config, SensitivePeriod
from yuqing.demo.smtp import MailSink
from yuqing.model import utcnow
from yuqing.service import CRAWL_PREFIX, build_scheduler, planned_jobs, sync_jobs
from yuqing.service_status import collect_status, enqueue_self_check


@pytest.fixture
def store(cfg: Config) -> Iterator[Store]:
    s = Store.from_config(cfg)
    yield s
    s.dispose()


@pytest.fixture
def scheduler(cfg: Config, tmp_path) -> Iterator[BackgroundScheduler]:  # type: ignore[no-untyped-def]
    sched = build_scheduler(cfg, f"sqlite:///{tmp_path / 'jobs.db'}")
    sched.start(paused=True)
    future = utcnow() + timedelta(days=3650)  # nothing due while the test looks
    sync_jobs(sched, planned_jobs(cfg, future))
    yield sched
    sched.shutdown(wait=False)


def _run(store: Store, source: str, status: str, minutes_ago: float, message: str = "", new: int = 0) -> None:
    at = utcnow() - timedelta(minutes=minutes_ago)
    with store.session() as s:
        s.add(SourceRunRow(source_id=source, started_at=at, finished_at=at + timedelta(seconds=20), status=status,
                           posts=new, new_posts=new, message=message))


def test_a_fresh_service_is_healthy_and_shows_next_runs(cfg: Config, store: Store,
                                                        scheduler: BackgroundScheduler) -> None:
    _run(store, "demo-news-rss", "ok", 5, new=3)
    st = collect_status(cfg, store, scheduler=scheduler)
    assert st.healthy and st.running, st.problems
    rss = next(s for s in st.sources if s.id == "demo-news-rss")
    assert rss.last_status == "ok" and rss.new_posts == 3 and rss.last_ok is not None
    assert rss.next_run == scheduler.get_job(CRAWL_PREFIX + "demo-news-rss").next_run_time
    assert rss.schedule == "每 30 分钟"


def test_failed_or_silent_sources_and_a_stuck_outbox_are_problems(cfg: Config, store: Store,
                                                                  scheduler: BackgroundScheduler) -> None:
    _run(store, "demo-news-rss", "failed", 5, message="HTTP 403 at http://example.test/secret-path")
    _run(store, "demo-gov-list", "ok", 60 * 24)  # hourly source, silent for a day
    now = utcnow()
    with store.session() as s:
        s.add(OutboxRow(channel="mail", key="stuck", payload={}, created_at=now - timedelta(hours=1), attempts=4,
                        next_attempt_at=now - timedelta(minutes=1), delivered_at=None, last_error="421"))
    st = collect_status(cfg, store, scheduler=scheduler)
    assert not st.healthy
    text = "\n".join(st.problems)
    assert "来源「示例日报(RSS)」最近一次采集失败" in text
    assert "来源「示例县人民政府(新闻列表)」已 24.0 小时没有采集" in text
    assert "邮件发送失败:1 封多次重试仍未发出" in text and "邮件积压:1 封待发" in text
    public = json.dumps(st.public_json(), ensure_ascii=False)
    assert "secret-path" not in public  # crawler messages stay off the unauthenticated endpoint
    assert st.public_json()["outbox"]["mail"]["pending"] == 1


def test_sensitive_period_is_reported(cfg: Config, store: Store, scheduler: BackgroundScheduler) -> None:
    today = utcnow().date()
    cfg.alerts.sensitive_periods = [SensitivePeriod(name="中考", start=today - timedelta(days=1),
                                                    end=today + timedelta(days=1))]
    st = collect_status(cfg, store, scheduler=scheduler)
    assert st.active_period == "中考"
    assert next(s for s in st.sources if s.id == "demo-news-rss").schedule == "每 10 分钟(敏感时段)"


def test_healthz_under_serve_reports_the_service_and_answers_503_when_unhealthy(
        cfg: Config, store: Store, scheduler: BackgroundScheduler, web_app: Any, client_as: Any) -> None:
    web_app.state.service_health = lambda: collect_status(cfg, store, scheduler=scheduler).public_json()
    client = client_as(None)
    ok = client.get("/healthz")
    assert ok.status_code == 200
    body = ok.json()
    assert body["ok"] is True and body["db"] is True and body["running"] is True
    assert {s["id"] for s in body["sources"]} == {s.id for s in cfg.sources}
    assert set(body["outbox"]) == {"mail", "index"}
    _run(store, "demo-tieba", "killed", 2)
    bad = client.get("/healthz")
    assert bad.status_code == 503 and bad.json()["ok"] is False
    assert any("示例吧" in p for p in bad.json()["problems"])


def test_status_command_works_with_the_service_stopped(cfg: Config, store: Store) -> None:
    _run(store, "demo-news-rss", "ok", 5, new=2)
    result = CliRunner().invoke(cli_app, ["status", "--config", str(cfg.root)])
    assert result.exit_code == 1  # the service is not running: that is a problem to report
    assert "监测服务:未运行" in result.output and "示例日报(RSS)" in result.output and "成功" in result.output
    data = json.loads(CliRunner().invoke(cli_app, ["status", "--config", str(cfg.root), "--json"]).output)
    assert data["running"] is False and data["healthy"] is False


def test_self_check_mail_goes_to_the_admin_once_a_day(demo_cfg: Config, mail_sink: MailSink) -> None:
    store = Store.from_config(demo_cfg)
    try:
        _run(store, "demo-forum", "failed", 3, message="连续 3 次解析失败")
        now = utcnow()
        st = collect_status(demo_cfg, store, now=now)
        with store.session() as s:
            assert enqueue_self_check(s, demo_cfg, st, now) is True
        with store.session() as s:
            assert enqueue_self_check(s, demo_cfg, st, now + timedelta(minutes=5)) is False
        report = deliver_pending(store, demo_cfg, now=now)
        assert report.sent == 1
        [msg] = mail_sink.wait_for(1, timeout=10)
        assert msg["To"] == "yuqing-admin@example.gov.cn"
        assert "系统自检" in msg["Subject"]
        body = msg.get_body(("plain",)).get_content()
        assert "来源「示例论坛(Discuz!)」最近一次采集失败" in body and "连续 3 次解析失败" in body
        assert "监测服务未运行" in body
    finally:
        store.dispose()


def test_self_check_stays_quiet_when_healthy(cfg: Config, store: Store, scheduler: BackgroundScheduler) -> None:
    st = collect_status(cfg, store, scheduler=scheduler)
    with store.session() as s:
        assert enqueue_self_check(s, cfg, st, utcnow()) is False


