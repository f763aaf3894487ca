"""What only the Elasticsearch backend has: the node itself, the template, monthly indices by
publish date, the analysers agreeing with the Python tokenizer, and an unreachable cluster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import elasticsearch
import pytest

from alerting.index import IndexDoc, IndexUnavailable, SearchQuery, open_index
from alerting.index.corpus import sample_docs
from alerting.index.elasticsearch import ElasticsearchIndex
from alerting.index.querysyntax import bigrams, std_tokens

pytestmark = pytest.mark.es


@pytest.fixture
def es_index(es_url: str, es_prefix: str) -> Iterator[ElasticsearchIndex]:
    ix = open_index(es_url, prefix=es_prefix)
    assert isinstance(ix, ElasticsearchIndex)
    ix.ensure()
    try:
        yield ix
    finally:
        ix.delete_all()
        assert not ix.es.indices.exists_index_template(name=es_prefix)
        ix.close()


def _doc(pid: str, published: datetime, crawled: datetime) -> IndexDoc:
    return IndexDoc(id=pid, url=f"https://x/{pid}", title="县一中食堂", content="饭菜", published_at=published,
                    crawled_at=crawled)


def test_the_node_answers_like_elasticsearch_9(es_url: str) -> None:
    info = elasticsearch.Elasticsearch(es_url).info()
    server = tuple(int(x) for x in info["version"]["number"].split(".")[:2])
    client = tuple(int(x) for x in elasticsearch.__versionstr__.split(".")[:2])
    # Same major, and the client no newer than the server: clients are only forward compatible.
    assert server[0] == client[0] == 9 and client <= server
    assert info["tagline"] == "You Know, for Search"


def test_monthly_indices_by_publish_date_behind_one_alias(es_index: ElasticsearchIndex, es_prefix: str) -> None:
    late_dec = datetime(2025, 12, 31, 20, 0, tzinfo=timezone.utc)  # crawled in January: still December's
    march = datetime(2026, 3, 1, tzinfo=timezone.utc)
    report = es_index.index([_doc("a", late_dec, datetime(2026, 1, 2, tzinfo=timezone.utc)), _doc("b", march, march)])
    assert report.indexed == 2
    es_index.refresh()
    aliases = es_index.es.indices.get_alias(name=es_prefix).body
    assert sorted(aliases) == [f"{es_prefix}-2025.12", f"{es_prefix}-2026.03"]
    found = es_index.es.search(index=es_prefix, query={"ids": {"values": ["a"]}})["hits"]["hits"]
    assert found[0]["_index"] == f"{es_prefix}-2025.12"


def test_mapping_is_core_analysis_only(es_index: ElasticsearchIndex, es_prefix: str) -> None:
    es_index.index([_doc("a", datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc))])
    mapping = es_index.es.indices.get_mapping(index=f"{es_prefix}-2026.03")[f"{es_prefix}-2026.03"]["mappings"]
    props = mapping["properties"]
    assert mapping["dynamic"] == "strict"
    assert props["words"] == {"type": "text", "analyzer": "whitespace"}
    assert props["title"]["analyzer"] == "yuqing_bigram" and props["title"]["search_analyzer"] == "yuqing_bigram_search"
    for kw in ("schools", "site", "source", "category", "severity", "status", "event_id", "topics"):
        assert props[kw]["type"] == "keyword"
    assert props["published_at"]["type"] == "date" and props["sensitivity"]["type"] == "float"


TRICKY = ["县一中食堂问题ABC 3.5元,1,000人。o'clock e-mail", "Ｗｅｉｂｏ１２３ 转发", "www.example.cn/p?id=5",
          "2026年3月1日 8:30", "学生_家长 #话题# @网友 【通报】"]


def test_the_python_tokenizer_agrees_with_the_standard_tokenizer(es_index: ElasticsearchIndex) -> None:
    """The FTS5 backend and the query side use querysyntax.std_tokens; the node's analysis must
    give the same tokens, or the two backends would disagree."""
    texts = TRICKY + [d.title + d.content for d in sample_docs(40, seed=3)]
    for text in texts:
        got = es_index.es.indices.analyze(tokenizer="standard", filter=["lowercase"], text=text)["tokens"]
        assert [t["token"] for t in got] == std_tokens(text), text
    # And the bigram analyser yields exactly unigrams plus bigrams.
    es_index.index([_doc("z", datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc))])
    text = TRICKY[0]
    got = es_index.es.indices.analyze(index=f"{es_index.prefix}-2026.03", analyzer="yuqing_bigram", text=text)
    toks = std_tokens(text)
    assert sorted(t["token"] for t in got["tokens"]) == sorted(toks + bigrams(toks))


def test_an_unreachable_cluster_is_index_unavailable() -> None:
    ix = open_index("http://127.0.0.1:9", request_timeout=2)
    with pytest.raises(IndexUnavailable):
        ix.search(SearchQuery(text="食堂"))
    with pytest.raises(IndexUnavailable):
        ix.index([_doc("a", datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc))])
    with pytest.raises(IndexUnavailable):
        ix.count()
