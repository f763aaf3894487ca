"""Nightly purge: retention honoured, open warnings, evidence and labels kept; the database tidied after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from alerting.housekeeping import run_housekeeping
from alerting.store import Store
from alerting.store.tables import (
    AnalysisRow,
    EventRow,
    EvidenceRow,
    LabelRow,
    OutboxRow,
    PostRow,
    SeenUrlRow,
    SourceRunRow,
    WarningRow,
)
from yuqing.config import Config

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)


def _post(pid: str, age_days: float, *, evidence: bool = False, sha: str | None = None) -> PostRow:
    at = NOW - timedelta(days=age_days)
    return PostRow(id=pid, url=f"http://example.test/{pid}", source="demo-news-rss", site="example.test",
                   kind="article", title=pid, content=f"正文 {pid}", published_at=at, crawled_at=at, updated_at=at,
                   content_hash=pid, evidence=evidence, raw_sha256=sha)


def _analysis(pid: str, event: str | None) -> AnalysisRow:
    return AnalysisRow(post_id=pid, relevant=True, sensitivity=0.9, category="incident", model="t",
                       analysed_at=NOW, event_id=event)


def _event(eid: str, age_days: float) -> EventRow:
    at = NOW - timedelta(days=age_days)
    return EventRow(id=eid, title=eid, first_seen=at, last_seen=at)


def _warning(eid: str, status: str, age_days: float) -> WarningRow:
    at = NOW - timedelta(days=age_days)
    return WarningRow(event_id=eid, status=status, category="incident", severity="III", title=eid,
                      created_at=at, updated_at=at)


@pytest.fixture
def store(cfg: Config) -> Iterator[Store]:
    s = Store.from_config(cfg)
    yield s
    s.dispose()


def test_purge_respects_retention_open_warnings_evidence_and_labels(cfg: Config, store: Store) -> None:
    days = cfg.retention_days
    old, recent = days + 10, days - 10
    with store.session() as s:
        for eid, age in (("ev-open", old), ("ev-closed-old", old), ("ev-closed-recent", old), ("ev-none", old)):
            s.add(_event(eid, age))
        s.flush()
        s.add(_warning("ev-open", "handling", old))  # open for months: its posts stay
        s.add(_warning("ev-closed-old", "closed", old))  # finished long ago: posts go, the record stays
        s.add(_warning("ev-closed-recent", "closed", 3))  # closed last week: posts stay with the 登记表
        s.add(EvidenceRow(sha256="a" * 64, url="http://example.test/e", fetched_at=NOW - timedelta(days=old),
                          size=1, body_gz=b"x"))
        s.add(EvidenceRow(sha256="b" * 64, url="http://example.test/f", fetched_at=NOW - timedelta(days=old),
                          size=1, body_gz=b"x"))
        posts = {
            "old-plain": _post("old-plain", old, sha="b" * 64),
            "old-open": _post("old-open", old),
            "old-closed": _post("old-closed", old),
            "old-closed-recent": _post("old-closed-recent", old),
            "old-evidence": _post("old-evidence", old, evidence=True, sha="a" * 64),
            "old-labelled": _post("old-labelled", old),
            "old-no-event": _post("old-no-event", old),
            "recent": _post("recent", recent),
        }
        s.add_all(posts.values())
        s.flush()
        s.add_all([
            _analysis("old-plain", "ev-none"), _analysis("old-open", "ev-open"),
            _analysis("old-closed", "ev-closed-old"), _analysis("old-closed-recent", "ev-closed-recent"),
            _analysis("old-evidence", None), _analysis("recent", "ev-none"),
        ])
        s.add(LabelRow(post_id="old-labelled", verdict="confirmed", category="incident", sensitive=True,
                       actor="officer", at=NOW - timedelta(days=old)))
        s.add(SourceRunRow(source_id="demo-news-rss", started_at=NOW - timedelta(days=old), status="ok"))
        s.add(SourceRunRow(source_id="demo-news-rss", started_at=NOW - timedelta(days=1), status="ok"))
        old_at = NOW - timedelta(days=old)
        s.add(OutboxRow(channel="mail", key="old-sent", payload={}, created_at=old_at, next_attempt_at=old_at,
                        delivered_at=old_at))
        s.add(OutboxRow(channel="mail", key="old-pending", payload={}, created_at=old_at, next_attempt_at=old_at,
                        delivered_at=None))
        s.add(SeenUrlRow(url_hash="1" * 64, url="http://example.test/old", source="demo-news-rss",
                         first_seen=old_at, last_fetched=old_at))

    report = run_housekeeping(store, cfg, now=NOW)

    with store.session() as s:
        left = set(s.scalars(select(PostRow.id)))
        assert left == {"old-open", "old-closed-recent", "old-evidence", "old-labelled", "recent"}
        assert set(s.scalars(select(AnalysisRow.post_id))) == {"old-open", "old-closed-recent", "old-evidence",
                                                                "recent"}
        # The page a kept post was parsed from stays; the page of a purged post goes.
        assert set(s.scalars(select(EvidenceRow.sha256))) == {"a" * 64}
        # Events behind warnings are the record; ev-none still has the recent post.
        assert set(s.scalars(select(EventRow.id))) == {"ev-open", "ev-closed-old", "ev-closed-recent", "ev-none"}
        assert len(s.scalars(select(WarningRow.id)).all()) == 3
        assert set(s.scalars(select(OutboxRow.key).where(OutboxRow.channel == "mail"))) == {"old-pending"}
        # The three purged posts are queued for removal from the search index.
        (removal,) = s.scalars(select(OutboxRow.payload).where(OutboxRow.channel == "index")).all()
        assert removal["op"] == "delete" and len(removal["post_ids"]) == 3
        assert len(s.scalars(select(SourceRunRow.id)).all()) == 1
        assert s.scalars(select(SeenUrlRow.url_hash)).all() == []
    assert report.posts == 3 and report.evidence == 1 and report.outbox == 1
    assert report.maintenance == ["vacuum", "analyze"]


def test_purge_drops_an_orphaned_old_event_and_is_idempotent(cfg: Config, store: Store) -> None:
    old = cfg.retention_days + 1
    with store.session() as s:
        s.add(_event("ev-gone", old))
        s.flush()
        s.add(_post("p", old))
        s.flush()
        s.add(_analysis("p", "ev-gone"))
    first = run_housekeeping(store, cfg, now=NOW, vacuum=False)
    second = run_housekeeping(store, cfg, now=NOW, vacuum=False)
    assert (first.posts, first.events) == (1, 1)
    assert (second.posts, second.events) == (0, 0)
    with store.session() as s:
        assert s.scalars(select(EventRow.id)).all() == []


def test_purged_posts_leave_the_search_index_too(cfg: Config, store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alerting.index import open_index
    from alerting.index.outbox import enqueue_posts, replay
    from alerting.index.protocol import SearchQuery

    days = cfg.retention_days
    with store.session() as s:
        s.add_all([_post("old-post", days + 5), _post("new-post", 1)])
        s.flush()
        enqueue_posts(s, ["old-post", "new-post"], NOW - timedelta(days=days + 5))
    index = open_index(f"sqlite:///{tmp_path / 'index.db'}")
    index.ensure()
    replay(store, index, now=NOW)
    assert index.count() == 2
    run_housekeeping(store, cfg, now=NOW, vacuum=False)
    replay(store, index, now=NOW)
    assert index.count() == 1
    assert index.search(SearchQuery(text="正文", size=10)).ids == ["new-post"]
    index.close()
