"""The durable index outbox: same-transaction enqueue, in-order replay, nothing lost or doubled,
backing off while the node is down (a real node, stopped and restarted mid-run)."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from alerting.index import SearchQuery, open_index
from alerting.index.outbox import backlog, enqueue_event_status, enqueue_post, enqueue_status, replay
from alerting.store import Store
from alerting.store.posts import upsert_post
from alerting.store.tables import AnalysisRow, EventRow, OutboxRow, WarningRow
from tests.plugins.es import EsNode
from yuqing.model import Post, post_id_for

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store(f"sqlite:///{tmp_path / 'yuqing.db'}")
    st.migrate()
    yield st
    st.dispose()


def _post(i: int, month: int = 3) -> Post:
    url = f"https://tieba.baidu.com/p/{1000 + i}"
    return Post(id=post_id_for(url), url=url, source="tieba", site="tieba.baidu.com", kind="thread",
                title=f"县一中食堂问题第{i}帖", content=f"有家长反映县一中食堂饭菜不好,编号{i}。",
                published_at=datetime(2026, month, 1 + i % 27, 3, tzinfo=timezone.utc), crawled_at=T0)


def _store_posts(store: Store, posts: list[Post], event: str | None = None, status: str | None = None) -> None:
    """What the pipeline does: store, analyse, raise a warning, and queue indexing, in one transaction."""
    with store.session() as s:
        if event:
            s.add(EventRow(id=event, title="食堂", first_seen=T0, last_seen=T0))
            s.flush()
        for p in posts:
            upsert_post(s, p)
            s.flush()
            s.merge(AnalysisRow(post_id=p.id, schools=["xian-yizhong"], relevant=True, sensitivity=0.8,
                                category="inquiry", severity="III", event_id=event, model="test", analysed_at=T0))
            enqueue_post(s, p.id, now=T0)
        if event and status:
            s.add(WarningRow(event_id=event, status=status, category="inquiry", severity="III", title="食堂",
                             created_at=T0, updated_at=T0))


def test_enqueue_is_idempotent_per_cause(store: Store) -> None:
    _store_posts(store, [_post(1)])
    with store.session() as s:
        enqueue_post(s, _post(1).id, now=T0)
        enqueue_post(s, _post(1).id, now=T0)
        enqueue_status(s, [_post(1).id], "handling", now=T0)
        enqueue_status(s, [_post(1).id], "handling", now=T0)
    with store.session() as s:
        keys = list(s.scalars(select(OutboxRow.key).order_by(OutboxRow.id)))
    assert keys == [f"index:{_post(1).id}:{_post(1).content_hash()[:16]}", f"status:{_post(1).id}:handling"]


def test_replay_delivers_everything_once_into_fts5(store: Store, tmp_path: Path) -> None:
    posts = [_post(i) for i in range(40)]
    _store_posts(store, posts)
    index = open_index(f"sqlite:///{tmp_path / 'index.db'}")
    index.ensure()
    report = replay(store, index, now=T0)
    assert (report.delivered, report.documents, report.waiting, report.unavailable) == (40, 40, 0, False)
    assert index.count() == 40
    again = replay(store, index, now=T0 + timedelta(hours=1))
    assert (again.delivered, again.documents) == (0, 0)
    assert index.count() == 40
    hit = index.search(SearchQuery(text="编号7 食堂")).hits
    assert [h.id for h in hit] == [posts[7].id]
    assert hit[0].doc["schools"] == ["xian-yizhong"] and hit[0].doc["status"] == "none"
    with store.session() as s:
        b = backlog(s, T0)
    assert (b.pending, b.delivered, b.failed) == (0, 40, 0)


def test_status_changes_converge_to_the_store_whatever_the_order(store: Store, tmp_path: Path) -> None:
    posts = [_post(i) for i in range(5)]
    _store_posts(store, posts, event="ev1", status="new")
    index = open_index(f"sqlite:///{tmp_path / 'index.db'}")
    index.ensure()
    replay(store, index, now=T0)
    ids = [p.id for p in posts]
    assert set(index.search(SearchQuery(statuses=["new"])).ids) == set(ids)
    with store.session() as s:  # the review queue: two transitions, each with its outbox row
        w = s.scalars(select(WarningRow)).one()
        w.status = "handling"
        enqueue_status(s, ids, "handling", now=T0)
    with store.session() as s:
        w = s.scalars(select(WarningRow)).one()
        w.status = "closed"
        enqueue_event_status(s, "ev1", "closed", now=T0)
    report = replay(store, index, now=T0)
    assert report.delivered == 2 and report.waiting == 0
    assert set(index.search(SearchQuery(statuses=["closed"])).ids) == set(ids)
    assert index.search(SearchQuery(statuses=["handling"])).total == 0


def _free_port() -> int:
    """A free port below the kernel's ephemeral range, so that no outgoing connection takes it
    while the node is down between the two starts."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-32000")


@pytest.mark.es
@pytest.mark.slow
def test_node_stopped_mid_run_then_replayed_exactly(store: Store, tmp_path: Path) -> None:
    """Own node (the shared one is never stopped): index, stop the node, keep working, restart,
    replay: the index holds exactly the expected documents, once each."""
    node = EsNode(tmp_path / "es-node", port=_free_port())
    url = node.up()
    try:
        index = open_index(url, prefix="outage", request_timeout=5)
        index.ensure()
        first = [_post(i) for i in range(30)]
        _store_posts(store, first)
        assert replay(store, index, now=T0).delivered == 30

        node.down()
        second = [_post(i, month=4) for i in range(30, 80)]  # the run goes on while the node is down
        _store_posts(store, second)
        with store.session() as s:
            enqueue_post(s, first[0].id, now=T0)  # and a re-analysed old post
        down = replay(store, index, now=T0)
        assert down.unavailable and down.delivered == 0 and down.waiting == 51
        assert "不可用" in _last_error(store)
        assert replay(store, index, now=T0 + timedelta(seconds=5)).delivered == 0  # backing off, not hammering

        assert node.up() == url  # same home, same port: the data survives the restart
        after = replay(store, index, now=T0 + timedelta(hours=1))
        assert (after.delivered, after.waiting, after.unavailable) == (51, 0, False)
        index.refresh()
        expected = {p.id for p in first + second}
        got = {h.id for h in index.search(SearchQuery(size=500, highlight=False)).hits}
        assert got == expected and index.count() == len(expected)
        assert index.search(SearchQuery(text="编号42")).ids == [second[12].id]
    finally:
        node.down()


def _last_error(store: Store) -> str:
    with store.session() as s:
        return s.scalar(select(OutboxRow.last_error).where(OutboxRow.delivered_at.is_(None)).limit(1)) or ""


@pytest.mark.es
def test_refused_document_is_recorded_and_the_rest_indexed(store: Store, es_url: str, es_prefix: str) -> None:
    """A real mapping conflict: someone created January's index by hand with `sensitivity` as a
    boolean. The January post is refused, recorded on its outbox row; the March posts are indexed."""
    index = open_index(es_url, prefix=es_prefix)
    index.ensure()
    es = index.es  # type: ignore[attr-defined]
    es.indices.create(index=f"{es_prefix}-2026.01", mappings={"properties": {"sensitivity": {"type": "boolean"}}},
                      settings={"number_of_replicas": 0}, aliases={es_prefix: {}})
    try:
        posts = [_post(i) for i in range(6)] + [_post(99, month=1)]
        _store_posts(store, posts)
        report = replay(store, index, now=T0)
        assert report.delivered == 6 and report.documents == 6
        assert [pid for pid, _ in report.failed] == [posts[-1].id]
        assert "sensitivity" in report.failed[0][1]
        with store.session() as s:
            b = backlog(s, T0)
            row = s.scalars(select(OutboxRow).where(OutboxRow.delivered_at.is_(None))).one()
            delivered = s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_not(None)))
        assert (b.pending, b.failed, delivered) == (1, 1, 6)
        assert row.key.startswith(f"index:{posts[-1].id}") and "索引拒绝" in row.last_error
        index.refresh()
        assert index.count() == 6
    finally:
        index.delete_all()


def test_a_new_warning_updates_only_the_documents_already_indexed(store: Store, tmp_path: Path) -> None:
    """The pipeline raising a warning for an event some of whose posts an earlier run indexed: those get the
    status through a status row; the posts still waiting for their index row get it with their document."""
    from alerting.index.outbox import enqueue_warning_status

    index = open_index(f"sqlite:///{tmp_path / 'index.db'}")
    index.ensure()
    earlier, waiting = _post(1), _post(2)
    _store_posts(store, [earlier], event="ev")
    assert replay(store, index, now=T0).delivered == 1
    _store_posts(store, [waiting], event=None)
    with store.session() as s:
        s.get(AnalysisRow, waiting.id).event_id = "ev"  # type: ignore[union-attr]
        s.add(WarningRow(event_id="ev", status="new", category="inquiry", severity="III", title="食堂",
                         created_at=T0, updated_at=T0))
        s.flush()
        enqueue_warning_status(s, "ev", "new", T0)
        statuses = [r.payload for r in s.scalars(select(OutboxRow).where(OutboxRow.key.like("status:%")))]
    assert statuses == [{"op": "status", "post_ids": [earlier.id], "status": "new"}]
    replay(store, index, now=T0)
    found = index.search(SearchQuery(text="食堂"))
    assert {h.id: h.doc["status"] for h in found.hits} == {earlier.id: "new", waiting.id: "new"}
