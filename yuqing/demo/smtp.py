"""A local mail sink: a real SMTP server (aiosmtpd) that stores each accepted message as an .eml file.

Used by ``yuqing demo`` (mail lands under the data folder) and by the alerting tests, which switch it
``set_down(True)`` to simulate an outage: every transaction then gets ``421`` so senders must retry.

Run alone: ``python -m yuqing.demo.smtp --dir data/mail --port 8025``.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import ipaddress
import itertools
import os
import signal
import ssl
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

DOWN_REPLY = "421 4.3.2 Service not available, closing transmission channel (mail sink is down)"


class _PortZeroController(Controller):
    """aiosmtpd's Controller, able to listen on port 0 (it then learns the port the OS picked)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            sockets = getattr(self.server, "sockets", None) or []  # asyncio.Server, typed as AbstractServer
            self.port = int(sockets[0].getsockname()[1])
        super()._trigger_server()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it unannotated

    def factory(self) -> SMTP:
        return _SMTP(self.handler, **self.SMTP_kwargs)


class _SMTP(SMTP):
    """aiosmtpd counts only STARTTLS as TLS and so hides AUTH on an implicit-TLS (ssl) connection, which
    is encrypted from the first byte; this lets AUTH through on such a connection."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if transport.get_extra_info("ssl_object") is not None:
            self._auth_require_tls = False
        super().connection_made(transport)


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_MAIL(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self.sink.down:
            self.sink.refused += 1
            return DOWN_REPLY
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.sink.down:
            return DOWN_REPLY
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.sink.down:  # went down mid-transaction
            return DOWN_REPLY
        content = envelope.original_content or b""
        self.sink.store(envelope.mail_from or "", list(envelope.rcpt_tos), content)
        return "250 Message accepted for delivery"


class MailSink:
    """SMTP on ``host:port`` (0 = any free port) storing messages in ``maildir`` as sortable .eml files.

    ``security`` is ``none`` (plain SMTP), ``starttls`` (STARTTLS required before MAIL) or ``ssl``
    (implicit TLS, as on port 465), with a self-signed certificate for 127.0.0.1 whose PEM is ``cafile``.
    ``auth=(user, password)`` requires SMTP AUTH (PLAIN/LOGIN) with those credentials.
    """

    def __init__(
        self,
        maildir: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        security: str = "none",
        auth: tuple[str, str] | None = None,
    ) -> None:
        if security not in ("none", "starttls", "ssl"):
            raise ValueError(f"security must be none, starttls or ssl, not {security!r}")
        self.maildir = Path(maildir)
        self.host = host
        self.port = port
        self.security = security
        self.auth = auth
        self.down = False
        self.refused = 0  # transactions answered 421 while down
        self.auth_failures = 0
        self.cafile: Path | None = None
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._controller: _PortZeroController | None = None

    def start(self) -> tuple[str, int]:
        if self._controller is not None:
            return self.host, self.port
        self.maildir.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {}
        if self.security != "none":
            context = self._tls_context()
            if self.security == "ssl":
                options["ssl_context"] = context
            else:
                options.update(tls_context=context, require_starttls=True)
        if self.auth is not None:
            options.update(
                auth_required=True, auth_require_tls=self.security != "none", authenticator=self._authenticate
            )
        controller = _PortZeroController(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            data_size_limit=50 * 1024 * 1024,
            decode_data=False,
            ready_timeout=10,
            **options,
        )
        controller.start()
        self._controller = controller
        self.port = int(controller.port)
        return self.host, self.port

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = None
            self.cafile = None

    def _tls_context(self) -> ssl.SSLContext:
        """A server context with a fresh self-signed certificate for this host (kept in a temp folder)."""
        self._tls_dir = tempfile.TemporaryDirectory(prefix="mailsink-tls-")
        cert, key = _self_signed(self.host, Path(self._tls_dir.name))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.cafile = cert
        return context

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.auth is not None
        ok = (
            isinstance(auth_data, LoginPassword)
            and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            )
            == self.auth
        )
        if not ok:
            self.auth_failures += 1
        return AuthResult(success=ok, handled=False)  # let aiosmtpd answer 535 on failure

    def __enter__(self) -> MailSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_down(self, down: bool = True) -> None:
        """While down, every transaction is answered 421 (a temporary failure: the sender must retry)."""
        self.down = down

    def store(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> Path:
        """Write one message; names sort by arrival (time, then a counter) and never collide."""
        received = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        header = (
            f"X-Sink-Mail-From: {mail_from}\r\nX-Sink-Rcpt-To: {', '.join(rcpt_tos)}\r\n"
            f"X-Sink-Received-At: {received}\r\n"  # when the sink accepted it (time-to-warning figures)
        ).encode()
        with self._lock:
            name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._seq):06d}.eml"
            path = self.maildir / name
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(header + content)
            tmp.replace(path)  # readers never see half a message
        return path

    def files(self) -> list[Path]:
        return sorted(self.maildir.glob("*.eml"))

    def messages(self) -> list[EmailMessage]:
        """Every stored message, oldest first, parsed with the modern email policy."""
        out = []
        for path in self.files():
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out

    def wait_for(self, count: int, timeout: float = 60.0) -> list[EmailMessage]:
        """Block until at least ``count`` messages are stored (or the timeout passes); return them all."""
        deadline = time.monotonic() + timeout
        while len(self.files()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages()

    def clear(self) -> None:
        for path in self.files():
            path.unlink()


def _self_signed(host: str, folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for ``host`` (an IP address or a name), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt, x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local SMTP mail sink storing .eml files.")
    parser.add_argument("--dir", required=True, help="folder for the .eml files")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--security", choices=("none", "starttls", "ssl"), default="none")
    parser.add_argument("--user", default=None, help="require SMTP AUTH as this user")
    parser.add_argument("--password-env", default="MAILSINK_PASSWORD", help="variable holding the AUTH password")
    args = parser.parse_args(argv)
    auth = (args.user, os.environ.get(args.password_env, "")) if args.user else None
    sink = MailSink(Path(args.dir), host=args.host, port=args.port, security=args.security, auth=auth)
    stop = threading.Event()
    # A service manager's stop is a clean shutdown; set before the address is printed, so that whoever
    # reads it may stop us at once.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    host, port = sink.start()
    print(f"{host}:{port}", flush=True)
    if sink.cafile is not None:
        print(f"cafile: {sink.cafile}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()


__all__ = ["DOWN_REPLY", "MailSink"]
