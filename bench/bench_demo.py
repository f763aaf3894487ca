"""Times the phases of `yuqing demo` on a fresh data folder and prints posts/s for analysis.

Usage: .venv/bin/python bench/bench_demo.py [--keep DIR]
Prints figures only; nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="use this folder for config and data and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="yuqing-bench-demo-"))
    cfg_dir = work / "config"
    if not cfg_dir.exists():
        shutil.copytree(ROOT / "config", cfg_dir)
    (cfg_dir / "storage.yaml").write_text(f"data_dir: {work / 'data'}\n", encoding="utf-8")

    from alerting.store import Store
    from alerting.store.posts import row_to_post
    from alerting.store.tables import PostRow
    from analysis.analyzer import Analyzer
    from yuqing.cycle import run_cycle
    from yuqing.demo.run import demo_environment

    t0 = time.perf_counter()
    with demo_environment(cfg_dir, lambda _msg: None) as (cfg, _sites, _sink):
        started = time.perf_counter() - t0
        summary = run_cycle(cfg, cfg_dir, lambda _msg: None)
        t1 = time.perf_counter()
        again = run_cycle(cfg, cfg_dir, lambda _msg: None)
        second = time.perf_counter() - t1
    print(f"demo sites + mail sink start: {started:.2f} s")
    for phase, secs in summary.timings.items():
        print(f"first run  {phase}: {secs:.2f} s")
    print(f"second run (nothing new) total: {second:.2f} s; new posts analysed: "
          f"{again.pipeline.analysed if again.pipeline else 0}")
    posts_total = sum(v[1] for v in summary.posts_by_source.values())
    print(f"posts stored: {posts_total}; warnings: {summary.warnings_total}; mails sent: {summary.mails_sent_now}")

    store = Store.from_config(cfg)
    with store.session() as s:
        posts = [row_to_post(r) for r in s.query(PostRow).all()]
    analyzer = Analyzer.from_config(cfg)
    analyzer.analyze_many(posts[:10])  # load dictionaries and model outside the timing
    reps = max(1, 5000 // max(1, len(posts)))
    t = time.perf_counter()
    for _ in range(reps):
        analyzer.analyze_many(posts)
    secs = time.perf_counter() - t
    n = reps * len(posts)
    print(f"analysis: {n} posts in {secs:.2f} s = {n / secs:.0f} posts/s (demo posts, mean length "
          f"{sum(len(p.text()) for p in posts) / max(1, len(posts)):.0f} chars)")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
