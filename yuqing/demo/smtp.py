"""A local mail sink: a real SMTP server (aiosmtpd) that stores each accepted message as an .eml file.

Used by ``yuqing demo`` (mail lands under the data folder) and by the alerting tests, which switch it
``set_down(True)`` to simulate an outage: every transaction then gets ``421`` so senders must retry.

Run alone: ``python -m yuqing.demo.smtp --dir data/mail --port 8025``.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import os
import signal
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

DOWN_REPLY = "421 4.3.2 Service not available, closing transmission channel (mail sink is down)"


class _PortZeroController(Controller):
    """aiosmtpd's Controller, able to listen on port 0 (it then learns the port the OS picked)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            sockets = getattr(self.server, "sockets", None) or []  # asyncio.Server, typed as AbstractServer
            self.port = int(sockets[0].getsockname()[1])
        super()._trigger_server()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it unannotated


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
    """SMTP on ``host:port`` (0 = any free port) storing messages in ``maildir`` as sortable .eml files."""

    def __init__(self, maildir: Path | str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.maildir = Path(maildir)
        self.host = host
        self.port = port
        self.down = False
        self.refused = 0  # transactions answered 421 while down
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._controller: _PortZeroController | None = None

    def start(self) -> tuple[str, int]:
        if self._controller is not None:
            return self.host, self.port
        self.maildir.mkdir(parents=True, exist_ok=True)
        controller = _PortZeroController(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            data_size_limit=50 * 1024 * 1024,
            decode_data=False,
            ready_timeout=10,
        )
        controller.start()
        self._controller = controller
        self.port = int(controller.port)
        return self.host, self.port

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

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
        header = f"X-Sink-Mail-From: {mail_from}\r\nX-Sink-Rcpt-To: {', '.join(rcpt_tos)}\r\n".encode()
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

    def clear(self) -> None:
        for path in self.files():
            path.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local SMTP mail sink storing .eml files.")
    parser.add_argument("--dir", required=True, help="folder for the .eml files")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    sink = MailSink(Path(args.dir), host=args.host, port=args.port)
    host, port = sink.start()
    print(f"{host}:{port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # a service manager's stop is a clean shutdown
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()


__all__ = ["DOWN_REPLY", "MailSink"]
