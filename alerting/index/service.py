"""What the CLI and the web UI do with the index, as plain functions over a Store and an index."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alerting.index.documents import count_posts, iter_docs
from alerting.index.outbox import Backlog, backlog, replay
from alerting.index.protocol import DocFailure, SearchIndex, SearchQuery
from alerting.store import Store
from yuqing.errors import InputError

Progress = Callable[[int, int], None]


@dataclass
class IndexStatus:
    url: str
    backend: str
    store_posts: int
    indexed: int | None  # None: the index is unreachable
    error: str
    backlog: Backlog


def status(store: Store, index: SearchIndex) -> IndexStatus:
    from alerting.index.protocol import IndexUnavailable

    with store.session() as s:
        posts = count_posts(s)
        bl = backlog(s)
    try:
        indexed: int | None = index.count()
        error = ""
    except IndexUnavailable as exc:
        indexed, error = None, str(exc)
    backend = "Elasticsearch" if index.url.startswith("http") else "SQLite FTS5"
    return IndexStatus(index.url, backend, posts, indexed, error, bl)


@dataclass
class RebuildReport:
    indexed: int = 0
    failed: list[DocFailure] = field(default_factory=list)
    outbox_delivered: int = 0


def rebuild(store: Store, index: SearchIndex, progress: Progress | None = None, batch: int = 1000) -> RebuildReport:
    """Drop the index and index every post of the store again; then deliver the outbox, whose
    rows are now redundant but must not stay pending."""
    report = RebuildReport()
    index.delete_all()
    index.ensure()
    with store.session() as s:
        total = count_posts(s)
        for docs in iter_docs(s, batch=batch):
            result = index.index(docs)
            report.indexed += result.indexed
            report.failed.extend(result.failed)
            if progress:
                progress(report.indexed + len(report.failed), total)
    index.refresh()
    report.outbox_delivered = replay(store, index, limit=10**9, force=True).delivered
    return report


def parse_when(value: str | None, tz: str, end: bool = False) -> datetime | None:
    """A user's date or date-time (YYYY-MM-DD, YYYY-MM-DD HH:MM, ISO 8601) in the bureau's zone.
    A bare ``until`` date includes that whole day."""
    if not value:
        return None
    zone = ZoneInfo(tz)
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), zone)
        t = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise InputError(f"无法识别的日期 {value!r},请写成 2026-03-01 或 2026-03-01 08:30") from None
    return t if t.tzinfo else t.replace(tzinfo=zone)


def build_query(
    text: str = "", *, schools: Sequence[str] = (), categories: Sequence[str] = (), severities: Sequence[str] = (),
    statuses: Sequence[str] = (), sites: Sequence[str] = (), sources: Sequence[str] = (),
    since: str | None = None, until: str | None = None, sort: str = "relevance", page: int = 1, size: int = 20,
    aggregations: Sequence[str] = (), tz: str = "Asia/Shanghai",
) -> SearchQuery:
    """A SearchQuery from form fields or command options (strings as the user typed them)."""
    return SearchQuery(
        text=text, schools=list(schools), categories=list(categories), severities=list(severities),
        statuses=list(statuses), sites=list(sites), sources=list(sources),
        since=parse_when(since, tz), until=parse_when(until, tz, end=True), sort=sort,  # type: ignore[arg-type]
        page=page, size=size, aggregations=list(aggregations), timezone=tz,
    )
