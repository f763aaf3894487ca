"""Source-health warnings from the crawl records, mailed to the administrator through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from alerting.health import check_sources
from alerting.notify.sender import deliver_pending
from alerting.store import Store
from alerting.store.tables import AuditRow, SourceRunRow, WarningRow
from tests.plugins.notify import T0
from yuqing.config import Config
from yuqing.demo.smtp import MailSink


def _run(store: Store, at: datetime, status: str = "ok", posts: int = 0, **kw: object) -> None:
    with store.session() as s:
        s.add(SourceRunRow(source_id="demo-forum", started_at=at, finished_at=at + timedelta(minutes=1),
                           status=status, pages=3, posts=posts, **kw))


def _check(store: Store, cfg: Config, at: datetime) -> list[int]:
    with store.session() as s:
        ids = [w.id for w in check_sources(s, cfg, at)]
    deliver_pending(store, cfg, now=at)
    return ids


def test_zero_post_runs_then_login_expired_then_recovery(notify_cfg: Config, store: Store,
                                                          mail_sink: MailSink) -> None:
    n = notify_cfg.source("demo-forum").health_zero_runs
    assert n == 3
    for i in range(n - 1):
        _run(store, T0 + timedelta(minutes=10 * i))
    assert _check(store, notify_cfg, T0 + timedelta(minutes=30)) == []
    _run(store, T0 + timedelta(minutes=30))
    (wid,) = _check(store, notify_cfg, T0 + timedelta(minutes=40))
    (msg,) = mail_sink.messages()
    assert msg["X-Sink-Rcpt-To"] == "yuqing-admin@example.gov.cn"
    assert str(msg["Subject"]) == "【来源异常】示例论坛(Discuz!):连续多次未采集到帖子"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "最近连续 3 次采集均为 0 条帖子(阈值 3 次)" in text and f"/warnings/{wid}" in text
    # the same problem again: no new warning, no new mail
    _run(store, T0 + timedelta(minutes=40))
    assert _check(store, notify_cfg, T0 + timedelta(minutes=50)) == []
    # a different problem on the open warning: one more mail
    _run(store, T0 + timedelta(minutes=50), status="login_expired", message="需要登录", http_statuses={"302": 2})
    assert _check(store, notify_cfg, T0 + timedelta(minutes=60)) == [wid]
    assert _check(store, notify_cfg, T0 + timedelta(minutes=61)) == []
    assert str(mail_sink.messages()[-1]["Subject"]) == "【来源异常】示例论坛(Discuz!):登录已失效"
    assert "HTTP 302×2" in mail_sink.messages()[-1].get_body(preferencelist=("plain",)).get_content()
    # back to normal
    _run(store, T0 + timedelta(minutes=70), posts=12)
    assert _check(store, notify_cfg, T0 + timedelta(minutes=80)) == [wid]
    assert _check(store, notify_cfg, T0 + timedelta(minutes=90)) == []
    assert str(mail_sink.messages()[-1]["Subject"]) == "【来源恢复】示例论坛(Discuz!):采集已恢复正常"
    assert len(mail_sink.messages()) == 3
    with store.session() as s:
        w = s.get(WarningRow, wid)
        assert w is not None and w.kind == "source_health" and w.source_id == "demo-forum" and w.status == "closed"
        actions = s.scalars(select(AuditRow.action).where(AuditRow.warning_id == wid).order_by(AuditRow.id)).all()
        assert actions == ["raise", "source_recovered"]
        assert s.query(WarningRow).count() == 1


def test_failed_run_warns_at_once_and_running_rows_are_ignored(notify_cfg: Config, store: Store,
                                                               mail_sink: MailSink) -> None:
    _run(store, T0, status="failed", errors=5, message="连接被拒绝")
    _run(store, T0 + timedelta(minutes=5), status="running")
    (wid,) = _check(store, notify_cfg, T0 + timedelta(minutes=6))
    (msg,) = mail_sink.messages()
    assert str(msg["Subject"]) == "【来源异常】示例论坛(Discuz!):采集失败"
    assert "错误 5" in msg.get_body(preferencelist=("plain",)).get_content()


def test_a_source_that_never_ran_is_not_unhealthy(notify_cfg: Config, store: Store) -> None:
    assert _check(store, notify_cfg, T0) == []
