"""Apprise channel for a recipient group: the same notice as the e-mail, to a webhook (here a local one)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from alerting.notify.sender import deliver_pending
from alerting.rules import raise_warnings
from alerting.store import Store
from alerting.store.tables import OutboxRow
from tests.plugins.notify import T0, PostSpec, write_event
from yuqing.config import Config


class Hook:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server hook name
                length = int(self.headers.get("Content-Length") or 0)
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def test_group_webhook_gets_the_alert_with_retry(notify_cfg: Config, store: Store, hook: Hook,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUQING_TEST_APPRISE", f"json://127.0.0.1:{hook.port}/hook")
    group = next(g for g in notify_cfg.alerts.recipients if g.name == "leaders")
    group.apprise_urls_env = "YUQING_TEST_APPRISE"
    write_event(store, "ev", [PostSpec("县一中食堂事件", "示例县第一中学食堂 学生腹痛")], severity="II")
    hook.status = 500  # the webhook is failing at first
    with store.session() as s:
        raise_warnings(s, notify_cfg, ["ev"], T0)
    first = deliver_pending(store, notify_cfg, now=T0)
    assert first.sent == 1 and first.failed == 1  # the e-mail went, the webhook did not
    with store.session() as s:
        row = s.scalars(select(OutboxRow).where(OutboxRow.channel == "apprise")).one()
        assert row.key.startswith("apprise:leaders:mail:warning:") and row.attempts == 1
        assert "json://" not in row.last_error and str(hook.port) not in row.last_error  # URLs hold tokens
    hook.status = 200
    assert deliver_pending(store, notify_cfg, now=T0 + timedelta(minutes=5)).sent == 1
    assert deliver_pending(store, notify_cfg, now=T0 + timedelta(hours=1)).sent == 0
    assert len(hook.bodies) == 2  # the refused try and the accepted one
    body = hook.bodies[-1]
    assert body["title"].startswith("【重大(II级)预警】示例县第一中学") and "处置时限" in body["message"]
