"""Alerting figures: raising warnings with their mail, and delivering the outbox to a real SMTP server.

Usage: .venv/bin/python bench/bench_notify.py [--events N] [--outage]
Writes N analysed events into a fresh SQLite store (the sample configuration), times
``raise_warnings`` (warning + audit + composed mail in one transaction), then ``deliver_pending``
to a local aiosmtpd MailSink (one SMTP session per batch of 200), and the time from "queued" to
"accepted by the server". With --outage the sink refuses everything first, then comes back:
the figures show nothing lost and nothing doubled. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--outage", action="store_true", help="SMTP down for the first delivery round")
    args = parser.parse_args()

    from alerting.notify.sender import deliver_pending
    from alerting.rules import raise_warnings
    from alerting.store import Store
    from tests.plugins.notify import T0, PostSpec, write_event
    from yuqing.config import load_config
    from yuqing.demo.smtp import MailSink

    work = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    try:
        shutil.copytree(ROOT / "config", work / "config")
        (work / "config" / "storage.yaml").write_text(f"data_dir: {work / 'data'}\n", encoding="utf-8")
        sink = MailSink(work / "mail")
        host, port = sink.start()
        os.environ["YUQING_SMTP_HOST"], os.environ["YUQING_SMTP_PORT"] = host, str(port)
        cfg = load_config(work / "config")
        store = Store.from_config(cfg)
        ids = [f"ev{i:05d}" for i in range(args.events)]
        for i, eid in enumerate(ids):
            posts = [PostSpec(f"县一中事件{i} 第{k}帖", f"示例县第一中学 食堂 第{k}帖 " * 20) for k in range(3)]
            write_event(store, eid, posts, severity=("II", "III", "IV")[i % 3])
        t = time.perf_counter()
        with store.session() as s:
            warned = raise_warnings(s, cfg, ids, T0)
        raise_s = time.perf_counter() - t
        print(f"raise_warnings: {len(warned)} warnings from {len(ids)} events in {raise_s:.2f} s "
              f"({raise_s / max(len(warned), 1) * 1000:.1f} ms each, incl. composing the mail)")
        now = T0
        if args.outage:
            sink.set_down(True)
            r = deliver_pending(store, cfg, now=now)
            print(f"outage round: sent {r.sent}, failed {r.failed}, waiting {r.waiting}")
            sink.set_down(False)
            now += timedelta(hours=1)
        rounds = 0
        t = time.perf_counter()
        sent = 0
        while True:
            r = deliver_pending(store, cfg, now=now)
            rounds += 1
            sent += r.sent
            if r.waiting == 0 or (r.sent == 0 and r.failed == 0):
                break
        send_s = time.perf_counter() - t
        received = sink.messages()
        ids_seen = [m["Message-ID"] for m in received]
        print(f"deliver_pending: {sent} mails in {send_s:.2f} s over {rounds} rounds "
              f"({sent / max(send_s, 1e-9):.0f} mails/s)")
        print(f"sink received {len(received)} messages, {len(set(ids_seen))} distinct Message-IDs, "
              f"duplicates {len(ids_seen) - len(set(ids_seen))}")
        sink.stop()
        store.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
