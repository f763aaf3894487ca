"""The dashboard: today's counts, the open matrix, overdue items, source health, sensitive period, outbox."""

from __future__ import annotations

from datetime import date, timedelta

from alerting.store.tables import OutboxRow, SourceRunRow
from tests.plugins.web import seed_warning
from yuqing.model import utcnow


def test_dashboard_figures(client_as, seeded, web_store, cfg):  # type: ignore[no-untyped-def]
    now = utcnow()
    with web_store.session() as s:
        seed_warning(s, cfg, category="incident", severity="I", title="超时的事件",
                     created_at=now - timedelta(hours=30))
        s.add(SourceRunRow(source_id="demo-tieba", started_at=now - timedelta(minutes=30), status="failed",
                           errors=3, message="HTTP 403 三次"))
        s.add(SourceRunRow(source_id="demo-tieba", started_at=now - timedelta(minutes=60), status="failed", errors=1))
        s.add(SourceRunRow(source_id="demo-news-rss", started_at=now - timedelta(minutes=10), status="ok",
                           new_posts=7))
        s.add(OutboxRow(channel="mail", key="m1", payload={}, created_at=now, next_attempt_at=now))
    from alerting.accounts import Actor
    from alerting.workflow import perform
    from yuqing.model import Role

    with web_store.session() as s:
        perform(s, cfg, Actor("officer_chen", Role.officer), seeded.mine, "confirm",
                {"category": "inquiry", "severity": "III", "opinion": "属实"})
    page = client_as("leader_zhang").get("/dashboard").text
    assert '<div class="n">1</div><div>今日办理操作</div>' in page
    assert "超时的事件" in page and "已超时" in page
    assert "连续 2 次" in page and "HTTP 403 三次" in page and "正常" in page
    assert "mail 1 条" in page
    assert '<a href="/queue?category=incident&amp;severity=I">1</a>' in page
    monitor = client_as("monitor_zhao").get("/dashboard").text
    assert "超时的事件" not in monitor  # another school's warning


def test_sensitive_period_banner(client_as, web_store, cfg, config_dir):  # type: ignore[no-untyped-def]
    today = utcnow().date()
    alerts = config_dir / "alerts.yaml"
    text = alerts.read_text(encoding="utf-8").replace(
        "sensitive_periods:\n", f"sensitive_periods:\n  - {{name: 测试时段, start: {today - timedelta(days=1)}, "
                                f"end: {today + timedelta(days=1)}}}\n", 1)
    alerts.write_text(text, encoding="utf-8")
    from yuqing.config import load_config
    from yuqing.web.app import create_app

    app = create_app(load_config(config_dir), web_store)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from tests.plugins.web import login

    with TestClient(app, follow_redirects=False) as client:
        login(client, "officer_chen", "demo-officer-2026")
        page = client.get("/dashboard").text
    assert "测试时段" in page and isinstance(today, date)


def test_source_health_warning_shows_the_runs(client_as, seeded, web_store):  # type: ignore[no-untyped-def]
    now = utcnow()
    with web_store.session() as s:
        s.add(SourceRunRow(source_id="demo-tieba", started_at=now, status="failed", errors=2,
                           http_statuses={"403": 2}, message="疑似被封禁"))
    page = client_as("officer_chen").get(f"/warnings/{seeded.health}").text
    assert "数据源 demo-tieba 最近运行情况" in page and "403×2" in page and "疑似被封禁" in page
    assert 'id="act-close"' in page and 'id="act-confirm"' not in page
