"""One alert per event; re-alerts only on escalation, saying what changed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from alerting.notify.sender import deliver_pending
from alerting.rules import raise_warnings
from alerting.store import Store
from alerting.store.tables import AuditRow, WarningRow
from tests.plugins.notify import T0, PostSpec, write_event
from yuqing.config import Config
from yuqing.demo.smtp import MailSink


def _posts(n: int) -> list[PostSpec]:
    return [PostSpec(f"县一中食堂事件 第{i}帖", f"示例县第一中学食堂 学生腹痛 第{i}帖") for i in range(n)]


def _plain(msg) -> str:  # type: ignore[no-untyped-def]
    return msg.get_body(preferencelist=("plain",)).get_content()


def test_severity_up_re_alerts_and_says_what_changed(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    write_event(store, "ev", _posts(2), severity="III", reach=50)
    with store.session() as s:
        (w,) = raise_warnings(s, notify_cfg, ["ev"], T0)
        wid = w.id
    write_event(store, "ev", _posts(3), severity="II", reach=60, now=T0 + timedelta(minutes=20))
    with store.session() as s:
        (again,) = raise_warnings(s, notify_cfg, ["ev"], T0 + timedelta(minutes=20))
        assert again.id == wid and again.severity == "II" and again.alerted_severity == "II"
        assert again.alerted_posts == 3
    deliver_pending(store, notify_cfg, now=T0 + timedelta(minutes=20))
    first, second = mail_sink.messages()
    assert str(first["Subject"]).startswith("【较大(III级)预警】")
    assert str(second["Subject"]).startswith("【事态升级·重大(II级)预警】示例县第一中学")
    assert first["Message-ID"] != second["Message-ID"]
    assert "等级由较大(III级)升为重大(II级)" in _plain(second)
    with store.session() as s:
        actions = s.scalars(select(AuditRow.action).where(AuditRow.warning_id == wid).order_by(AuditRow.id)).all()
        assert actions == ["raise", "re_alert"]


def test_sharp_growth_re_alerts_once(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    write_event(store, "ev", _posts(3), severity="III", reach=100)
    with store.session() as s:
        raise_warnings(s, notify_cfg, ["ev"], T0)
    write_event(store, "ev", _posts(7), severity="III", reach=900)  # 3 → 7 posts, reach 100 → 900
    for _ in range(3):
        with store.session() as s:
            raise_warnings(s, notify_cfg, ["ev"], T0 + timedelta(hours=1))
        deliver_pending(store, notify_cfg, now=T0 + timedelta(hours=1))
    first, second = mail_sink.messages()
    text = _plain(second)
    assert "帖子数由 3 条增至 7 条" in text and "影响力由 100 增至 900" in text
    assert "等级由" not in text


def test_small_growth_does_not_re_alert(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    write_event(store, "ev", _posts(1), severity="III", reach=10)
    with store.session() as s:
        raise_warnings(s, notify_cfg, ["ev"], T0)
    write_event(store, "ev", _posts(2), severity="III", reach=30)  # doubled, but one repost is not news
    with store.session() as s:
        assert raise_warnings(s, notify_cfg, ["ev"], T0) == []
    deliver_pending(store, notify_cfg, now=T0)
    assert len(mail_sink.messages()) == 1


def test_dismissed_warning_stays_silent(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    write_event(store, "ev", _posts(2), severity="III")
    with store.session() as s:
        (w,) = raise_warnings(s, notify_cfg, ["ev"], T0)
        w.status = "dismissed"
    write_event(store, "ev", _posts(9), severity="I", reach=5000)
    with store.session() as s:
        assert raise_warnings(s, notify_cfg, ["ev"], T0) == []
        assert s.scalars(select(WarningRow)).one().status == "dismissed"
    deliver_pending(store, notify_cfg, now=T0)
    assert len(mail_sink.messages()) == 1


def test_minor_escalation_waits_for_digest(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    write_event(store, "ev", _posts(3), severity="IV", reach=100)
    with store.session() as s:
        raise_warnings(s, notify_cfg, ["ev"], T0)
    write_event(store, "ev", _posts(8), severity="IV", reach=100)
    with store.session() as s:
        (w,) = raise_warnings(s, notify_cfg, ["ev"], T0)
        assert w.alerted_posts == 8
        audit = s.scalars(select(AuditRow).where(AuditRow.action == "re_alert")).one()
        assert audit.details["immediate"] is False and audit.details["changes"] == ["帖子数由 3 条增至 8 条"]
    assert deliver_pending(store, notify_cfg, now=T0).sent == 0
