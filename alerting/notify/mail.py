"""The only module that speaks SMTP: builds multipart messages and sends them over one connection.

Security ``none`` / ``starttls`` / ``ssl`` as configured; the password is read from the environment
(or a file) at connect time and never appears in an error text this module returns.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from types import TracebackType

from yuqing.config import Smtp


class MailError(Exception):
    """A message was not accepted. ``transient`` failures (4xx, connection) are retried; the
    connection is unusable afterwards when ``connection_lost``."""

    def __init__(self, message: str, *, transient: bool = True, connection_lost: bool = False):
        super().__init__(message)
        self.transient = transient
        self.connection_lost = connection_lost


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    to: list[str]
    subject: str
    text: str
    html: str | None


def build_message(sender: str, out: Outgoing, date: str | None = None) -> EmailMessage:
    """A plain-text message with an HTML alternative; UTF-8 throughout (Chinese subjects and names)."""
    msg = EmailMessage()
    name, addr = parseaddr(sender)
    msg["From"] = Address(display_name=name, addr_spec=addr) if name else addr
    msg["To"] = ", ".join(out.to)
    msg["Subject"] = out.subject
    msg["Message-ID"] = out.message_id
    if date is not None:
        msg["Date"] = date
    msg.set_content(out.text, charset="utf-8")
    if out.html is not None:
        msg.add_alternative(out.html, subtype="html", charset="utf-8")
    return msg


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """SMTP AUTH. smtplib only encodes ASCII credentials; others go as AUTH PLAIN in UTF-8 (RFC 4616)."""
    if user.isascii() and password.isascii():
        client.login(user, password)
        return
    client.ehlo_or_helo_if_needed()
    if "plain" not in client.esmtp_features.get("auth", "").lower().split():
        raise smtplib.SMTPException("服务器不支持 AUTH PLAIN,无法使用非 ASCII 的用户名或密码")
    token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, resp = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


class Mailer:
    """One SMTP session for a batch of messages: ``with Mailer(smtp) as m: m.send(out)``."""

    def __init__(self, smtp: Smtp, ca_file: str | None = None):
        self.smtp = smtp
        self.ca_file = ca_file
        self._client: smtplib.SMTP | None = None
        self._password: str | None = None

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def connect(self) -> None:
        cfg = self.smtp
        try:
            self._password = cfg.password()
        except OSError as exc:  # an unreadable password file
            raise MailError(f"无法读取SMTP密码文件:{type(exc).__name__}", connection_lost=True) from None
        try:
            if cfg.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds,
                                                        context=self._context())
            else:
                client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
            self._client = client
            client.ehlo()
            if cfg.security == "starttls":
                client.starttls(context=self._context())
                client.ehlo()
            if cfg.username:
                _login(client, cfg.username, self._password or "")
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise MailError(f"SMTP登录失败({exc.smtp_code})", transient=True, connection_lost=True) from None
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            self.close()
            raise MailError(self._describe("无法连接SMTP服务器", exc), connection_lost=True) from None

    def _describe(self, what: str, exc: BaseException) -> str:
        # The exception text is the server's reply or the socket error: it never holds the
        # password, but scrub it anyway in case a server echoes what it was sent.
        detail = _scrub(str(exc), self._password)
        host = f"{self.smtp.host}:{self.smtp.port}"
        return f"{what} {host}:{type(exc).__name__} {detail}"[:1000]

    def send(self, out: Outgoing, date: str | None = None) -> list[str]:
        """Send one message; returns the recipients refused while others accepted it (the message was
        delivered: retrying would duplicate it for those who have it)."""
        if self._client is None:
            self.connect()
        assert self._client is not None
        msg = build_message(self.smtp.sender, out, date)
        envelope_from = parseaddr(self.smtp.sender)[1]
        try:
            refused = self._client.send_message(msg, from_addr=envelope_from, to_addrs=out.to)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            raise MailError(self._describe("收件人全部被拒绝", exc), transient=all(c < 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            lost = exc.smtp_code == 421  # the server closes the channel after a 421
            if lost:
                self.close()
            raise MailError(self._describe("SMTP服务器拒收", exc), transient=exc.smtp_code < 500,
                            connection_lost=lost) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(self._describe("发送中断", exc), connection_lost=True) from None
        return sorted(refused)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

