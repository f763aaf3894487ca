"""Deadline reminders and escalation down the duty roster, driven by a controllable clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from alerting.notify.reminders import enqueue_reminders
from alerting.notify.sender import deliver_pending
from alerting.rules import raise_warnings
from alerting.store import Store
from alerting.store.tables import AuditRow, WarningRow
from tests.plugins.notify import T0, PostSpec, write_event
from yuqing.config import Config
from yuqing.demo.smtp import MailSink


def _run(store: Store, cfg: Config, at: datetime) -> int:
    with store.session() as s:
        n = enqueue_reminders(s, cfg, at)
    deliver_pending(store, cfg, now=at)
    return n


def _reminders(sink: MailSink) -> list[tuple[str, str]]:
    return [(str(m["X-Sink-Rcpt-To"]), str(m["Subject"])) for m in sink.messages() if "催办" in str(m["Subject"])]


def test_unacknowledged_serious_warning_goes_down_the_roster(notify_cfg: Config, store: Store,
                                                             mail_sink: MailSink) -> None:
    write_event(store, "ev", [PostSpec("县一中食堂事件", "示例县第一中学食堂 学生腹痛")], severity="II")
    with store.session() as s:
        (w,) = raise_warnings(s, notify_cfg, ["ev"], T0)
        wid = w.id
    assert _run(store, notify_cfg, T0 + timedelta(minutes=59)) == 0
    assert _run(store, notify_cfg, T0 + timedelta(minutes=60)) == 1  # ack_minutes = 60
    assert _run(store, notify_cfg, T0 + timedelta(minutes=61)) == 0  # once per level
    assert _run(store, notify_cfg, T0 + timedelta(minutes=120)) == 1
    assert _reminders(mail_sink) == [
        ("chen@example.gov.cn", f"【催办·第1级】重大(II级)预警 {wid}:县一中食堂事件"),
        ("liu@example.gov.cn", f"【催办·第2级】重大(II级)预警 {wid}:县一中食堂事件"),
    ]
    text = mail_sink.messages()[-1].get_body(preferencelist=("plain",)).get_content()
    assert "重大(II级)预警 60 分钟内无人确认" in text and "此前已提醒 officer_chen" in text
    with store.session() as s:
        w2 = s.get(WarningRow, wid)
        assert w2 is not None and w2.escalation_level == 2
        w2.acknowledged_at = T0 + timedelta(minutes=150)  # someone confirmed it
        esc = s.scalars(select(AuditRow).where(AuditRow.action == "escalated").order_by(AuditRow.id)).all()
        assert [(a.details["level"], a.details["to"]) for a in esc] == [(1, "officer_chen"), (2, "officer_liu")]
    # acknowledged: no third step (the deadline, 4 h, has not passed either)
    assert _run(store, notify_cfg, T0 + timedelta(minutes=180)) == 0


def test_overdue_inquiry_reminds_and_stops_when_replied(notify_cfg: Config, store: Store,
                                                        mail_sink: MailSink) -> None:
    write_event(store, "ev", [PostSpec("县一中补课收费", "示例县第一中学 补课收费 家长询问")], category="inquiry",
                severity="IV")
    with store.session() as s:
        (w,) = raise_warnings(s, notify_cfg, ["ev"], T0)  # 10:00; due 24:00 Beijing time = 16:00 UTC
        wid = w.id
    assert _run(store, notify_cfg, T0 + timedelta(hours=13)) == 0  # minor: no acknowledgement clock
    assert _run(store, notify_cfg, T0 + timedelta(hours=14)) == 1  # midnight in Beijing
    text = mail_sink.messages()[-1].get_body(preferencelist=("plain",)).get_content()
    assert "已超过处置时限(2026-12-01 00:00)仍未回复" in text and "一般(IV级)" in text
    with store.session() as s:
        w2 = s.get(WarningRow, wid)
        assert w2 is not None
        w2.status = "responded"  # the reply went out: the clock stops
    assert _run(store, notify_cfg, T0 + timedelta(hours=20)) == 0
    assert len(_reminders(mail_sink)) == 1


def test_roster_exhausted_stops(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    write_event(store, "ev", [PostSpec("县一中食堂事件", "示例县第一中学食堂 学生腹痛")], severity="I")
    with store.session() as s:
        raise_warnings(s, notify_cfg, ["ev"], T0)
    for h in range(1, 10):
        _run(store, notify_cfg, T0 + timedelta(hours=h))
    assert [to for to, _ in _reminders(mail_sink)] == ["chen@example.gov.cn", "liu@example.gov.cn",
                                                        "lingdao@example.gov.cn"]


def test_escalation_is_marked_in_the_queue(cfg: Config, web_store: Store, client_as: Any) -> None:
    from tests.plugins.web import seed_warning
    from yuqing.model import utcnow

    now = utcnow()
    with web_store.session() as s:
        wid = seed_warning(s, cfg, severity="II", category="incident", created_at=now - timedelta(minutes=90))
    with web_store.session() as s:
        assert enqueue_reminders(s, cfg, now) == 1
    page = client_as("officer_chen").get("/queue")
    (row,) = [r for r in page.text.split("</tr>") if f'href="/warnings/{wid}"' in r]
    assert "已催办 1 次" in row
    history = client_as("officer_chen").get(f"/warnings/{wid}").text
    assert "逾期/未确认,提醒下一值班人" in history


def test_source_health_warnings_do_not_go_down_the_roster(notify_cfg: Config, store: Store) -> None:
    with store.session() as s:
        s.add(WarningRow(kind="source_health", source_id="demo-forum", status="new", category="none", severity="III",
                         schools=[], title="来源异常", created_at=T0, updated_at=T0, deadline=T0 + timedelta(hours=1)))
    with store.session() as s:
        assert enqueue_reminders(s, notify_cfg, T0 + timedelta(days=2)) == 0
