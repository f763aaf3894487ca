"""Throughput of the whole analysis (segment, match schools, classify, group into events) for ~200-character
posts, side by side with a plain-jieba pipeline in the same run; memory; and event grouping on 100,000 posts.

Usage: .venv/bin/python bench/bench_analysis.py [--posts N] [--events N] [--quick] [--model PATH | --lexicon]
"posts/s per core" divides by the process's CPU time (all threads), so other load on the machine does not
flatter or hurt it the way wall time does; wall time is printed beside it. Prints figures only.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BATCH = 500
# One BLAS thread: figures are per core of CPU time, and an idle OpenBLAS worker spins for a while after each
# call (the plain pipeline's fit, a stacker's predict_proba), which the process's CPU time would count.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def timed(label: str, n: int, fn: Callable[[], Any], note: str = "") -> float:
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    rate = n / cpu if cpu else float("inf")
    print(f"  {label:<50} {rate:>9,.0f} posts/s per core {cpu / n * 1e6:6.1f} µs/post"
          f"  ({cpu:6.2f} s CPU, {wall:6.2f} s wall){note}")
    return rate


def rss_mb() -> tuple[float, float]:
    import psutil

    now = psutil.Process(os.getpid()).memory_info().rss / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return now, peak


def in_batches(items: list[Any], fn: Callable[[list[Any]], Any]) -> None:
    for i in range(0, len(items), BATCH):
        fn(items[i : i + BATCH])


def plain_pipeline(cfg: Any, train: list[Any]) -> Callable[[list[Any]], None]:
    """The obvious implementation: jieba.lcut (HMM on), a stock TfidfVectorizer over its words and a
    logistic regression, then the same school matcher and event grouper."""
    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from analysis.events import EventGrouper
    from analysis.schools import SchoolMatcher

    jieba.setLogLevel(60)
    jieba.initialize()
    vec = TfidfVectorizer(analyzer=lambda words: words, ngram_range=(1, 1))
    x = vec.fit_transform([jieba.lcut(p.text()) for p in train])
    y = [p.extra["truth"]["category"] for p in train]
    clf = LogisticRegression(max_iter=500).fit(x, y)
    matcher = SchoolMatcher.from_config(cfg)
    grouper = EventGrouper()

    def run(posts: list[Any]) -> None:
        texts = [p.text() for p in posts]
        clf.predict_proba(vec.transform([jieba.lcut(t) for t in texts]))
        for t in texts:
            matcher.match(t)
        grouper.assign_many(posts)

    return run


def own_steps(analyzer: Any, posts: list[Any]) -> None:
    """What Analyzer._analyze does besides segmenting, classifying, matching schools and topics, on fixed
    classifier answers: the per-post overhead of the whole analysis."""
    from analysis.analyzer import _construct_analysis, analysis_text
    from analysis.severity import post_severities
    from yuqing.model import Category

    texts = [analysis_text(p) for p in posts]
    red = analyzer._red_line
    sens = [0.8] * len(posts)
    severities = post_severities(sens, [Category.incident] * len(posts), lambda i: posts[i].metrics.reach(),
                                 lambda i: red is not None and red(texts[i]) != 0,
                                 threshold=analyzer._severity_floor)
    sentiments = list(map(analyzer.lexicon.sentiment, texts))
    for p, s, sev, senti in zip(posts, sens, severities, sentiments, strict=True):
        _construct_analysis({"id": p.id, "schools": [], "relevant": False, "sensitivity": s,
                             "category": Category.incident, "severity": sev, "sentiment": senti,
                             "explanation": [], "topics": [], "event_id": None, "model": analyzer.model})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=20_000, help="posts for the throughput figures")
    parser.add_argument("--events", type=int, default=100_000, help="posts for the event-grouping check")
    parser.add_argument("--quick", action="store_true", help="5,000 posts and a 20,000-post event check")
    parser.add_argument("--model", type=Path, help="model file (default: the shipped one)")
    parser.add_argument("--lexicon", action="store_true", help="use the lexicon baseline, not a model")
    args = parser.parse_args()
    if args.quick:
        args.posts, args.events = 5_000, 20_000

    from analysis.analyzer import Analyzer
    from analysis.events import EventGrouper
    from analysis.schools import SchoolMatcher
    from analysis.segment import Segmenter
    from yuqing.config import load_config
    from yuqing.demo.content import build_corpus, corpus_posts, scale_posts

    cfg = load_config(ROOT / "config")
    posts = scale_posts(args.posts, length=200)
    chars = sum(len(p.text()) for p in posts) / len(posts)
    print(f"{len(posts):,} posts of {chars:.0f} characters on average (yuqing.demo.content.scale_posts)")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    before = rss_mb()[0]

    if args.lexicon:
        from analysis.keywords import TopicMatcher

        analyzer = Analyzer(cfg, Segmenter.from_config(cfg), SchoolMatcher.from_config(cfg),
                            TopicMatcher.from_config(cfg), classifier=None)
    else:
        analyzer = Analyzer.from_config(cfg, model_path=args.model)
    analyzer.analyze_many(posts[:50])  # warm: dictionaries, model
    print(f"\nwhole analysis, ours ({analyzer.model}; segmenter backend {analyzer.segmenter.backend}):")

    def ours() -> None:
        grouper = EventGrouper()

        def step(batch: list[Any]) -> None:
            grouper.assign_many(batch, analyzer.analyze_many(batch))  # as the pipeline does

        in_batches(posts, step)

    ours_rate = timed("segment + match + classify + group", len(posts), ours)
    now, peak = rss_mb()
    print(f"  memory after our analysis: RSS {now:.0f} MB, peak {peak:.0f} MB (target: under 500 MB)")

    print("\nparts (ours):")
    texts = [p.text() for p in posts]
    seg = analyzer.segmenter
    timed(f"segment ({seg.backend}, HMM off, config dictionary)", len(posts), lambda: seg.cut_many(texts))
    ref = Segmenter.from_config(cfg, "jieba")
    sample = texts[: max(1, len(texts) // 5)]
    timed("segment (jieba, HMM off, same dictionary)", len(sample), lambda: ref.cut_many(sample))
    matcher = SchoolMatcher.from_config(cfg)
    timed("match schools", len(posts), lambda: [matcher.match(t) for t in texts])
    if analyzer.classifier is not None:
        clf = analyzer.classifier
        tokens = seg.cut_many(texts)
        clf_rate = timed("classify (model.predict, explanations included)", len(posts),
                         lambda: in_batches(list(zip(texts, tokens, strict=True)),
                                            lambda b: clf.predict([t for t, _ in b], [w for _, w in b])))
        timed("classify (model.predict, explain=0)", len(posts),
              lambda: in_batches(list(zip(texts, tokens, strict=True)),
                                 lambda b: clf.predict([t for t, _ in b], [w for _, w in b], explain=0)))
        timed("classify (judge: arrays, as the Analyzer calls it)", len(posts),
              lambda: in_batches(list(zip(texts, tokens, strict=True)),
                                 lambda b: clf.judge([t for t, _ in b], [w for _, w in b])))
        rest = 1.0 / (1.0 / ours_rate - 1.0 / clf_rate) if ours_rate < clf_rate else float("inf")
        print(f"  {'=> everything but predict (whole run minus predict)':<50} {rest:>9,.0f} posts/s per core")
    else:
        timed("classify (lexicon baseline)", len(posts), lambda: [analyzer.lexicon.score(t) for t in texts])
    timed("topics", len(posts), lambda: [analyzer.topics.match(t) for t in texts])
    timed("Analyzer's own steps (sentiment, red lines, severity, Analysis)", len(posts),
          lambda: in_batches(posts, lambda b: own_steps(analyzer, b)))
    timed("group into events (batched MinHash)", len(posts), lambda: in_batches(posts, EventGrouper().assign_many))

    # after our parts: building and fitting the plain pipeline leaves the allocator in a state that slowed
    # the parts measured after it by up to a half (the same calls, measured before and after)
    print("\nwhole analysis, plain jieba + TfidfVectorizer + LogisticRegression (same matcher, grouper):")
    plain = plain_pipeline(cfg, corpus_posts(build_corpus(cfg)))
    plain_rate = timed("jieba.lcut + tf-idf + LR + match + group", len(posts), lambda: in_batches(posts, plain))
    print(f"\n  ours / plain: {ours_rate / plain_rate:.1f}x")

    now, peak = rss_mb()
    print(f"\nmemory at the end (two jieba dictionaries and a tf-idf vocabulary more): RSS {now:.0f} MB, "
          f"peak {peak:.0f} MB (before building analyzers: {before:.0f} MB)")
    if analyzer.classifier is not None:
        from analysis.classifier import default_model_path

        model = default_model_path()
        print(f"model file: {model.stat().st_size / 2**20:.1f} MB ({model.name})")

    events_check(args.events)


def events_check(n: int) -> None:
    from analysis.events import EventGrouper
    from analysis.events_check import grouping_quality, story_corpus

    cold = ROOT.parent / "shared" / "datasets" / "cold" / "train.csv"
    if not cold.exists():
        print(f"\nevent check skipped: {cold} is missing")
        return
    with cold.open(encoding="utf-8-sig") as f:
        sentences = [row["TEXT"] for row in csv.DictReader(f)]
    print(f"\nevent grouping on {n:,} posts (stories of real COLD sentences, each retold 5 ways):")
    for label, pool, stories in (
        ("distinct stories", len(sentences), min(n // 5, len(sentences) // 5)),
        ("stories sharing sentences", n // 5, n // 5),  # each sentence in about four stories
    ):
        corpus = story_corpus(sentences[:pool], stories=stories, copies=n // stories - 1, seed=3)
        grouper = EventGrouper()
        event_of: dict[str, str] = {}
        first: dict[str, str] = {}

        def run(corpus: Any = corpus, grouper: EventGrouper = grouper, event_of: dict[str, str] = event_of,
                first: dict[str, str] = first) -> None:
            for i in range(0, len(corpus.posts), BATCH):
                batch = corpus.posts[i : i + BATCH]
                for p, a in zip(batch, grouper.assign_many(batch), strict=True):
                    event_of[p.id] = a.event_id
                    if a.is_new:
                        first[a.event_id] = a.signature

        timed(f"{label}: {len(corpus.posts):,} posts", len(corpus.posts), run)
        print(f"    {grouping_quality(event_of, corpus.story_of)}")
    # After a restart: a new grouper knows the events only by their stored signatures.
    fresh = EventGrouper()
    fresh.load(first.items())
    sample = corpus.posts[:2000]
    again = [p.model_copy(update={"id": f"re-{p.id}", "content": p.content + "（转）"}) for p in sample]
    hits: list[bool] = []
    timed(f"after restart, {len(first):,} events loaded: 2,000 re-posts", len(again),
          lambda: hits.extend(fresh.assign(q).event_id == event_of[p.id] for p, q in zip(sample, again, strict=True)))
    print(f"    joined their story's event: {sum(hits) / len(hits):.3f} (bench/bench_event_restart.py: by similarity)")


if __name__ == "__main__":
    main()
