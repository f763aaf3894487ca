"""One contract suite for both search backends (SQLite FTS5 and the real Elasticsearch node).

Every query's result set is checked against a plain-Python oracle of the documented semantics
(querysyntax: a word matches when its standard tokens occur in sequence in the title or the
content), so the two backends agree with each other because each agrees with the definition.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerting.index import IndexDoc, SearchIndex, SearchQuery, open_index
from alerting.index.corpus import sample_docs
from alerting.index.querysyntax import Term, parse, std_tokens
from yuqing.errors import InputError

DOCS = list(sample_docs(300, seed=11))
EXTRA = [
    IndexDoc(id="x-html", url="https://bbs.example-county.cn/t/1", title="<script>alert(1)</script>食堂通知",
             content="县一中食堂 & 宿舍 <b>公告</b>:本周三起 12:00 开饭。", category="inquiry",
             published_at=datetime(2026, 2, 10, 16, 30, tzinfo=timezone.utc),  # 2026-02-11 00:30 in Shanghai
             crawled_at=datetime(2026, 2, 10, 17, 0, tzinfo=timezone.utc), schools=("xian-yizhong",),
             site="bbs.example-county.cn", source="forum", status="new", sensitivity=0.91, severity="III"),
    IndexDoc(id="x-latin", url="https://weibo.com/2", title="School bus 校车 ABC-123",
             content="o'clock 3.5元 1,000人 e-mail WeChat 😀开心 カタカナ 한국어 Ⅳ级 学生_家长",
             published_at=datetime(2026, 3, 3, tzinfo=timezone.utc),
             crawled_at=datetime(2026, 3, 3, 1, tzinfo=timezone.utc), site="weibo.com", source="weibo"),
]
ALL = DOCS + EXTRA


@pytest.fixture(params=["fts5", pytest.param("es", marks=pytest.mark.es)])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    if request.param == "fts5":
        ix = open_index(f"sqlite:///{tmp_path / 'index.db'}")
    else:
        es_url = request.getfixturevalue("es_url")
        ix = open_index(es_url, prefix=request.getfixturevalue("es_prefix"))
    ix.ensure()
    try:
        yield ix
    finally:
        ix.delete_all()
        ix.close()


@pytest.fixture
def loaded(index: SearchIndex) -> SearchIndex:
    report = index.index(ALL)
    assert report.indexed == len(ALL) and not report.failed
    index.refresh()
    return index


# -- the oracle ----------------------------------------------------------------------------------
def _has(tokens: list[str], term: Term) -> bool:
    k = len(term.tokens)
    return any(tuple(tokens[i : i + k]) == term.tokens for i in range(len(tokens) - k + 1))


def oracle(text: str, docs: list[IndexDoc] = ALL) -> set[str]:
    parsed = parse(text)
    out = set()
    for d in docs:
        fields = [std_tokens(d.title), std_tokens(d.content)]

        def hit(term: Term, fields: list[list[str]] = fields) -> bool:
            return any(_has(f, term) for f in fields)

        if all(any(hit(t) for t in c.terms) for c in parsed.positive) and not any(
            any(hit(t) for t in c.terms) for c in parsed.negative
        ):
            out.add(d.id)
    return out


def all_ids(index: SearchIndex, q: SearchQuery) -> list[str]:
    ids: list[str] = []
    page = 1
    while True:
        r = index.search(replace(q, page=page, size=200))
        ids.extend(r.ids)
        if len(ids) >= r.total or not r.ids:
            assert len(ids) == r.total
            return ids
        page += 1


QUERIES = [
    "食堂", "县一中", "一中食堂", "县一中 食堂", "食堂 OR 宿舍", "食堂 OR 宿舍 -县二中", '"县一中 食堂"',
    "收费 350元", "1,200人", "douyin", "DOUYIN 转发", "8:30", "校车 -超载", "教育局 工作组", "县",
    "abc", "o'clock", "3.5元", "e-mail", "老师体罚 OR 校园欺凌 -红旗中学", "不存在的词语", "食堂 AND 家长",
    "“县一中 食堂”", "😀", "カタカナ", "한국어", "ⅳ级", "学生家长", "_家长",
]


@pytest.mark.parametrize("text", QUERIES)
def test_full_text_result_sets_follow_the_documented_semantics(loaded: SearchIndex, text: str) -> None:
    expected = oracle(text)
    got = all_ids(loaded, SearchQuery(text=text, highlight=False))
    assert len(got) == len(set(got)), "a post appears twice"
    assert set(got) == expected


def test_the_oracle_is_not_trivial() -> None:
    # Guards the suite itself: the queries above must match something and not everything.
    sizes = {q: len(oracle(q)) for q in QUERIES}
    assert sizes["食堂"] > 10 and sizes["食堂"] < len(ALL)
    assert sizes["不存在的词语"] == 0
    assert sizes["食堂 OR 宿舍"] > sizes["食堂"]
    assert sizes["食堂 OR 宿舍 -县二中"] < sizes["食堂 OR 宿舍"]


def _match_filters(d: IndexDoc, q: SearchQuery) -> bool:
    return (
        (not q.schools or bool(set(d.schools) & set(q.schools)))
        and (not q.categories or d.category in q.categories)
        and (not q.severities or d.severity in q.severities)
        and (not q.statuses or d.status in q.statuses)
        and (not q.sites or d.site in q.sites)
        and (not q.sources or d.source in q.sources)
        and (q.min_sensitivity is None or d.sensitivity >= q.min_sensitivity)
        and (q.since is None or d.published_at >= q.since)
        and (q.until is None or d.published_at < q.until)
    )


FILTERS = [
    SearchQuery(schools=["xian-yizhong"]),
    SearchQuery(schools=["xian-yizhong", "teshu-xuexiao"], categories=["inquiry", "incident"]),
    SearchQuery(severities=["I", "II"], statuses=["new", "triaged"]),
    SearchQuery(sites=["weibo.com"], sources=["weibo"]),
    SearchQuery(min_sensitivity=0.8),
    SearchQuery(since=datetime(2026, 2, 1, tzinfo=timezone.utc), until=datetime(2026, 3, 1, tzinfo=timezone.utc)),
    SearchQuery(text="食堂 OR 收费", categories=["inquiry"], since=datetime(2026, 1, 15, tzinfo=timezone.utc)),
]


@pytest.mark.parametrize("q", FILTERS, ids=[f"f{i}" for i in range(len(FILTERS))])
def test_filters(loaded: SearchIndex, q: SearchQuery) -> None:
    candidates = oracle(q.text) if q.text else {d.id for d in ALL}
    expected = {d.id for d in ALL if d.id in candidates and _match_filters(d, q)}
    assert expected, "a filter case that matches nothing proves little"
    assert set(all_ids(loaded, q)) == expected


def test_aggregations_count_the_whole_match_not_the_page(loaded: SearchIndex) -> None:
    q = SearchQuery(text="食堂 OR 校车", size=5, aggregations=["day", "school", "category", "severity", "status"])
    r = loaded.search(q)
    docs = [d for d in ALL if d.id in oracle(q.text)]
    assert r.total == len(docs) and len(r.hits) == 5
    tz = ZoneInfo("Asia/Shanghai")
    expect_day = Counter(d.published_at.astimezone(tz).strftime("%Y-%m-%d") for d in docs)
    assert {b.key: b.count for b in r.aggregations["day"]} == expect_day
    assert [b.key for b in r.aggregations["day"]] == sorted(expect_day)
    assert {b.key: b.count for b in r.aggregations["school"]} == Counter(s for d in docs for s in d.schools)
    assert {b.key: b.count for b in r.aggregations["category"]} == Counter(d.category for d in docs)
    assert {b.key: b.count for b in r.aggregations["severity"]} == Counter(d.severity for d in docs if d.severity)
    assert {b.key: b.count for b in r.aggregations["status"]} == Counter(d.status for d in docs)
    counts = [b.count for b in r.aggregations["school"]]
    assert counts == sorted(counts, reverse=True)


def test_day_buckets_are_bureau_calendar_days(loaded: SearchIndex) -> None:
    r = loaded.search(SearchQuery(text="公告 开饭", aggregations=["day"]))
    assert r.ids == ["x-html"]
    assert [(b.key, b.count) for b in r.aggregations["day"]] == [("2026-02-11", 1)]


@pytest.mark.parametrize("sort", ["newest", "oldest", "sensitivity"])
def test_sorting_and_pagination(loaded: SearchIndex, sort: str) -> None:
    q = SearchQuery(schools=["xian-erzhong"], sort=sort)  # type: ignore[arg-type]
    docs = [d for d in ALL if "xian-erzhong" in d.schools]
    if sort == "newest":
        expected = [d.id for d in sorted(docs, key=lambda d: (-d.published_at.timestamp(), d.id))]
    elif sort == "oldest":
        expected = [d.id for d in sorted(docs, key=lambda d: (d.published_at.timestamp(), d.id))]
    else:
        expected = [d.id for d in sorted(docs, key=lambda d: (-d.sensitivity, -d.published_at.timestamp(), d.id))]
    pages = [loaded.search(replace(q, page=p, size=7)).ids for p in range(1, len(docs) // 7 + 2)]
    assert [i for page in pages for i in page] == expected


def test_relevance_puts_title_matches_first(loaded: SearchIndex) -> None:
    r = loaded.search(SearchQuery(text="宿舍漏水", size=200))
    in_title = {d.id for d in ALL if "宿舍漏水" in d.title}
    assert in_title and set(r.ids[: len(in_title)]) == in_title


def test_highlight_is_escaped_html_with_em(loaded: SearchIndex) -> None:
    r = loaded.search(SearchQuery(text="食堂 公告"))
    hit = next(h for h in r.hits if h.id == "x-html")
    joined = " ".join(hit.highlights)
    assert "<em>食堂</em>" in joined
    assert "<script>" not in joined and "&lt;script&gt;" in joined
    assert "<b>" not in joined


def test_reindexing_is_idempotent_and_replaces(loaded: SearchIndex) -> None:
    before = loaded.count()
    changed = replace(ALL[0], title="改过的标题 独一无二", published_at=ALL[0].published_at + timedelta(days=62))
    report = loaded.index([changed, *ALL[1:50]])
    loaded.refresh()
    assert report.indexed == 50 and not report.failed
    assert loaded.count() == before
    assert loaded.search(SearchQuery(text="独一无二")).ids == [ALL[0].id]
    assert set(loaded.search(SearchQuery(text=ALL[0].title, size=500)).ids) == oracle(ALL[0].title, [changed, *ALL[1:]])


def test_update_status(loaded: SearchIndex) -> None:
    ids = [d.id for d in ALL if d.status == "none"][:5]
    assert loaded.update_status([*ids, "no-such-post"], "handling") == 5
    loaded.refresh()
    got = set(all_ids(loaded, SearchQuery(statuses=["handling"])))
    assert set(ids) <= got
    assert got == set(ids) | {d.id for d in ALL if d.status == "handling"}
    assert loaded.search(SearchQuery(text="", statuses=["handling"], size=500)).hits[0].doc["status"] == "handling"


def test_delete_removes_purged_posts_from_search_and_counts(loaded: SearchIndex) -> None:
    gone = ALL[:7]
    assert loaded.delete([d.id for d in gone] + ["no-such-post"]) == 7
    loaded.refresh()
    assert loaded.count() == len(ALL) - 7
    rest = ALL[7:]
    for d in gone[:3]:  # their words no longer find them, and what remains is exactly the oracle's
        assert d.id not in set(all_ids(loaded, SearchQuery(text=d.title)))
        assert set(all_ids(loaded, SearchQuery(text=d.title))) == oracle(d.title, rest)
    assert loaded.delete([d.id for d in gone]) == 0  # idempotent
    assert loaded.index(gone[:1]).indexed == 1  # the id can come back (a re-crawl within retention)
    loaded.refresh()
    assert loaded.count() == len(ALL) - 6


def test_delete_all_and_empty_index(loaded: SearchIndex) -> None:
    assert loaded.count() == len(ALL)
    loaded.delete_all()
    assert loaded.count() == 0
    assert loaded.search(SearchQuery(text="食堂", aggregations=["day"])).total == 0
    loaded.ensure()
    assert loaded.index(ALL[:3]).indexed == 3
    loaded.refresh()
    assert loaded.count() == 3


BAD = ['"食堂', "-", "食堂 OR", "OR 食堂", "食堂 OR OR 宿舍", "-食堂", "(食堂)", "，。!", "食堂 OR -宿舍", "字" * 501]


@pytest.mark.parametrize("text", BAD)
def test_bad_query_syntax_is_a_clear_chinese_error(loaded: SearchIndex, text: str) -> None:
    with pytest.raises(InputError) as err:
        loaded.search(SearchQuery(text=text))
    message = str(err.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    assert "Traceback" not in message


@pytest.mark.parametrize("q", [SearchQuery(page=0), SearchQuery(size=1000), SearchQuery(page=200, size=100),
                               SearchQuery(aggregations=["colour"]), SearchQuery(sort="best"),  # type: ignore[arg-type]
                               SearchQuery(since=datetime(2026, 3, 1, tzinfo=timezone.utc),
                                           until=datetime(2026, 2, 1, tzinfo=timezone.utc))])
def test_bad_parameters_are_input_errors(loaded: SearchIndex, q: SearchQuery) -> None:
    with pytest.raises(InputError):
        loaded.search(q)


def test_a_refused_document_is_reported_and_the_rest_indexed(index: SearchIndex) -> None:
    # A view count past the 64-bit range: Elasticsearch's `long` refuses it (a mapping conflict),
    # and FTS5 refuses the same document.
    bad = replace(ALL[5], reach=10**20)
    report = index.index([ALL[4], bad, ALL[6]])
    index.refresh()
    assert report.indexed == 2
    assert [f.id for f in report.failed] == [bad.id] and not report.failed[0].retryable
    assert "reach" in report.failed[0].reason or "range" in report.failed[0].reason
    assert sorted(all_ids(index, SearchQuery())) == sorted([ALL[4].id, ALL[6].id])


def test_status_update_right_after_indexing(index: SearchIndex) -> None:
    # No refresh in between: the review queue may act within the index's refresh interval.
    index.index(ALL[:3])
    assert index.update_status([ALL[0].id, ALL[2].id], "reported") == 2
    index.refresh()
    assert sorted(all_ids(index, SearchQuery(statuses=["reported"]))) == sorted([ALL[0].id, ALL[2].id])
