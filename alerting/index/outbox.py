"""The durable index outbox: what the search index still has to learn, kept in the SQL store.

The pipeline and the review workflow call ``enqueue_post`` / ``enqueue_status`` in the same
transaction as their cause; ``replay`` delivers pending rows later (oldest first), marks them
delivered, and backs off while the index is unreachable. Nothing is lost: a row stays pending
until the index has acknowledged it. Nothing is doubled: the post id is the document id, and a
row re-delivered after a crash replaces the same document.

Delivery reads the *current* post, analysis and warning status from the store rather than a
snapshot in the payload, so the index converges to the store's state whatever order rows are
delivered in (a status change queued before a re-index cannot overwrite a newer status).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from alerting.index.documents import load_docs, post_ids_of_event
from alerting.index.protocol import IndexUnavailable, SearchIndex
from alerting.notify.outbox import Backlog
from alerting.notify.outbox import backlog as channel_backlog
from alerting.store import Store
from alerting.store.tables import AnalysisRow, OutboxRow, PostRow
from yuqing.model import utcnow

CHANNEL = "index"
CHUNK = 500
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
# A document the index refuses (mapping conflict) is tried again this much later, in case the
# template was fixed; it shows as failed in `yuqing index status` meanwhile.
REFUSED_RETRY = timedelta(hours=6)


def _put(session: Session, key: str, payload: dict[str, Any], now: datetime) -> None:
    # The same cause twice is one row. A key seen before is moved to the end as a fresh pending
    # row (its post changed again after it was delivered, or it was still waiting).
    session.execute(delete(OutboxRow).where(OutboxRow.key == key))
    session.add(OutboxRow(channel=CHANNEL, key=key, payload=payload, created_at=now, attempts=0,
                          next_attempt_at=now, delivered_at=None, last_error=""))


def enqueue_post(session: Session, post_id: str, now: datetime | None = None) -> None:
    """Queue (re-)indexing of a post; call it in the transaction that stored or re-analysed it."""
    post = session.get(PostRow, post_id)
    content_hash = post.content_hash if post is not None else ""
    _put(session, f"index:{post_id}:{content_hash[:16]}", {"op": "index", "post_ids": [post_id]}, now or utcnow())


def enqueue_posts(session: Session, post_ids: Sequence[str], now: datetime | None = None,
                  content_hashes: Mapping[str, str] | None = None) -> None:
    """``enqueue_post`` for a batch in a few statements (the pipeline queues hundreds at a time).

    ``content_hashes`` (post id → posts.content_hash), when the caller has them, saves reading them back."""
    ids = list(dict.fromkeys(post_ids))
    if not ids:
        return
    now = now or utcnow()
    hashes: dict[str, str] = {}
    if content_hashes is not None and all(pid in content_hashes for pid in ids):
        hashes = {pid: content_hashes[pid] or "" for pid in ids}
    else:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows = session.execute(select(PostRow.id, PostRow.content_hash).where(PostRow.id.in_(chunk)))
            hashes.update((pid, h or "") for pid, h in rows)
    keys = {pid: f"index:{pid}:{hashes.get(pid, '')[:16]}" for pid in ids}
    key_list = list(keys.values())
    for start in range(0, len(key_list), CHUNK):
        session.execute(delete(OutboxRow).where(OutboxRow.key.in_(key_list[start : start + CHUNK])))
    # Core executemany: no ORM object per row.
    session.execute(insert(OutboxRow.__table__), [
        {"channel": CHANNEL, "key": key, "payload": {"op": "index", "post_ids": [pid]}, "created_at": now,
         "attempts": 0, "next_attempt_at": now, "delivered_at": None, "last_error": ""}
        for pid, key in keys.items()
    ])


def enqueue_delete(session: Session, post_ids: Sequence[str], now: datetime | None = None) -> None:
    """Queue removal of purged posts' documents (the retention purge calls this in its transaction)."""
    ids = sorted(set(post_ids))
    if not ids:
        return
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:24]
    _put(session, f"delete:{digest}", {"op": "delete", "post_ids": ids}, now or utcnow())


def enqueue_status(session: Session, post_ids: Sequence[str], status: str, now: datetime | None = None) -> None:
    """Queue a warning status change for the posts of its event (the review queue calls this)."""
    ids = sorted(set(post_ids))
    if not ids:
        return
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    _put(session, f"status:{ids[0] if len(ids) == 1 else digest}:{status}",
         {"op": "status", "post_ids": ids, "status": status}, now or utcnow())


def enqueue_event_status(session: Session, event_id: str, status: str, now: datetime | None = None) -> None:
    """``enqueue_status`` for every post of an event (what a warning transition changes)."""
    enqueue_status(session, post_ids_of_event(session, event_id), status, now)


def enqueue_warning_status(session: Session, event_id: str, status: str, now: datetime | None = None) -> None:
    """A new warning's status for the posts of its event the index already holds: those whose index row
    was delivered (an earlier batch or run). Posts still waiting for their index row get the status with
    their document, so a pipeline run that indexes after analysing queues nothing here."""
    rows = session.execute(
        select(PostRow.id, PostRow.content_hash).join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(AnalysisRow.event_id == event_id)).all()
    keys = {f"index:{pid}:{(h or '')[:16]}": pid for pid, h in rows}
    waiting: set[str] = set()
    key_list = list(keys)
    for start in range(0, len(key_list), CHUNK):
        waiting.update(session.scalars(select(OutboxRow.key).where(
            OutboxRow.key.in_(key_list[start : start + CHUNK]), OutboxRow.delivered_at.is_(None))))
    enqueue_status(session, [pid for key, pid in keys.items() if key not in waiting], status, now)


@dataclass
class ReplayReport:
    delivered: int = 0  # outbox rows acknowledged by the index
    documents: int = 0  # documents indexed or updated
    failed: list[tuple[str, str]] = field(default_factory=list)  # (post id, reason) refused by the index
    waiting: int = 0  # rows still pending afterwards
    unavailable: bool = False
    error: str = ""


def backlog(session: Session, now: datetime | None = None) -> Backlog:
    """What the index still has to learn (the same count as every outbox channel)."""
    return channel_backlog(session, now or utcnow(), CHANNEL)


def replay(
    store: Store, index: SearchIndex, limit: int = 20_000, now: datetime | None = None, force: bool = False
) -> ReplayReport:
    """Deliver due rows, oldest first, in chunks; stop and back off if the index is unreachable.

    ``force`` also takes rows still backing off (an operator who knows the index is back)."""
    report = ReplayReport()
    now = now or utcnow()
    last_id = 0
    done = 0
    while done < limit:
        with store.session() as s:
            stmt = select(OutboxRow.id, OutboxRow.payload, OutboxRow.attempts).where(
                OutboxRow.channel == CHANNEL, OutboxRow.delivered_at.is_(None), OutboxRow.id > last_id)
            if not force:
                stmt = stmt.where(OutboxRow.next_attempt_at <= now)
            rows = s.execute(stmt.order_by(OutboxRow.id).limit(min(CHUNK, limit - done))).all()
            if not rows:
                break
            post_ids = [pid for r in rows for pid in r.payload.get("post_ids", [])]
            docs = load_docs(s, post_ids)
        last_id = rows[-1].id
        done += len(rows)
        try:
            refused = _deliver(index, rows, docs, report)
        except IndexUnavailable as exc:
            report.unavailable = True
            report.error = str(exc)
            _back_off(store, rows, str(exc), now)
            break
        report.delivered += _mark(store, rows, refused, now)
    with store.session() as s:
        report.waiting = backlog(s, now).pending
    return report


def _deliver(index: SearchIndex, rows: Sequence[Any], docs: list[Any], report: ReplayReport) -> dict[str, str]:
    """Index documents and apply statuses; returns post id → reason for documents refused."""
    index_ids = {pid for r in rows if r.payload.get("op") == "index" for pid in r.payload["post_ids"]}
    status_ids = {pid for r in rows if r.payload.get("op") == "status" for pid in r.payload["post_ids"]}
    to_index = [d for d in docs if d.id in index_ids]
    refused: dict[str, str] = {}
    if to_index:
        result = index.index(to_index)
        report.documents += result.indexed
        for f in result.failed:
            refused[f.id] = f.reason
            report.failed.append((f.id, f.reason))
    # Status only for posts not just re-indexed (their new document already carries it),
    # taken from the store now, grouped by status.
    by_status: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        if d.id in status_ids and d.id not in index_ids:
            by_status[d.status].append(d.id)
    for status, ids in by_status.items():
        report.documents += index.update_status(ids, status)
    delete_ids = sorted({pid for r in rows if r.payload.get("op") == "delete" for pid in r.payload["post_ids"]})
    if delete_ids:
        report.documents += index.delete(delete_ids)
    return refused


def _mark(store: Store, rows: Sequence[Any], refused: dict[str, str], now: datetime) -> int:
    with store.session() as s:
        ok_ids = []
        for r in rows:
            reasons = [refused[p] for p in r.payload.get("post_ids", []) if p in refused]
            if reasons:
                s.execute(update(OutboxRow).where(OutboxRow.id == r.id).values(
                    attempts=r.attempts + 1, last_error=f"索引拒绝该文档: {reasons[0]}"[:2000],
                    next_attempt_at=now + REFUSED_RETRY))
            else:
                ok_ids.append(r.id)
        if ok_ids:
            s.execute(update(OutboxRow).where(OutboxRow.id.in_(ok_ids)).values(delivered_at=now, last_error=""))
    return len(ok_ids)


def _back_off(store: Store, rows: Sequence[Any], error: str, now: datetime) -> None:
    with store.session() as s:
        for r in rows:
            delay = min(BACKOFF_BASE * (2 ** min(r.attempts, 10)), BACKOFF_MAX)
            s.execute(update(OutboxRow).where(OutboxRow.id == r.id).values(
                attempts=r.attempts + 1, next_attempt_at=now + delay, last_error=f"索引不可用:{error}"[:2000]))
