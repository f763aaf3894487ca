"""Review UI figures: the queue and warning pages, exports and logins over a large queue.

Usage: .venv/bin/python bench/bench_review.py [--warnings N] [--posts-per-warning K] [--repeat R]
Seeds N warnings (K posts each) into a fresh SQLite store, then times the service calls and the
pages through the ASGI app in-process (no network). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warnings", type=int, default=2000)
    parser.add_argument("--posts-per-warning", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    from alerting.accounts import Actor, ensure_demo_users
    from alerting.queue import QueueFilter, list_queue
    from alerting.reports.export import export_form
    from alerting.store import Store
    from tests.plugins.web import login, seed_warning
    from yuqing.config import load_config
    from yuqing.model import Role
    from yuqing.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    work = Path(tempfile.mkdtemp(prefix="yuqing-bench-review-"))
    try:
        shutil.copytree(ROOT / "config", work / "config")
        (work / "config" / "storage.yaml").write_text(f"data_dir: {work / 'data'}\n", encoding="utf-8")
        cfg = load_config(work / "config")
        store = Store.from_config(cfg)
        schools = [s.id for s in cfg.schools]
        cats = ["inquiry", "incident", "fabrication", "suggestion"]
        sevs = ["IV", "III", "II", "I"]
        t0 = time.perf_counter()
        with store.session() as s:
            passwords = ensure_demo_users(s, cfg)
            for i in range(args.warnings):
                seed_warning(s, cfg, school=schools[i % len(schools)], category=cats[i % 4], severity=sevs[i % 4],
                             title=f"压测预警 {i}", n_posts=args.posts_per_warning)
        seeded = time.perf_counter() - t0
        print(f"seeded {args.warnings} warnings × {args.posts_per_warning} posts in {seeded:.1f} s")
        admin = Actor("admin", Role.admin)
        monitor = Actor("monitor_wang", Role.monitor, frozenset({"county-no1-high", "county-no2-high"}))

        def queue(actor: Actor) -> Callable[[], object]:
            def run() -> object:
                with store.session() as s:
                    return list_queue(s, cfg, actor, QueueFilter(status="open"))
            return run

        def export(fmt: str) -> Callable[[], object]:
            def run() -> object:
                with store.session() as s:
                    return export_form(s, cfg, admin, 1, fmt)
            return run

        rows = [
            ("list_queue (admin, all open)", *_timed(queue(admin), args.repeat)),
            ("list_queue (monitor, 2 schools)", *_timed(queue(monitor), args.repeat)),
            ("export 登记表 .docx", *_timed(export("docx"), args.repeat)),
            ("export 登记表 .xlsx", *_timed(export("xlsx"), args.repeat)),
        ]
        app = create_app(cfg, store)
        with TestClient(app, follow_redirects=False) as client:
            rows.append(("login (argon2id verify + page)",
                         *_timed(lambda: login(client, "officer_chen", passwords["officer_chen"]), 3)))
            rows.append((f"GET /queue (page 1 of {args.warnings})", *_timed(lambda: client.get("/queue"), args.repeat)))
            rows.append(("GET /warnings/1", *_timed(lambda: client.get("/warnings/1"), args.repeat)))
            rows.append(("GET /dashboard", *_timed(lambda: client.get("/dashboard"), args.repeat)))
        width = max(len(r[0]) for r in rows)
        print(f"{'operation':<{width}}  median ms    max ms")
        for name, med, worst in rows:
            print(f"{name:<{width}}  {med:9.1f}  {worst:8.1f}")
        store.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
