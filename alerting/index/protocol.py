"""The one search interface (web UI, CLI, pipeline) and the plain values it takes and returns.

Backends (``fts5.Fts5Index``, ``elasticsearch.ElasticsearchIndex``) implement ``SearchIndex``;
``alerting.index.open_index(url)`` picks one by URL. Nothing here knows SQL or HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, Protocol, runtime_checkable

from yuqing.errors import InputError, YuqingError

# Elasticsearch alias/template name when the configuration names none (storage.yaml es_index_prefix).
DEFAULT_PREFIX = "yuqing-posts"

# Status of a post that raised no warning (the keyword ``status`` is never empty, so that
# "no warning" is a value one can filter and count by).
NO_WARNING = "none"

SORTS = ("relevance", "newest", "oldest", "sensitivity")
Sort = Literal["relevance", "newest", "oldest", "sensitivity"]
AGGREGATIONS = ("day", "school", "category", "severity", "status", "site", "source")


@dataclass(frozen=True)
class IndexDoc:
    """One post as the index holds it. Built by ``documents.build_doc`` from a row of the SQL store.

    ``published_at`` picks the monthly index in Elasticsearch; posts without a publish time use
    their crawl time (documented in docs/elasticsearch.md). ``words`` are the segmenter's tokens of
    title and content, filled by the backend when empty.
    """

    id: str
    url: str
    title: str
    content: str
    published_at: datetime
    crawled_at: datetime
    source: str = ""
    site: str = ""
    kind: str = "article"
    author: str = ""
    schools: tuple[str, ...] = ()
    category: str = "none"
    severity: str | None = None
    status: str = NO_WARNING
    event_id: str | None = None
    topics: tuple[str, ...] = ()
    sensitivity: float = 0.0
    sentiment: float = 0.0
    relevant: bool = False
    reach: int = 0
    thread_id: str | None = None
    content_hash: str = ""
    words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("published_at", "crawled_at"):
            value = getattr(self, name)
            if value.tzinfo is None:
                raise ValueError(f"IndexDoc.{name} must be timezone-aware")
            object.__setattr__(self, name, value.astimezone(timezone.utc))


@dataclass
class DocFailure:
    """A document the index refused (e.g. a mapping conflict): recorded, the rest still indexed."""

    id: str
    reason: str
    retryable: bool = False


@dataclass
class IndexReport:
    indexed: int = 0
    failed: list[DocFailure] = field(default_factory=list)
    retries: int = 0

    def merge(self, other: IndexReport) -> None:
        self.indexed += other.indexed
        self.failed.extend(other.failed)
        self.retries += other.retries


@dataclass(frozen=True)
class SearchQuery:
    """Full text (see ``querysyntax``) plus filters; every filter is optional.

    List filters match any of their values; ``since`` is inclusive and ``until`` exclusive (UTC).
    """

    text: str = ""
    schools: Sequence[str] = ()
    categories: Sequence[str] = ()
    severities: Sequence[str] = ()
    statuses: Sequence[str] = ()
    sites: Sequence[str] = ()
    sources: Sequence[str] = ()
    event_id: str | None = None
    min_sensitivity: float | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: Sort = "relevance"
    page: int = 1
    size: int = 20
    highlight: bool = True
    aggregations: Sequence[str] = ()
    # Days for the "day" aggregation are calendar days in this zone (the bureau's).
    timezone: str = "Asia/Shanghai"


@dataclass
class Hit:
    id: str
    score: float
    doc: dict[str, Any]
    # Safe HTML fragments: the post's text HTML-escaped, the matches wrapped in <em>…</em>.
    highlights: list[str] = field(default_factory=list)


@dataclass
class Bucket:
    key: str
    count: int


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    aggregations: dict[str, list[Bucket]] = field(default_factory=dict)
    took_ms: float = 0.0

    @property
    def ids(self) -> list[str]:
        return [h.id for h in self.hits]


@runtime_checkable
class SearchIndex(Protocol):
    """What every backend offers. All methods raise ``IndexUnavailable`` when the backend is down
    and ``yuqing.errors.InputError`` for a bad query."""

    url: str

    def ensure(self) -> None:
        """Create templates, aliases or tables if missing (idempotent)."""

    def index(self, docs: Iterable[IndexDoc]) -> IndexReport:
        """Bulk index; the post id is the document id, so re-indexing replaces, never doubles."""

    def update_status(self, post_ids: Sequence[str], status: str) -> int:
        """Set the warning status of indexed posts; returns how many were found and updated."""

    def search(self, q: SearchQuery) -> SearchResult: ...

    def count(self) -> int: ...

    def delete(self, post_ids: Sequence[str]) -> int:
        """Remove these posts' documents (the retention purge); unknown ids are ignored. Returns how many."""

    def delete_all(self) -> None:
        """Drop every document and the index structures (for ``yuqing index rebuild``)."""

    def refresh(self) -> None:
        """Make everything indexed so far visible to search."""

    def close(self) -> None: ...


class IndexUnavailable(YuqingError):
    """The backend cannot be reached right now; the caller keeps the work in the outbox.
    A user-facing error (Chinese message) when it reaches an edge."""


def doc_source(doc: IndexDoc, words: list[str] | None = None) -> dict[str, Any]:
    """The JSON document both backends store (Elasticsearch ``_source``; FTS5 ``docs.doc``).

    Field names and formats are documented in docs/elasticsearch.md.
    """
    return {
        "id": doc.id,
        "url": doc.url,
        "title": doc.title,
        "content": doc.content,
        "words": " ".join(words if words is not None else doc.words),
        "published_at": _iso(doc.published_at),
        "crawled_at": _iso(doc.crawled_at),
        "source": doc.source,
        "site": doc.site,
        "kind": doc.kind,
        "author": doc.author,
        "schools": list(doc.schools),
        "category": doc.category,
        "severity": doc.severity,
        "status": doc.status,
        "event_id": doc.event_id,
        "topics": list(doc.topics),
        "sensitivity": float(doc.sensitivity),
        "sentiment": float(doc.sentiment),
        "relevant": bool(doc.relevant),
        "reach": int(doc.reach),
        "thread_id": doc.thread_id,
        "content_hash": doc.content_hash,
    }


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def check_query(q: SearchQuery) -> None:
    """Reject a malformed query with a Chinese message (both backends call this first)."""
    if q.sort not in SORTS:
        raise InputError(f"未知的排序方式 {q.sort!r},可选:{'、'.join(SORTS)}")
    if q.page < 1 or q.size < 1 or q.size > 500:
        raise InputError("分页参数无效:页码从 1 开始,每页 1–500 条")
    if q.page * q.size > 10_000:
        raise InputError("翻页太深:最多浏览前 10000 条结果,请加筛选条件缩小范围")
    unknown = [a for a in q.aggregations if a not in AGGREGATIONS]
    if unknown:
        raise InputError(f"未知的统计维度 {unknown},可选:{'、'.join(AGGREGATIONS)}")
    if q.since and q.until and q.since >= q.until:
        raise InputError("时间范围无效:开始时间要早于结束时间")
    for t in (q.since, q.until):
        if t is not None and t.tzinfo is None:
            raise InputError("时间范围必须带时区")
