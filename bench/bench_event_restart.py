"""Event grouping after a restart: how often a copy rejoins its event when the grouper knows the events only
from their stored signatures, beside the in-process rule, for this module's signatures and for the 32-digit
ones stored before migration 0002; how often a new, distinct story is wrongly merged; load() time.

Usage: .venv/bin/python bench/bench_event_restart.py [--events N] [--probes N]
Stored events are stories of real COLD sentences (/work/shared/datasets/cold), drawn so that each sentence
occurs in many stories, as boilerplate does (the hard case for false merges). A copy at Jaccard J keeps a
prefix of its story and ends with the text of another story, cut so that the 3-gram Jaccard of the two
normalised texts is J ± 0.02. "in process" is the grouper that saw the original, deciding on the copy.
The service rebuilds its grouper from the store every cycle, so the restart figures are what it does.
Prints figures only.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.events import (  # noqa: E402
    SHINGLE,
    EventGrouper,
    legacy_signatures_of,
    minhash_many,
    normalise,
    signatures_of,
)
from analysis.events_check import story_corpus  # noqa: E402
from yuqing.model import Post, post_id_for  # noqa: E402

LEVELS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def shingles(text: str) -> set[str]:
    t = normalise(text)
    return {t[i : i + SHINGLE] for i in range(len(t) - SHINGLE + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def post(text: str, key: str) -> Post:
    url = f"http://127.0.0.1/restart/{key}"
    return Post(id=post_id_for(url), url=url, content=text)


def copy_at(rng: random.Random, text: str, other: str, target: float) -> str | None:
    """A prefix of ``text`` followed by ``other``'s text, cut to a 3-gram Jaccard of target ± 0.02."""
    base = shingles(text)
    lo, hi = 0, len(text)
    for _ in range(14):  # Jaccard grows with the prefix: bisect on its length
        mid = (lo + hi) // 2
        candidate = text[:mid] + other[: len(text) - mid]
        j = jaccard(base, shingles(candidate))
        if abs(j - target) <= 0.02:
            return candidate
        lo, hi = (mid, hi) if j < target else (lo, mid)
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--probes", type=int, default=500, help="copies per Jaccard level")
    args = ap.parse_args()
    cold = ROOT.parent / "shared" / "datasets" / "cold" / "train.csv"
    with cold.open(encoding="utf-8-sig") as f:
        sentences = [row["TEXT"] for row in csv.DictReader(f)]
    corpus = story_corpus(sentences, stories=args.events + 5_000, copies=0, seed=21)
    texts = [p.content for p in corpus.posts]
    stored_texts, fresh_texts = texts[: args.events], texts[args.events :]
    print(f"{len(stored_texts):,} stored events (stories of COLD sentences, each sentence in about "
          f"{len(stored_texts) * 6 // len(sentences)} stories), {args.probes} copies per level")

    t0 = time.perf_counter()
    mhs, lengths = minhash_many(stored_texts)
    sigs = signatures_of(mhs, lengths - SHINGLE + 1)
    legacy = legacy_signatures_of(mhs)
    print(f"signatures of {len(stored_texts):,} events: {time.perf_counter() - t0:.2f} s")
    ids = [f"e{i}" for i in range(len(stored_texts))]

    loaded = {}
    for label, signatures in (("260 digits", sigs), ("32 digits (before 0002)", legacy)):
        g = EventGrouper()
        t0 = time.perf_counter()
        g.load(zip(ids, signatures, strict=True))
        print(f"load() of {len(ids):,} events, {label}: {time.perf_counter() - t0:.3f} s")
        loaded[label] = g

    rng = random.Random(4)
    print(f"\ncopy rejoins its event (of {len(ids):,} loaded):")
    print(f"  {'Jaccard':>8} {'in process':>11} {'260 digits':>11} {'32 digits':>10} {'same as in process':>19}")
    for level in LEVELS:
        probes: list[tuple[int, str]] = []
        while len(probes) < args.probes:
            i = rng.randrange(len(stored_texts))
            copy = copy_at(rng, stored_texts[i], fresh_texts[rng.randrange(len(fresh_texts))], level)
            if copy is not None:
                probes.append((i, copy))
        inproc = []
        for n, (i, copy) in enumerate(probes):
            g = EventGrouper()
            first = g.assign(post(stored_texts[i], f"orig-{level}-{n}"))
            inproc.append(g.assign(post(copy, f"copy-{level}-{n}")).event_id == first.event_id)
        rates = {}
        for label, g in loaded.items():
            # a copy of each grouper: probes that started their own events must not meet the next level's
            restarted = EventGrouper()
            restarted.__dict__.update({k: v for k, v in g.__dict__.items() if k.startswith(("_loaded", "_legacy"))})
            t0 = time.process_time()
            rates[label] = [restarted.assign(post(copy, f"copy-{level}-{n}")).event_id == ids[i]
                            for n, (i, copy) in enumerate(probes)]
            cpu = time.process_time() - t0
            rates[label + " speed"] = len(probes) / cpu if cpu else float("inf")
        new, old = rates["260 digits"], rates["32 digits (before 0002)"]
        same = sum(a == b for a, b in zip(new, inproc, strict=True)) / len(probes)
        print(f"  {level:>8.1f} {sum(inproc) / len(probes):>11.3f} {sum(new) / len(probes):>11.3f} "
              f"{sum(old) / len(probes):>10.3f} {same:>19.3f}   "
              f"({rates['260 digits speed']:,.0f} / {rates['32 digits (before 0002) speed']:,.0f} posts/s)")

    # False merges: new stories (not stored) drawn from the same sentences, so sharing some with stored ones.
    fresh = fresh_texts[: min(5_000, len(fresh_texts))]
    print(f"\n{len(fresh):,} new distinct stories wrongly joining a loaded event:")
    for label, g in loaded.items():
        restarted = EventGrouper()
        restarted.__dict__.update({k: v for k, v in g.__dict__.items() if k.startswith(("_loaded", "_legacy"))})
        merged = sum(not a.is_new for a in restarted.assign_many([post(t, f"fresh-{n}") for n, t in
                                                                  enumerate(fresh)]))
        print(f"  {label:<26} {merged / len(fresh):.4f} ({merged})")
    inproc_g = EventGrouper()
    t0 = time.process_time()
    for k in range(0, len(stored_texts), 500):
        inproc_g.assign_many([post(t, f"stored-{k + n}") for n, t in enumerate(stored_texts[k : k + 500])])
    merged = sum(not a.is_new for a in inproc_g.assign_many([post(t, f"fresh-{n}") for n, t in enumerate(fresh)]))
    print(f"  {'in process (all stored)':<26} {merged / len(fresh):.4f} ({merged}; "
          f"{time.process_time() - t0:.1f} s CPU to group the stored stories in process)")


if __name__ == "__main__":
    main()
