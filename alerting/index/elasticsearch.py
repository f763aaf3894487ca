"""The Elasticsearch backend (``http(s)://…``): the only module that imports ``elasticsearch``.

Index design (field reference in docs/elasticsearch.md):

* one index per month of *publish* time, ``<prefix>-YYYY.MM`` (a re-crawl of an old post lands in
  the same index, so the post id stays unique), all created from the index template
  ``<prefix>`` and joined to the read alias ``<prefix>`` that Kibana and searches use;
* core analysis only, so the bare node started by scripts/es.sh and a full cluster behave the
  same: ``title`` and ``content`` use a standard-tokenizer + ``shingle`` bigram analyzer
  (character-sequence recall and highlighting), ``words`` holds the segmenter's words analysed
  with the pre-built ``whitespace`` analyzer (exact-word scoring), filters are keywords.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import timezone
from typing import Any, Literal

from elasticsearch import (
    ApiError,
    BadRequestError,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)
from elasticsearch import (
    ConnectionError as EsConnectionError,
)

from alerting.index.protocol import (
    DEFAULT_PREFIX,
    Bucket,
    DocFailure,
    Hit,
    IndexDoc,
    IndexReport,
    IndexUnavailable,
    SearchQuery,
    SearchResult,
    check_query,
    doc_source,
)
from alerting.index.querysyntax import ParsedQuery, Term, parse
from alerting.index.tokens import Tokenize, WordCutter
from yuqing.errors import InputError

BULK_CHUNK = 2000  # documents per bulk request (~2 MB for typical posts)
# Bulk items failing with these statuses are worth another try (overload, shard not ready).
RETRYABLE = {429, 502, 503, 504}
_AGG_FIELDS = {"school": "schools", "category": "category", "severity": "severity", "status": "status",
               "site": "site", "source": "source"}

ANALYSIS: dict[str, Any] = {
    "filter": {
        # Index side: every character (unigram) and every pair of neighbours (bigram) at the
        # position of its first character, so a phrase of bigrams finds any character sequence.
        "yuqing_bigram_index": {"type": "shingle", "min_shingle_size": 2, "max_shingle_size": 2,
                                "output_unigrams": True, "token_separator": ""},
        # Query side: bigrams only, or the single token of a one-character word.
        "yuqing_bigram_search": {"type": "shingle", "min_shingle_size": 2, "max_shingle_size": 2,
                                 "output_unigrams": False, "output_unigrams_if_no_shingles": True,
                                 "token_separator": ""},
    },
    "analyzer": {
        "yuqing_bigram": {"type": "custom", "tokenizer": "standard",
                          "filter": ["lowercase", "yuqing_bigram_index"]},
        "yuqing_bigram_search": {"type": "custom", "tokenizer": "standard",
                                 "filter": ["lowercase", "yuqing_bigram_search"]},
    },
}

_TEXT = {"type": "text", "analyzer": "yuqing_bigram", "search_analyzer": "yuqing_bigram_search"}
_KW = {"type": "keyword", "ignore_above": 1024}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "url": {"type": "keyword", "index": False, "doc_values": False},
        "title": _TEXT,
        "content": _TEXT,
        "words": {"type": "text", "analyzer": "whitespace"},
        "published_at": {"type": "date"},
        "crawled_at": {"type": "date"},
        "source": _KW,
        "site": _KW,
        "kind": _KW,
        "author": _KW,
        "schools": _KW,
        "category": _KW,
        "severity": _KW,
        "status": _KW,
        "event_id": _KW,
        "topics": _KW,
        "sensitivity": {"type": "float"},
        "sentiment": {"type": "float"},
        "relevant": {"type": "boolean"},
        "reach": {"type": "long"},
        "thread_id": _KW,
        "content_hash": {"type": "keyword", "index": False},
    },
}


class ElasticsearchIndex:
    """``SearchIndex`` on an Elasticsearch 9 cluster or the local node."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        ca_certs: str | None = None,
        prefix: str = DEFAULT_PREFIX,
        replicas: int = 0,
        tokenize: Tokenize | None = None,
        request_timeout: float = 30.0,
        max_retries: int = 3,
        client: Elasticsearch | None = None,
    ):
        self.url = url
        self.prefix = prefix
        self.alias = prefix
        self.replicas = replicas
        self.max_retries = max_retries
        self.tokenize = tokenize or WordCutter()
        kwargs: dict[str, Any] = {"request_timeout": request_timeout, "max_retries": 1, "retry_on_timeout": True}
        if api_key:
            kwargs["api_key"] = api_key
        if basic_auth:
            kwargs["basic_auth"] = basic_auth
        if ca_certs:
            kwargs["ca_certs"] = ca_certs
        self.es = client or Elasticsearch(url, **kwargs)

    # -- structure ---------------------------------------------------------------------------------
    def index_for(self, doc: IndexDoc) -> str:
        """The monthly index of a post: by publish time (UTC), never by crawl time."""
        return f"{self.prefix}-{doc.published_at.astimezone(timezone.utc):%Y.%m}"

    def template_body(self) -> dict[str, Any]:
        return {
            "index_patterns": [f"{self.prefix}-*"],
            "priority": 200,
            "template": {
                "settings": {"number_of_shards": 1, "number_of_replicas": self.replicas, "analysis": ANALYSIS,
                             # Monitors look minutes, not seconds, after a crawl: fewer refreshes
                             # leave more of two cores to indexing. Searches right after
                             # indexing call refresh() explicitly.
                             "refresh_interval": "5s"},
                "mappings": MAPPINGS,
                "aliases": {self.alias: {}},
            },
            "_meta": {"description": "yuqing posts, one index per publish month; see docs/elasticsearch.md"},
        }

    def ensure(self) -> None:
        with _unavailable_on_connection_error(self.url):
            self.es.indices.put_index_template(name=self.prefix, **self.template_body())

    def close(self) -> None:
        self.es.close()

    # -- writing ------------------------------------------------------------------------------------
    def index(self, docs: Iterable[IndexDoc]) -> IndexReport:
        report = IndexReport()
        batch: list[IndexDoc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= BULK_CHUNK * 2:
                report.merge(self._index_batch(batch))
                batch = []
        if batch:
            report.merge(self._index_batch(batch))
        return report

    def _index_batch(self, docs: list[IndexDoc]) -> IndexReport:
        report = IndexReport()
        by_id = {d.id: d for d in docs}  # the last version of a post in one batch wins
        targets = {pid: self.index_for(d) for pid, d in by_id.items()}
        actions: list[dict[str, Any]] = []
        # A post whose publish time was corrected moves month: remove the copy in the old index.
        # (The lookup is a search: a copy written within the last refresh interval is not seen,
        # a rare double that `yuqing index rebuild` removes; a refresh per bulk batch would make
        # every batch wait for a new segment.)
        for pid, old_index in self._where(list(by_id)).items():
            if old_index != targets[pid]:
                actions.append({"_op_type": "delete", "_index": old_index, "_id": pid})
        for pid, doc in by_id.items():
            words = list(doc.words) or self.tokenize(f"{doc.title}\n{doc.content}")
            actions.append({"_op_type": "index", "_index": targets[pid], "_id": pid,
                            "_source": doc_source(doc, words)})
        pending = actions
        for attempt in range(self.max_retries + 1):
            retry: list[dict[str, Any]] = []
            for ok, item in self._bulk(pending):
                op, info = next(iter(item.items()))
                if op == "delete":
                    continue
                if ok:
                    report.indexed += 1
                    continue
                status = int(info.get("status", 0))
                if status in RETRYABLE and attempt < self.max_retries:
                    retry.append(next(a for a in pending if a["_id"] == info.get("_id") and a["_op_type"] == op))
                    continue
                report.failed.append(DocFailure(str(info.get("_id")), _reason(info), status in RETRYABLE))
            if not retry:
                break
            report.retries += len(retry)
            time.sleep(min(0.5 * 2**attempt, 8.0))
            pending = retry
        return report

    def _bulk(self, actions: list[dict[str, Any]]) -> Iterator[tuple[bool, dict[str, Any]]]:
        with _unavailable_on_connection_error(self.url):
            yield from helpers.streaming_bulk(
                self.es, actions, chunk_size=BULK_CHUNK, max_chunk_bytes=20 * 1024 * 1024,
                raise_on_error=False, raise_on_exception=True, max_retries=2, initial_backoff=1,
            )

    def _where(self, ids: list[str]) -> dict[str, str]:
        """The concrete index holding each of these post ids now."""
        if not ids:
            return {}
        with _unavailable_on_connection_error(self.url):
            try:
                resp = self.es.search(index=self.alias, query={"ids": {"values": ids}}, size=len(ids),
                                      source=False, ignore_unavailable=True, allow_no_indices=True)
            except NotFoundError:
                return {}
        return {h["_id"]: h["_index"] for h in resp["hits"]["hits"]}

    def update_status(self, post_ids: Sequence[str], status: str) -> int:
        update = {"_op_type": "update", "doc": {"status": status}}
        return self._bulk_on_indexed(post_ids, update, "更新帖子 {} 的状态失败")

    def delete(self, post_ids: Sequence[str]) -> int:
        # The bare node has no _delete_by_query: find each document's monthly index, then bulk-delete.
        return self._bulk_on_indexed(post_ids, {"_op_type": "delete"}, "删除帖子 {} 的索引文档失败")

    def _bulk_on_indexed(self, post_ids: Sequence[str], action: dict[str, Any], failure: str) -> int:
        """One bulk action on each indexed document of ``post_ids`` in its monthly index; how many succeeded."""
        # Finding a document's monthly index is a search, which sees only refreshed documents;
        # a status change may follow its post's indexing by less than the refresh interval.
        self.refresh()
        where = self._where(list(post_ids))
        if not where:
            return 0
        done = 0
        for ok, item in self._bulk([{**action, "_index": idx, "_id": pid} for pid, idx in where.items()]):
            info = next(iter(item.values()))
            if ok:
                done += 1
            elif int(info.get("status", 0)) != 404:  # deleted meanwhile: nothing to do
                raise IndexUnavailable(f"{failure.format(info.get('_id'))}:{_reason(info)}")
        return done

    def delete_all(self) -> None:
        with _unavailable_on_connection_error(self.url):
            try:
                indices = sorted(self.es.indices.get_alias(name=self.alias).body)
            except NotFoundError:
                indices = []
            # Explicit names: clusters refuse wildcard deletes (action.destructive_requires_name).
            for name in indices:
                self.es.indices.delete(index=name, ignore_unavailable=True)
            try:
                self.es.indices.delete_index_template(name=self.prefix)
            except NotFoundError:
                pass

    def refresh(self) -> None:
        with _unavailable_on_connection_error(self.url):
            try:
                self.es.indices.refresh(index=self.alias, ignore_unavailable=True, allow_no_indices=True)
            except NotFoundError:
                pass

    def count(self) -> int:
        with _unavailable_on_connection_error(self.url):
            try:
                return int(self.es.count(index=self.alias)["count"])
            except NotFoundError:
                return 0

    # -- searching ----------------------------------------------------------------------------------
    def search_body(self, q: SearchQuery) -> dict[str, Any]:
        """The request body for a query (public so that tests and docs can show it)."""
        check_query(q)
        parsed = parse(q.text)
        body: dict[str, Any] = {
            "query": {"bool": {**_text_query(parsed), "filter": _filters(q)}},
            "from": (q.page - 1) * q.size,
            "size": q.size,
            "track_total_hits": True,
            "sort": _sort(q, has_text=not parsed.empty),
        }
        if q.highlight and not parsed.empty:
            body["highlight"] = {
                "encoder": "html", "pre_tags": ["<em>"], "post_tags": ["</em>"],
                "fields": {"title": {"number_of_fragments": 0}, "content": {"fragment_size": 60,
                                                                           "number_of_fragments": 3}},
            }
        aggs: dict[str, Any] = {}
        for name in q.aggregations:
            if name == "day":
                aggs[name] = {"date_histogram": {"field": "published_at", "calendar_interval": "day",
                                                 "time_zone": q.timezone, "format": "yyyy-MM-dd",
                                                 "min_doc_count": 1}}
            else:
                aggs[name] = {"terms": {"field": _AGG_FIELDS[name], "size": 200,
                                        "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        if aggs:
            body["aggs"] = aggs
        return body

    def search(self, q: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        body = self.search_body(q)
        with _unavailable_on_connection_error(self.url):
            try:
                resp = self.es.search(index=self.alias, ignore_unavailable=True, allow_no_indices=True, **body)
            except NotFoundError:
                return SearchResult(total=0, hits=[], took_ms=(time.perf_counter() - started) * 1000)
            except BadRequestError as exc:
                raise InputError(f"检索条件无法执行:{_reason(exc.body if isinstance(exc.body, dict) else {})}") from exc
        hits = []
        for h in resp["hits"]["hits"]:
            hl = h.get("highlight", {})
            hits.append(Hit(id=h["_id"], score=float(h.get("_score") or 0.0), doc=h["_source"],
                            highlights=list(hl.get("title", [])) + list(hl.get("content", []))))
        aggs: dict[str, list[Bucket]] = {}
        for name, agg in (resp.get("aggregations") or {}).items():
            aggs[name] = [Bucket(str(b.get("key_as_string", b["key"])), int(b["doc_count"]))
                          for b in agg["buckets"] if b["doc_count"] > 0]
        return SearchResult(total=int(resp["hits"]["total"]["value"]), hits=hits, aggregations=aggs,
                            took_ms=(time.perf_counter() - started) * 1000)


def _phrase(term: Term) -> dict[str, Any]:
    # The tokens, not the raw text, so that both backends match on exactly the same tokens.
    text = " ".join(term.tokens)
    return {"bool": {"should": [{"match_phrase": {"title": {"query": text, "boost": 3.0}}},
                                {"match_phrase": {"content": {"query": text}}}],
                     "minimum_should_match": 1}}


def _group(terms: Sequence[Term]) -> dict[str, Any]:
    if len(terms) == 1:
        return _phrase(terms[0])
    return {"bool": {"should": [_phrase(t) for t in terms], "minimum_should_match": 1}}


def _text_query(parsed: ParsedQuery) -> dict[str, Any]:
    if parsed.empty:
        return {"must": [{"match_all": {}}]}
    out: dict[str, Any] = {"must": [_group(c.terms) for c in parsed.positive]}
    if parsed.negative:
        out["must_not"] = [_group(c.terms) for c in parsed.negative]
    # Scoring only (the must clauses decide the result set): a term that is one of the post's
    # words ranks above a mere character match (搜 "中学" ranks 县一中学 above 初中学生).
    out["should"] = [{"term": {"words": {"value": t.text, "boost": 2.0}}}
                     for c in parsed.positive for t in c.terms if not t.phrase]
    return out


def _filters(q: SearchQuery) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for field, values in (("schools", q.schools), ("category", q.categories), ("severity", q.severities),
                          ("status", q.statuses), ("site", q.sites), ("source", q.sources)):
        if values:
            out.append({"terms": {field: list(values)}})
    if q.event_id:
        out.append({"term": {"event_id": q.event_id}})
    if q.min_sensitivity is not None:
        out.append({"range": {"sensitivity": {"gte": q.min_sensitivity}}})
    rng: dict[str, str] = {}
    if q.since is not None:
        rng["gte"] = q.since.astimezone(timezone.utc).isoformat()
    if q.until is not None:
        rng["lt"] = q.until.astimezone(timezone.utc).isoformat()
    if rng:
        out.append({"range": {"published_at": rng}})
    return out


def _sort(q: SearchQuery, has_text: bool) -> list[Any]:
    if q.sort == "oldest":
        return [{"published_at": "asc"}, {"id": "asc"}]
    if q.sort == "sensitivity":
        return [{"sensitivity": "desc"}, {"published_at": "desc"}, {"id": "asc"}]
    if q.sort == "relevance" and has_text:
        return ["_score", {"published_at": "desc"}, {"id": "asc"}]
    return [{"published_at": "desc"}, {"id": "asc"}]


def _reason(info: dict[str, Any]) -> str:
    err = info.get("error", info)
    if isinstance(err, dict):
        text = f"{err.get('type', 'error')}: {err.get('reason', '')}"
        cause = err.get("caused_by")
        if isinstance(cause, dict):
            text += f" ({cause.get('type', '')}: {cause.get('reason', '')})"
        return text[:500]  # the node quotes the whole document source; keep the record readable
    return str(err)[:500]


class _unavailable_on_connection_error:
    """Connection failures and 5xx become ``IndexUnavailable`` (the caller keeps the outbox rows)."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> Literal[False]:
        if exc is None:
            return False
        if isinstance(exc, (EsConnectionError, TransportError)):
            raise IndexUnavailable(f"无法连接 Elasticsearch {self.url}:{exc}") from exc
        if isinstance(exc, ApiError) and int(getattr(exc, "status_code", 0) or 0) >= 500:
            raise IndexUnavailable(f"Elasticsearch {self.url} 出错:{exc}") from exc
        return False
