"""Hourly digests of the warnings not mailed at once, and the daily morning brief."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alerting.notify.digest import enqueue_digests
from alerting.notify.sender import deliver_pending
from alerting.rules import raise_warnings
from alerting.store import Store
from alerting.store.tables import SourceRunRow
from tests.plugins.notify import T0, PostSpec, write_event
from yuqing.config import Config
from yuqing.demo.smtp import MailSink

# T0 is 10:00 Beijing time; the morning brief is due at 07:30.


def _plain(msg) -> str:  # type: ignore[no-untyped-def]
    return msg.get_body(preferencelist=("plain",)).get_content()


def _minor(store: Store, cfg: Config, eid: str, title: str, at: datetime, severity: str = "IV") -> None:
    write_event(store, eid, [PostSpec(title, f"示例县第一中学 {title}")], category="inquiry", severity=severity,
                now=at)
    with store.session() as s:
        raise_warnings(s, cfg, [eid], at)


def _digests(store: Store, cfg: Config, at: datetime) -> int:
    with store.session() as s:
        n = enqueue_digests(s, cfg, at)
    deliver_pending(store, cfg, now=at)
    return n


def test_hourly_digest_lists_minor_warnings_once(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    notify_cfg.alerts.digest_daily_at = "23:59"  # keep the morning brief out of this test
    _minor(store, notify_cfg, "ev-a", "县一中补课收费问题", T0 + timedelta(minutes=5))
    _minor(store, notify_cfg, "ev-b", "县一中校服价格质疑", T0 + timedelta(minutes=10))
    _minor(store, notify_cfg, "ev-c", "县一中食堂出事了", T0 + timedelta(minutes=15), severity="II")  # mailed at once
    at = T0 + timedelta(minutes=30)
    assert _digests(store, notify_cfg, at) == 1
    assert _digests(store, notify_cfg, at + timedelta(minutes=10)) == 0  # the same hour: nothing new
    msgs = mail_sink.messages()
    assert len(msgs) == 2  # the immediate one and the digest
    digest = msgs[1]
    assert digest["X-Sink-Rcpt-To"] == "gongzuozu@example.gov.cn, jianceyuan@example.gov.cn"
    assert str(digest["Subject"]) == "【舆情摘要】11-30 09:30—10:30 新增/升级预警 2 条"
    text = _plain(digest)
    assert "县一中补课收费问题" in text and "县一中校服价格质疑" in text and "县一中食堂出事了" not in text
    assert "[一般(IV级)] 示例县第一中学 · 询问/置疑/诉求" in text
    assert "https://yuqing.example.gov.cn/warnings/" in text
    assert "处置时限:2026-12-01 00:00" in text  # inquiry: the end of the same day, Beijing time
    # next hour: only what came since the last digest
    _minor(store, notify_cfg, "ev-d", "县一中作业太多", T0 + timedelta(minutes=50))
    assert _digests(store, notify_cfg, T0 + timedelta(minutes=65)) == 1
    text = _plain(mail_sink.messages()[2])
    assert "县一中作业太多" in text and "县一中补课收费问题" not in text
    # nothing new: no empty digest
    assert _digests(store, notify_cfg, T0 + timedelta(minutes=130)) == 0


def test_morning_brief_once_a_day(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    notify_cfg.alerts.digest_hourly = False
    _minor(store, notify_cfg, "ev-a", "县一中补课收费问题", T0 - timedelta(hours=20))  # overdue by now
    _minor(store, notify_cfg, "ev-b", "县一中食堂出事了", T0 - timedelta(hours=1), severity="II")
    with store.session() as s:
        s.add(SourceRunRow(source_id="demo-tieba", started_at=T0 - timedelta(hours=2),
                           finished_at=T0 - timedelta(hours=2), status="login_expired", message="需要登录"))
    before = datetime(2026, 11, 29, 23, 0, tzinfo=timezone.utc)  # 07:00 Beijing: too early
    with store.session() as s:
        assert enqueue_digests(s, notify_cfg, before) == 0
    assert _digests(store, notify_cfg, T0) == 1
    assert _digests(store, notify_cfg, T0 + timedelta(hours=3)) == 0
    brief = mail_sink.messages()[-1]
    assert str(brief["Subject"]) == "【舆情早报】2026年11月30日:新增预警 2 条,待处置 2 条,逾期 1 条"
    text = _plain(brief)
    assert "询问/置疑/诉求 2" in text and "重大(II级) 1" in text and "一般(IV级) 1" in text
    assert "二、逾期未处置 1 条" in text and "县一中补课收费问题" in text
    overdue_part = text.split("二、")[1].split("三、")[0]
    assert "县一中食堂出事了" not in overdue_part
    assert "登录失效" in text and "需要登录" in text
    # the next day, a new brief
    assert _digests(store, notify_cfg, T0 + timedelta(days=1)) == 1
