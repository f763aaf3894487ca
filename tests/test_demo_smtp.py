"""The local mail sink: real SMTP over loopback, .eml files on disk, and a switchable outage (421)."""

from __future__ import annotations

import re
import smtplib
import ssl
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from tests.plugins.demo import module_process
from yuqing.demo.smtp import MailSink

ROOT = Path(__file__).resolve().parent.parent


def _message(subject: str, to: str = "gongzuozu@example.gov.cn") -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "示例县教育局舆情监测 <yuqing@example.gov.cn>"
    msg["To"] = to
    msg["Message-ID"] = make_msgid(domain="example.gov.cn")
    msg.set_content("示例县第一中学食堂多名学生呕吐住院，请尽快研判。")
    msg.add_alternative("<p>示例县第一中学食堂多名学生<b>呕吐住院</b>，请尽快研判。</p>", subtype="html")
    return msg


def _send(sink: MailSink, msg: EmailMessage, rcpt: list[str] | None = None) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.send_message(msg, to_addrs=rcpt)


def test_stores_and_parses_a_chinese_message(mail_sink: MailSink) -> None:
    subject = "【II级预警】示例县第一中学 · 恶意传播/炒作：食堂多名学生呕吐住院"
    _send(mail_sink, _message(subject), rcpt=["gongzuozu@example.gov.cn", "lingdao@example.gov.cn"])
    (path,) = mail_sink.files()
    assert path.parent == mail_sink.maildir and path.suffix == ".eml"
    (msg,) = mail_sink.messages()
    assert msg["Subject"] == subject
    assert "示例县教育局舆情监测" in str(msg["From"])
    assert msg["X-Sink-Rcpt-To"] == "gongzuozu@example.gov.cn, lingdao@example.gov.cn"  # the envelope (Bcc too)
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and "呕吐住院" in plain.get_content()
    assert html is not None and "<b>呕吐住院</b>" in html.get_content()
    # The raw file is a real RFC 5322 message: the Chinese subject is encoded, not raw UTF-8 bytes.
    raw = path.read_bytes()
    assert b"Subject: =?utf-8?" in raw


def test_file_names_are_unique_and_sort_by_arrival(mail_sink: MailSink) -> None:
    for n in range(12):
        _send(mail_sink, _message(f"第{n}封"))
    names = [p.name for p in mail_sink.files()]
    assert len(set(names)) == 12
    assert [m["Subject"] for m in mail_sink.messages()] == [f"第{n}封" for n in range(12)]
    assert all(re.fullmatch(r"\d{20}-\d+-\d{6}\.eml", n) for n in names)
    mail_sink.clear()
    assert mail_sink.messages() == []


def test_refuses_with_421_while_down_then_accepts(mail_sink: MailSink) -> None:
    mail_sink.set_down(True)
    with pytest.raises(smtplib.SMTPResponseException) as err:
        _send(mail_sink, _message("停机期间"))
    assert err.value.smtp_code == 421
    assert mail_sink.files() == [] and mail_sink.refused == 1
    mail_sink.set_down(False)
    _send(mail_sink, _message("恢复之后"))
    assert [m["Subject"] for m in mail_sink.messages()] == ["恢复之后"]


def test_messages_survive_a_restart_on_the_same_folder(tmp_path: Path) -> None:
    first = MailSink(tmp_path / "mail")
    first.start()
    try:
        _send(first, _message("重启前"))
    finally:
        first.stop()
    second = MailSink(tmp_path / "mail")
    second.start()
    try:
        _send(second, _message("重启后"))
        assert [m["Subject"] for m in second.messages()] == ["重启前", "重启后"]
    finally:
        second.stop()


def test_runs_as_a_process(tmp_path: Path) -> None:
    with module_process("yuqing.demo.smtp", "--dir", str(tmp_path / "out"), "--port", "0") as line:
        host, port = line.rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        with smtplib.SMTP(host, int(port), timeout=10) as client:
            client.send_message(_message("进程模式"))
        assert [m["Subject"] for m in MailSink(tmp_path / "out").messages()] == ["进程模式"]


def test_received_at_header_and_wait_for(mail_sink: MailSink) -> None:
    _send(mail_sink, _message("计时"))
    (msg,) = mail_sink.wait_for(1, timeout=10)
    received = datetime.fromisoformat(str(msg["X-Sink-Received-At"]))
    assert received.tzinfo is not None and abs(datetime.now(timezone.utc) - received) < timedelta(minutes=1)
    assert len(mail_sink.wait_for(2, timeout=0.2)) == 1  # gives up after the timeout


def test_starttls_with_auth(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail", security="starttls", auth=("yuqing", "s3cret-pw"))
    sink.start()
    try:
        assert sink.cafile is not None and sink.cafile.exists()
        context = ssl.create_default_context(cafile=str(sink.cafile))  # verifies the certificate for 127.0.0.1
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPException):  # no mail before STARTTLS
                client.send_message(_message("明文"))
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            client.starttls(context=context)
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.login("yuqing", "wrong")
            client.login("yuqing", "s3cret-pw")
            client.send_message(_message("加密并认证"))
        assert [m["Subject"] for m in sink.messages()] == ["加密并认证"]
        assert sink.auth_failures >= 1  # smtplib tries PLAIN, then LOGIN
    finally:
        sink.stop()
    assert sink.cafile is None  # the temporary certificate is gone


def test_implicit_tls(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail", security="ssl")
    sink.start()
    try:
        assert sink.cafile is not None
        context = ssl.create_default_context(cafile=str(sink.cafile))
        with smtplib.SMTP_SSL(sink.host, sink.port, timeout=10, context=context) as client:
            client.send_message(_message("SSL直连"))
        assert [m["Subject"] for m in sink.messages()] == ["SSL直连"]
    finally:
        sink.stop()
    with pytest.raises(ValueError):
        MailSink(tmp_path / "x", security="tls1.0")


def test_stop_then_start_again_on_the_same_port(mail_sink: MailSink) -> None:
    port = mail_sink.port
    mail_sink.stop()
    with pytest.raises(OSError):  # really down: connection refused
        smtplib.SMTP(mail_sink.host, port, timeout=5)
    assert mail_sink.start() == (mail_sink.host, port)
    _send(mail_sink, _message("重新启动后"))
    assert [m["Subject"] for m in mail_sink.messages()] == ["重新启动后"]
