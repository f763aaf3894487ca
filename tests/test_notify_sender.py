"""Delivery through the outbox against a real SMTP server: outages, retries, TLS, credentials."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from alerting.notify.outbox import enqueue_mail, message_id
from alerting.notify.sender import backoff, deliver_pending
from alerting.store import Store
from alerting.store.tables import OutboxRow
from tests.plugins.notify import T0
from yuqing.config import Config, Smtp
from yuqing.demo.smtp import MailSink

SECRET = "s3cret-Пароль-口令-9f2c"


def _queue(store: Store, n: int, prefix: str = "t") -> None:
    with store.session() as s:
        for i in range(n):
            assert enqueue_mail(s, key=f"mail:test:{prefix}:{i}", to=["gongzuozu@example.gov.cn"],
                                subject=f"测试邮件 {i}", text=f"正文 {i}", html=f"<p>正文 {i}</p>", kind="test", now=T0)


def _rows(store: Store) -> list[OutboxRow]:
    with store.session() as s:
        return list(s.scalars(select(OutboxRow).where(OutboxRow.channel == "mail").order_by(OutboxRow.id)))


def test_enqueue_is_idempotent(store: Store) -> None:
    _queue(store, 1)
    with store.session() as s:
        assert not enqueue_mail(s, key="mail:test:t:0", to=["a@example.gov.cn"], subject="x", text="x", html=None,
                                kind="test", now=T0)
    assert len(_rows(store)) == 1


def test_outage_delays_but_never_drops_or_doubles(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    _queue(store, 5)
    mail_sink.set_down(True)
    first = deliver_pending(store, notify_cfg, now=T0)
    assert (first.sent, first.failed, first.waiting) == (0, 5, 5) and len(first.errors) == 1
    rows = _rows(store)
    assert all(r.attempts == 1 and r.delivered_at is None and "421" in r.last_error for r in rows)
    assert all(r.next_attempt_at == T0 + backoff(1) for r in rows)
    # still down a minute later; not yet due again before the backoff ends
    assert deliver_pending(store, notify_cfg, now=T0 + timedelta(seconds=10)).failed == 0
    second = deliver_pending(store, notify_cfg, now=T0 + timedelta(minutes=1))
    assert second.sent == 0 and {r.attempts for r in _rows(store)} == {2}
    assert all(r.next_attempt_at == T0 + timedelta(minutes=1) + backoff(2) for r in _rows(store))
    mail_sink.set_down(False)
    # the server is back, but the rows wait for their backoff: nothing sent before it ends
    assert deliver_pending(store, notify_cfg, now=T0 + timedelta(minutes=1, seconds=30)).sent == 0
    back = deliver_pending(store, notify_cfg, now=T0 + timedelta(minutes=3))
    assert (back.sent, back.failed, back.waiting) == (5, 0, 0)
    for _ in range(2):
        assert deliver_pending(store, notify_cfg, now=T0 + timedelta(hours=1)).sent == 0
    subjects = sorted(str(m["Subject"]) for m in mail_sink.messages())
    assert subjects == [f"测试邮件 {i}" for i in range(5)]
    assert all(r.delivered_at == T0 + timedelta(minutes=3) and r.last_error == "" for r in _rows(store))


def test_server_gone_entirely_then_back(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    _queue(store, 3)
    mail_sink.stop()  # connection refused
    report = deliver_pending(store, notify_cfg, now=T0)
    assert report.sent == 0 and report.waiting == 3
    assert all("无法连接SMTP服务器" in r.last_error for r in _rows(store))
    mail_sink.start()  # same port
    assert deliver_pending(store, notify_cfg, now=T0 + timedelta(hours=1)).sent == 3
    assert len(mail_sink.messages()) == 3


def test_resend_after_crash_keeps_the_message_id(notify_cfg: Config, store: Store, mail_sink: MailSink) -> None:
    """Accepted by the server, then the process died before marking the row: the resend is the same message."""
    _queue(store, 1)
    deliver_pending(store, notify_cfg, now=T0)
    with store.session() as s:  # what a crash between "250 accepted" and the commit leaves behind
        s.execute(update(OutboxRow).values(delivered_at=None, next_attempt_at=T0))
    deliver_pending(store, notify_cfg, now=T0 + timedelta(minutes=1))
    a, b = mail_sink.messages()
    assert a["Message-ID"] == b["Message-ID"] == message_id("mail:test:t:0", notify_cfg.alerts.smtp.sender)
    assert a["Date"] == b["Date"]
    assert a.get_body(preferencelist=("plain",)).get_content() == b.get_body(preferencelist=("plain",)).get_content()


def test_a_claimed_row_is_not_sent_twice_by_two_senders(notify_cfg: Config, store: Store,
                                                        mail_sink: MailSink) -> None:
    _queue(store, 1)
    with store.session() as s:  # another sender holds the lease
        s.execute(update(OutboxRow).values(next_attempt_at=T0 + timedelta(minutes=5)))
    assert deliver_pending(store, notify_cfg, now=T0).sent == 0
    assert mail_sink.messages() == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login(security: str, notify_cfg: Config, store: Store, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    with MailSink(tmp_path / "tls-mail", security=security, auth=("yuqing", SECRET)) as sink:
        monkeypatch.setenv("YUQING_TEST_SMTP_PASSWORD", SECRET)
        notify_cfg.alerts.smtp = Smtp(host=sink.host, port=sink.port, security=security, username="yuqing",
                                      password_env="YUQING_TEST_SMTP_PASSWORD", ca_file=str(sink.cafile),
                                      sender=notify_cfg.alerts.smtp.sender)
        _queue(store, 2)
        report = deliver_pending(store, notify_cfg, now=T0)
        assert (report.sent, report.failed) == (2, 0), report.errors
        assert len(sink.messages()) == 2 and sink.auth_failures == 0


def test_password_from_a_file(notify_cfg: Config, store: Store, tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("ascii-pw-123\n", encoding="utf-8")
    with MailSink(tmp_path / "tls-mail", security="starttls", auth=("yuqing", "ascii-pw-123")) as sink:
        notify_cfg.alerts.smtp = Smtp(host=sink.host, port=sink.port, security="starttls", username="yuqing",
                                      password_file=str(secret), ca_file=str(sink.cafile))
        _queue(store, 1)
        assert deliver_pending(store, notify_cfg, now=T0).sent == 1
        secret.unlink()  # unreadable now: reported, retried later, nothing lost
        _queue(store, 1, prefix="later")
        report = deliver_pending(store, notify_cfg, now=T0)
        assert report.sent == 0 and report.waiting == 1 and "无法读取SMTP密码文件" in report.errors[0]


def test_untrusted_certificate_is_refused(notify_cfg: Config, store: Store, tmp_path: Path) -> None:
    with MailSink(tmp_path / "tls-mail", security="starttls") as sink:
        notify_cfg.alerts.smtp = Smtp(host=sink.host, port=sink.port, security="starttls")
        _queue(store, 1)
        report = deliver_pending(store, notify_cfg, now=T0)
        assert report.sent == 0 and "SSLCertVerificationError" in _rows(store)[0].last_error
        assert sink.messages() == []


def test_password_never_in_last_error_or_logs(notify_cfg: Config, store: Store, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
                                              ) -> None:
    caplog.set_level(logging.DEBUG)
    with MailSink(tmp_path / "auth-mail", security="starttls", auth=("yuqing", "the-right-one")) as sink:
        monkeypatch.setenv("YUQING_TEST_SMTP_PASSWORD", SECRET)  # wrong password
        notify_cfg.alerts.smtp = Smtp(host=sink.host, port=sink.port, security="starttls", username="yuqing",
                                      password_env="YUQING_TEST_SMTP_PASSWORD", ca_file=str(sink.cafile))
        _queue(store, 2)
        report = deliver_pending(store, notify_cfg, now=T0)
        assert report.sent == 0 and sink.auth_failures >= 1
    rows = _rows(store)
    assert all("SMTP登录失败(535)" in r.last_error for r in rows)
    assert all(r.attempts == 1 for r in rows)
    for text in [*(r.last_error for r in rows), *report.errors, caplog.text]:
        assert SECRET not in text


def test_failures_show_on_the_dashboard(cfg: Config, web_store: Store, client_as: Any) -> None:
    with web_store.session() as s:
        enqueue_mail(s, key="mail:test:dash", to=["a@example.gov.cn"], subject="x", text="x", html=None, kind="test",
                     now=T0)
    cfg.alerts.smtp = Smtp(host="127.0.0.1", port=_closed_port())
    assert deliver_pending(web_store, cfg, now=T0).failed == 1
    page = client_as("officer_chen").get("/dashboard").text
    assert "通知发送失败 1 条" in page and "无法连接SMTP服务器" in page


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
