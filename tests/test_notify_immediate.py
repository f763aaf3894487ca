"""A serious warning becomes one immediate e-mail to the working group, in Chinese, with both parts."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from alerting.notify.sender import deliver_pending
from alerting.rules import raise_warnings
from alerting.store import Store
from alerting.store.tables import AuditRow, OutboxRow, WarningRow
from tests.plugins.notify import T0, PostSpec, write_event
from yuqing.config import Config
from yuqing.demo.smtp import MailSink

FOOD = PostSpec("县一中食堂饭菜有问题?多名学生腹痛就医", "示例县第一中学食堂午饭后多名学生腹痛,家长质疑食品安全。")


def _parts(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_immediate_mail_exact_recipients_and_content(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    write_event(store, "ev-food", [FOOD], severity="III")
    with store.session() as s:
        (w,) = raise_warnings(s, notify_cfg, ["ev-food"], T0)
        wid = w.id
        assert w.status == "new" and w.alerted_severity == "III" and w.alerted_posts == 1
        assert w.deadline is not None and (w.deadline - T0).total_seconds() == 4 * 3600  # incident: 4 hours
    report = deliver_pending(store, notify_cfg, now=T0)
    assert (report.sent, report.failed, report.waiting) == (1, 0, 0)
    (msg,) = mail_sink.messages()
    assert msg["X-Sink-Rcpt-To"] == "gongzuozu@example.gov.cn, jianceyuan@example.gov.cn, lingdao@example.gov.cn"
    assert msg["Subject"] == "【较大(III级)预警】示例县第一中学·恶意传播/炒作:县一中食堂饭菜有问题?多名学生腹痛就医"
    assert msg["Message-ID"].endswith("@example.gov.cn>")
    text, html = _parts(msg)
    for part in (text, html):
        assert "示例县第一中学" in part and "较大(III级)" in part and "0.90" in part
        assert "食堂、中毒" in part  # explanation terms
        assert f"https://yuqing.example.gov.cn/warnings/{wid}" in part
        assert "2026-11-30 14:00" in part  # deadline, Beijing time (10:00 + 4 h)
        assert "家长质疑食品安全" in part  # summary
    with store.session() as s:
        row = s.scalars(select(OutboxRow).where(OutboxRow.channel == "mail")).one()
        assert row.delivered_at == T0 and row.payload["kind"] == "immediate"
        assert s.scalars(select(AuditRow.action).where(AuditRow.warning_id == wid)).all() == ["raise"]


def test_repeated_runs_mail_once(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    write_event(store, "ev-food", [FOOD], severity="II")
    for _ in range(3):
        with store.session() as s:
            raise_warnings(s, notify_cfg, ["ev-food"], T0)
        deliver_pending(store, notify_cfg, now=T0)
    # a repost of the same story: the event grows a little, no re-alert
    repost = PostSpec("转发:县一中食堂", "转发 示例县第一中学食堂 学生腹痛")
    write_event(store, "ev-food", [FOOD, repost], severity="II")
    with store.session() as s:
        assert raise_warnings(s, notify_cfg, ["ev-food"], T0) == []
        assert s.query(WarningRow).count() == 1
    deliver_pending(store, notify_cfg, now=T0)
    assert len(mail_sink.messages()) == 1


def test_crawled_text_is_escaped_in_html(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    evil = PostSpec("<script>alert(1)</script>县一中", "<img src=x onerror=alert(1)> 示例县第一中学",
                    url="javascript:alert(1)")
    write_event(store, "ev-xss", [evil], severity="II")
    with store.session() as s:
        raise_warnings(s, notify_cfg, ["ev-xss"], T0)
    deliver_pending(store, notify_cfg, now=T0)
    (msg,) = mail_sink.messages()
    _, html = _parts(msg)
    assert "<script>" not in html and "<img" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;" in html


def _weak(cfg: Config) -> float:
    """A sensitivity between the sensitive-period threshold and the normal one (both come from the config)."""
    t = cfg.alerts.thresholds
    assert t.sensitive_period_sensitivity < t.sensitivity
    return round((t.sensitivity + t.sensitive_period_sensitivity) / 2, 3)


def test_below_threshold_or_no_school_raises_nothing(notify_cfg: Config, store: Store) -> None:
    write_event(store, "ev-weak", [FOOD], sensitivity=_weak(notify_cfg))
    write_event(store, "ev-elsewhere", [PostSpec("外县一中食堂", "某市第一中学食堂", relevant=False)])
    write_event(store, "ev-none", [PostSpec("县一中运动会", "示例县第一中学运动会")], category="none")
    with store.session() as s:
        assert raise_warnings(s, notify_cfg, ["ev-weak", "ev-elsewhere", "ev-none"], T0) == []


def test_lower_threshold_in_sensitive_period(notify_cfg: Config, store: Store) -> None:
    write_event(store, "ev-weak", [FOOD], sensitivity=_weak(notify_cfg))
    zhongkao = T0.replace(year=2026, month=6, day=16)
    with store.session() as s:
        (w,) = raise_warnings(s, notify_cfg, ["ev-weak"], zhongkao)
        assert w.sensitivity == _weak(notify_cfg)


def test_minor_warning_waits_for_the_digest(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    write_event(store, "ev-minor", [FOOD], severity="IV")
    with store.session() as s:
        (w,) = raise_warnings(s, notify_cfg, ["ev-minor"], T0)
        assert s.query(OutboxRow).filter(OutboxRow.channel == "mail").count() == 0
    assert deliver_pending(store, notify_cfg, now=T0).sent == 0
    assert mail_sink.messages() == []


def test_long_subject_survives_header_folding(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    three = PostSpec("示例县二中学生打架视频流出 多校学生卷入 家长担忧校园安全问题", "示例县第二中学 学生打架",
                     schools=["county-no2-high", "nanling-school", "county-vocational"])
    write_event(store, "ev-fight", [three], severity="III")
    with store.session() as s:
        raise_warnings(s, notify_cfg, ["ev-fight"], T0)
        payload = s.scalars(select(OutboxRow.payload)).one()
    deliver_pending(store, notify_cfg, now=T0)
    (msg,) = mail_sink.messages()
    assert msg["Subject"] == payload["subject"]  # nothing lost in folding and decoding
    assert msg["Subject"] == ("【较大(III级)预警】示例县第二中学、示例县南岭镇九年一贯制学校等3所学校·恶意传播/炒作:"
                              "示例县二中学生打架视频流出 多校学生卷入 家长担忧校园安全…")


def test_a_thread_and_its_replies_are_one_line_in_the_mail(notify_cfg: Config, store: Store,
                                                           mail_sink: MailSink) -> None:
    # Replies carry their thread's URL; listing each would repeat one link many times.
    url = "https://tieba.example.com/p/123"
    posts = [PostSpec(FOOD.title, FOOD.content, url=url)]
    posts += [PostSpec(FOOD.title, f"回复{i}:孩子也吐了,食堂得查", url=url) for i in range(3)]
    posts.append(PostSpec("县一中食堂的事有人知道吗", "听说好多学生去医院了", url="https://bbs.example.com/t/9"))
    write_event(store, "ev-thread", posts, severity="III")
    with store.session() as s:
        raise_warnings(s, notify_cfg, ["ev-thread"], T0)
    deliver_pending(store, notify_cfg, now=T0)
    (msg,) = mail_sink.messages()
    text, html = _parts(msg)
    for part in (text, html):
        assert part.count(url) == 1 and part.count("https://bbs.example.com/t/9") == 1
        assert "本页相关帖子 4 条" in part
