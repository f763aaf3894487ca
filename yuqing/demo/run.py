"""`yuqing demo`: the whole pipeline offline against the bundled demo sites and a local mail sink.

The demo sites and the mail sink get free ports on first use; the ports are remembered in the data
folder so that a second run sees the same URLs (same post ids) and therefore adds nothing new.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from yuqing.config import Config, load_config

Say = Callable[[str], None]


def _free_port(preferred: int | None) -> int:
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def _ports(data_dir: Path) -> dict[str, int]:
    path = data_dir / "demo-ports.json"
    known: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
    ports = {"sites": _free_port(known.get("sites")), "smtp": _free_port(known.get("smtp"))}
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ports))
    return ports


@contextmanager
def demo_environment(config_dir: Path, say: Say) -> Iterator[tuple[Config, Any, Any]]:
    """Start the demo sites and the mail sink, point the configuration at them, stop both at the end."""
    from yuqing.demo.content import build_corpus
    from yuqing.demo.sites import DemoSites
    from yuqing.demo.smtp import MailSink

    base = load_config(config_dir)
    ports = _ports(base.data_dir)
    corpus = build_corpus(base)
    sites = DemoSites(corpus, port=ports["sites"])
    url = sites.start()
    sink = MailSink(base.data_dir / "mail", port=ports["smtp"])
    host, port = sink.start()
    saved = {k: os.environ.get(k) for k in ("YUQING_DEMO_URL", "YUQING_SMTP_HOST", "YUQING_SMTP_PORT")}
    os.environ.update({"YUQING_DEMO_URL": url, "YUQING_SMTP_HOST": host, "YUQING_SMTP_PORT": str(port)})
    say(f"演示网站已启动: {url}  本地邮件服务: {host}:{port}")
    try:
        yield load_config(config_dir), sites, sink
    finally:
        sink.stop()
        sites.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def ensure_accounts(cfg: Config) -> dict[str, str]:
    """Demo accounts, one per role, with the passwords printed for the walk-through."""
    from alerting.accounts import ensure_demo_users
    from alerting.store import Store

    store = Store.from_config(cfg)
    with store.session() as s:
        accounts = ensure_demo_users(s, cfg)
    store.dispose()
    return accounts


def serve_ui(cfg: Config, port: int, say: Say) -> None:
    """Keep the web UI running on the demo data until Ctrl-C (the demo sites stay up too)."""
    import uvicorn

    from alerting.store import Store
    from yuqing.web.app import create_app

    store = Store.from_config(cfg)
    say(f"网页端: http://127.0.0.1:{port}/  (按 Ctrl-C 结束)")
    uvicorn.run(create_app(cfg, store), host="127.0.0.1", port=port, log_level="warning")
