"""The pipeline following a crawl (yuqing.cycle): batches taken while crawls still store posts must give the
events and warnings of one run after the crawl, every post analysed once, and a post whose text a crawl
changes while it is analysed analysed again. Real SQLite files, the real analyzer, the demo corpus."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from alerting.store import Store
from alerting.store.posts import upsert_post
from alerting.store.tables import AnalysisRow, EventRow, PostRow, WarningRow
from yuqing.config import Config
from yuqing.demo.content import DemoCorpus, corpus_posts
from yuqing.model import Post
from yuqing.pipeline import load_analyzer, new_grouper, process_pending


@pytest.fixture(scope="module")
def analyzer() -> Any:
    from yuqing.config import load_config

    return load_analyzer(load_config(Path(__file__).resolve().parent.parent / "config"))


def _crawled(demo_corpus: DemoCorpus, start: datetime) -> list[Post]:
    """The corpus as crawled: one post every 0.1 s."""
    posts = corpus_posts(demo_corpus)
    return [p.model_copy(update={"crawled_at": start + timedelta(seconds=i / 10)}) for i, p in enumerate(posts)]


def _store(store: Store, posts: list[Post]) -> None:
    with store.session() as s:
        for p in posts:
            upsert_post(s, p)


def _outcome(store: Store) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], dict[str, str | None]]:
    with store.session() as s:
        warnings = {(w.event_id, w.category, w.severity, tuple(w.schools), w.alerted_posts, w.alerted_reach)
                    for w in s.scalars(select(WarningRow))}
        events = {(e.id, e.post_count, e.reach, e.category, e.severity, tuple(e.schools))
                  for e in s.scalars(select(EventRow))}
        analyses = dict(s.execute(select(AnalysisRow.post_id, AnalysisRow.event_id)).tuples().all())
    return warnings, events, analyses


def test_batches_before_the_watermark_then_the_rest_give_the_run_after_the_crawl(
    cfg: Config, tmp_path: Path, demo_corpus: DemoCorpus, demo_now: datetime, analyzer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = 100
    monkeypatch.setattr("yuqing.pipeline.BATCH", batch)  # several batches from the corpus's ~700 posts
    posts = _crawled(demo_corpus, demo_now - timedelta(hours=1))
    assert len(posts) > 4 * batch
    now = demo_now
    # After the crawl: everything at once.
    after = Store(f"sqlite:///{tmp_path / 'after.db'}")
    after.migrate()
    _store(after, posts)
    once = process_pending(cfg, after, analyzer=analyzer, now=now)
    # Following the crawl: stored in three parts, the pipeline run after each with a watermark that
    # falls inside a batch (so only whole batches below it are taken).
    follow = Store(f"sqlite:///{tmp_path / 'follow.db'}")
    follow.migrate()
    grouper = new_grouper(cfg, follow, now)
    taken = []
    for part in (posts[:137], posts[137:401], posts[401:]):
        _store(follow, part)
        mark = part[-1].crawled_at  # the last stored post is not below it: a crawl may add more at that time
        report = process_pending(cfg, follow, analyzer=analyzer, now=now, grouper=grouper, before=mark)
        taken.append(report.analysed)
    assert taken[:2] == [batch, 3 * batch] and taken[2] % batch == 0
    rest = process_pending(cfg, follow, analyzer=analyzer, now=now, grouper=grouper)
    assert sum(taken) + rest.analysed == once.analysed == len(posts)
    assert _outcome(follow) == _outcome(after)
    assert once.warnings  # the corpus's anchor stories are warnings: the comparison is not vacuous


def test_a_post_changed_by_a_crawl_while_it_is_analysed_is_analysed_again(
    cfg: Config, tmp_path: Path, demo_corpus: DemoCorpus, demo_now: datetime, analyzer: Any
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'y.db'}")
    store.migrate()
    posts = _crawled(demo_corpus, demo_now - timedelta(hours=1))[:50]
    _store(store, posts)
    victim = posts[10]
    edited = victim.model_copy(update={"content": victim.content + "(已编辑:补充说明)",
                                       "crawled_at": demo_now - timedelta(minutes=1)})
    seen: list[str] = []

    class CrawlMeanwhile:
        """The analyzer, with a crawl storing the edited post while the first batch is analysed."""

        def analyze_many(self, batch: list[Post]) -> Any:
            seen.extend(p.content for p in batch if p.id == victim.id)
            if len(seen) == 1:
                _store(store, [edited])  # its own transaction, committed: what a crawl process does
            return analyzer.analyze_many(batch)

    report = process_pending(cfg, store, analyzer=CrawlMeanwhile(), now=demo_now)
    assert seen == [victim.content, edited.content]
    assert report.analysed == len(posts)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(AnalysisRow)) == len(posts)
        pending = s.scalar(select(func.count()).select_from(PostRow).outerjoin(
            AnalysisRow, AnalysisRow.post_id == PostRow.id).where(AnalysisRow.post_id.is_(None)))
        assert pending == 0
