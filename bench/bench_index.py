"""Search index figures: bulk indexing into the local Elasticsearch node and into SQLite FTS5,
and filtered + aggregated searches over a large FTS5 index.

Usage: .venv/bin/python bench/bench_index.py [--es-docs N] [--fts-docs N] [--big N] [--skip-es]
Targets (issue 5): ≥ 5,000 posts/s into the node, ≥ 10,000 posts/s into FTS5, a filtered and
aggregated search over 1,000,000 posts in FTS5 under 200 ms. Prints figures; asserts nothing.
The node is the one scripts/es.sh runs (started if needed and then left as it was found).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerting.index import SearchQuery, open_index  # noqa: E402
from alerting.index.corpus import sample_docs  # noqa: E402
from alerting.index.tokens import WordCutter  # noqa: E402


def _docs(n: int, seed: int, words: bool) -> list:  # type: ignore[type-arg]
    from dataclasses import replace

    cut = WordCutter()
    docs = list(sample_docs(n, seed=seed))
    return [replace(d, words=tuple(cut(f"{d.title}\n{d.content}"))) for d in docs] if words else docs


def bench_segmentation(n: int = 20_000) -> None:
    docs = _docs(n, 1, words=False)
    cut = WordCutter()
    t = time.perf_counter()
    for d in docs:
        cut(f"{d.title}\n{d.content}")
    dt = time.perf_counter() - t
    chars = sum(len(d.title) + len(d.content) for d in docs) / n
    print(f"segmentation (rjieba + county phrases): {n / dt:,.0f} posts/s (avg {chars:.0f} chars)")


def es_url() -> tuple[str, bool]:
    env = os.environ.get("YUQING_TEST_ES_URL")
    if env:
        return env, False
    es_sh = ROOT / "scripts" / "es.sh"
    running = subprocess.run(["bash", str(es_sh), "url"], capture_output=True, text=True)
    if running.returncode == 0:
        return running.stdout.strip(), False
    up = subprocess.run(["bash", str(es_sh), "up"], capture_output=True, text=True, check=True)
    return up.stdout.strip(), True


def bench_es(n: int) -> None:
    url, started = es_url()
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    index = open_index(url, prefix=prefix)
    try:
        index.ensure()
        docs = _docs(n, 2, words=True)
        t = time.perf_counter()
        report = index.index(docs)
        index.refresh()
        dt = time.perf_counter() - t
        print(f"Elasticsearch bulk ({url}): {report.indexed:,} posts in {dt:.1f} s = {report.indexed / dt:,.0f} posts/s"
              f" (pre-segmented; failed {len(report.failed)}, retried {report.retries})")
        raw = _docs(min(n, 20_000), 3, words=False)
        t = time.perf_counter()
        report = index.index(raw)
        dt = time.perf_counter() - t
        print(f"Elasticsearch bulk incl. segmentation: {report.indexed / dt:,.0f} posts/s")
        index.refresh()
        _searches(index, "Elasticsearch", index.count())
    finally:
        index.delete_all()
        index.close()
        if started:
            subprocess.run(["bash", str(ROOT / "scripts" / "es.sh"), "down"], capture_output=True)


def bench_fts_bulk(n: int, work: Path) -> None:
    index = open_index(f"sqlite:///{work / 'bulk.db'}")
    index.ensure()
    docs = _docs(n, 4, words=False)  # FTS5 matches on characters: no segmentation
    t = time.perf_counter()
    for start in range(0, n, 5000):
        index.index(docs[start : start + 5000])
    dt = time.perf_counter() - t
    print(f"FTS5 bulk: {n:,} posts in {dt:.1f} s = {n / dt:,.0f} posts/s (5,000 per transaction)")
    index.close()


QUERIES = [
    ("食堂 + one school + 30 days", SearchQuery(text="食堂", schools=["xian-yizhong"],
                                              since=datetime(2026, 3, 1, tzinfo=timezone.utc),
                                              until=datetime(2026, 4, 1, tzinfo=timezone.utc))),
    ("收费 OR 补课 -县二中, sensitive", SearchQuery(text="收费 OR 补课 -县二中",
                                                  categories=["inquiry", "incident", "fabrication"])),
    ("same, newest first", SearchQuery(text="收费 OR 补课 -县二中", categories=["inquiry", "incident", "fabrication"],
                                       sort="newest")),
    ("no text: new high-severity warnings", SearchQuery(statuses=["new"], severities=["I", "II"])),
    ("phrase \"县一中 食堂饭菜\", newest", SearchQuery(text='"县一中 食堂饭菜"', sort="newest")),
    ("overview: no text, no filter", SearchQuery(sort="newest")),
]


def _searches(index, name: str, total: int) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    for label, q in QUERIES:
        q = replace(q, aggregations=["day", "school", "category", "severity"], size=20)
        index.search(q)  # warm the caches once
        times, hits = [], 0
        for _ in range(5):
            r = index.search(q)
            times.append(r.took_ms)
            hits = r.total
        print(f"{name} search over {total:,} posts, {label}: median {statistics.median(times):.0f} ms,"
              f" max {max(times):.0f} ms ({hits:,} hits, 4 aggregations, page of 20 with highlights)")


def bench_fts_big(n: int, work: Path) -> None:
    path = work / "big.db"
    index = open_index(f"sqlite:///{path}")
    index.ensure()
    t = time.perf_counter()
    gen = sample_docs(n, seed=6)
    while True:
        batch = list(islice(gen, 10_000))
        if not batch:
            break
        index.index(batch)
    dt = time.perf_counter() - t
    print(f"FTS5 built with {n:,} posts in {dt:.0f} s ({n / dt:,.0f} posts/s incl. generating them;"
          f" file {path.stat().st_size / 2**20:,.0f} MiB)")
    _searches(index, "FTS5", n)
    index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--es-docs", type=int, default=50_000)
    parser.add_argument("--fts-docs", type=int, default=50_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--skip-es", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-index-") as tmp:
        work = Path(tmp)
        bench_segmentation()
        bench_fts_bulk(args.fts_docs, work)
        if not args.skip_es:
            bench_es(args.es_docs)
        if args.big:
            bench_fts_big(args.big, work)


if __name__ == "__main__":
    main()
