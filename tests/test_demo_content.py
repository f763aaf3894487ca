"""The seeded demo corpus: deterministic, realistic in mix and size, with ground truth and the anchors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from yuqing.config import Config, load_config
from yuqing.demo.content import (
    ANCHORS,
    PLATFORMS,
    XSS_BODY,
    XSS_TITLE,
    DemoCorpus,
    build_corpus,
    category_counts,
    corpus_posts,
    iter_truth,
    mid_to_bid,
    scale_posts,
)
from yuqing.model import Category, Post

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def _sample() -> Config:
    return load_config(ROOT / "config")


def _fingerprint(corpus: DemoCorpus) -> list[tuple[object, ...]]:
    return [
        (
            i.key,
            i.platform,
            i.number,
            i.title,
            i.text,
            i.author,
            i.published_at,
            i.schools,
            i.category,
            tuple((r.floor, r.author, r.text, r.published_at) for r in i.replies),
        )
        for i in corpus.items
    ]


def test_same_seed_and_clock_give_the_same_corpus() -> None:
    cfg = _sample()
    assert _fingerprint(build_corpus(cfg, seed=7, now=NOW)) == _fingerprint(build_corpus(cfg, seed=7, now=NOW))


def test_another_seed_gives_other_content() -> None:
    cfg = _sample()
    a, b = build_corpus(cfg, seed=1, now=NOW), build_corpus(cfg, seed=2, now=NOW)
    assert _fingerprint(a) != _fingerprint(b)
    # The anchors are fixed text whatever the seed.
    for name in ANCHORS:
        assert a.anchor_items(name) and b.anchor_items(name), name


def test_sizes_per_platform() -> None:
    c = build_corpus(_sample(), now=NOW)
    n = c.counts()
    assert n["news"] + n["gov"] + n["ext"] >= 30
    assert n["tieba"] >= 20 and n["discuz"] >= 15 and n["weibo"] >= 60
    assert set(n) == set(PLATFORMS)
    tieba = c.by_platform("tieba")
    # Every thread has replies; one long thread runs over two pages (more than 30 floors).
    assert all(len(t.replies) >= 2 for t in tieba)
    assert sum(1 for t in tieba if 2 <= len(t.replies) <= 15) >= 15
    assert any(len(t.replies) + 1 > 30 for t in tieba)
    assert all(len(t.replies) >= 1 for t in c.by_platform("discuz"))
    assert sum(1 for t in c.by_platform("discuz") if len(t.replies) + 1 > 10) >= 1  # a two-page Discuz! thread


def test_weibo_has_long_text_and_reposts() -> None:
    c = build_corpus(_sample(), now=NOW)
    weibo = c.by_platform("weibo")
    assert sum(1 for w in weibo if len(w.text) > 140) >= 3
    reposts = [w for w in weibo if w.retweet_of]
    assert len(reposts) >= 3
    keys = {w.key for w in weibo}
    assert all(r.retweet_of in keys for r in reposts)
    assert any("#" in w.text for w in weibo) and any("@" in w.text for w in weibo)


def test_every_category_and_mostly_ordinary() -> None:
    c = build_corpus(_sample(), now=NOW)
    counts = category_counts(c.items)
    assert set(counts) == set(Category)
    assert counts[Category.none] > len(c.items) * 0.55, counts
    for cat in (Category.inquiry, Category.incident, Category.fabrication, Category.suggestion):
        assert counts[cat] >= 3, (cat, counts)


def test_ground_truth_is_consistent_with_the_configuration() -> None:
    cfg = _sample()
    c = build_corpus(cfg, now=NOW)
    ids = {s.id for s in cfg.schools}
    for item, reply in iter_truth(c):
        truth = reply or item
        assert set(truth.schools) <= ids, (item.key, truth.schools)
        if truth.relevant:
            assert truth.schools, item.key
    for item in c.items:
        assert item.platform in PLATFORMS
        assert item.path.startswith("/")
        if not item.relevant:
            assert not item.schools, item.key
    # Every school of the county appears somewhere.
    mentioned = {s for i in c.items for s in i.schools}
    assert mentioned == ids


def test_other_county_and_ambiguous_items_exist() -> None:
    cfg = _sample()
    c = build_corpus(cfg, now=NOW)
    others = [i for i in c.items if any(p in i.title + i.text for p in cfg.county.other_places)]
    assert len(others) >= 8
    assert all(not i.relevant for i in others)
    assert {i.platform for i in others} >= {"ext", "weibo", "tieba"}
    assert any(i.category is not Category.none for i in others)  # sensitive text, but not ours
    # Short forms without county context on the unscoped Weibo search: not attributable.
    ambiguous = [i for i in c.by_platform("weibo") if not i.relevant and cfg.county.name not in i.text]
    assert any("一中" in i.text or "二中" in i.text or "实验小学" in i.text for i in ambiguous)


def test_publish_times_are_recent_and_not_in_the_future() -> None:
    c = build_corpus(_sample(), now=NOW)
    for item, reply in iter_truth(c):
        t = (reply or item).published_at
        assert t.tzinfo is not None
        assert NOW - timedelta(days=11) <= t <= NOW, (item.key, t)


def test_lengths_vary_from_a_few_words_to_a_long_feature() -> None:
    c = build_corpus(_sample(), now=NOW)
    lengths = [len(i.text) for i in c.items] + [len(r.text) for i in c.items for r in i.replies]
    assert min(lengths) <= 10
    assert max(lengths) >= 1300
    assert 1 <= min(len(i.text) for i in c.items)


def test_near_duplicate_stories_span_platforms() -> None:
    c = build_corpus(_sample(), now=NOW)
    stories: dict[str, set[str]] = {}
    for i in c.items:
        if i.story:
            stories.setdefault(i.story, set()).add(i.platform)
    multi = {k: v for k, v in stories.items() if len(v) >= 2}
    assert len(multi) >= 3, stories
    assert {"weibo", "tieba", "news"} <= stories["food-poisoning"]
    # Copies are near-duplicates (small edits), not merely the same topic.
    food = {i.platform: i for i in c.anchor_items("FOOD_POISONING") if not i.retweet_of}
    assert _jaccard(food["weibo"].text, food["tieba"].text) >= 0.4
    assert _jaccard(food["news"].text, food["ext"].text) >= 0.4
    bus = [i for i in c.items if i.story == "school-bus" and not i.retweet_of]
    assert len({i.platform for i in bus}) == 2 and _jaccard(bus[0].text, bus[1].text) >= 0.4


def _jaccard(a: str, b: str, k: int = 3) -> float:
    sa = {a[i : i + k] for i in range(len(a) - k + 1)}
    sb = {b[i : i + k] for i in range(len(b) - k + 1)}
    return len(sa & sb) / len(sa | sb)


def test_anchors_present_with_their_needles_and_platforms() -> None:
    c = build_corpus(_sample(), now=NOW)
    for name, anchor in ANCHORS.items():
        items = c.anchor_items(name)
        assert items, name
        assert set(anchor.platforms) <= {i.platform for i in items}, name
        for item in items:
            assert anchor.needle in item.title or anchor.needle in item.text, (name, item.key)
            assert item.category is anchor.category
            assert item.relevant is anchor.relevant
            assert set(item.schools) == set(anchor.schools)
    assert ANCHORS["FOOD_POISONING"].severe
    food = " ".join(i.text for i in c.anchor_items("FOOD_POISONING"))
    for word in ("示例县第一中学", "食堂", "呕吐", "住院"):
        assert word in food
    assert c.with_needle(ANCHORS["OTHER_COUNTY"].needle)


def test_xss_anchor_carries_every_payload() -> None:
    c = build_corpus(_sample(), now=NOW)
    (item,) = c.anchor_items("XSS")
    assert item.title == XSS_TITLE and item.text == XSS_BODY
    assert "<script>alert(1)</script>" in item.title
    assert "<img src=x onerror=alert(2)>" in item.text
    assert "javascript:" in item.text
    assert "示例县第一中学" in item.title


def test_new_item_for_live_posts() -> None:
    c = build_corpus(_sample(), now=NOW)
    item = c.new_item("tieba", "示例县第一中学门口又堵车了", title="一中门口堵车", category=Category.suggestion)
    assert item.number > max(i.number for i in c.by_platform("tieba"))
    assert item.category is Category.suggestion and item.platform == "tieba"


def test_weibo_bid_from_mid() -> None:
    # A real pair from the saved m.weibo.cn search response.
    assert mid_to_bid("4245770112569916") == "GjcGLaMyg"


def test_scale_posts_for_benchmarks() -> None:
    posts = scale_posts(300, seed=3, length=200)
    assert len(posts) == 300 and all(isinstance(p, Post) for p in posts)
    assert len({p.id for p in posts}) == 300
    assert all(150 <= len(p.content) <= 200 for p in posts)
    assert len({p.content for p in posts}) > 250
    assert [p.content for p in scale_posts(20, seed=3)] == [p.content for p in posts[:20]]
    assert [p.content for p in scale_posts(20, seed=4)] != [p.content for p in posts[:20]]
    long = scale_posts(5, seed=1, length=1000)
    assert all(len(p.content) >= 900 for p in long)


def test_build_without_config_uses_the_sample_county() -> None:
    c = build_corpus(None, now=NOW)
    assert c.county == "示例县" and c.tieba_board == "示例"
    assert c.anchor_items("FOOD_POISONING")


def test_relevant_items_name_their_schools() -> None:
    """Ground truth that analysis can reach: a relevant post names its school (reposts carry the original)."""
    cfg = _sample()
    c = build_corpus(cfg, now=NOW)
    for item in c.items:
        if not item.relevant or item.retweet_of:
            continue
        text = item.title + item.text
        for school_id in item.schools:
            names = cfg.school(school_id).all_names()
            assert any(n in text for n in names), (item.key, school_id, text[:60])


def test_scaled_corpus_for_crawl_benchmarks() -> None:
    base = build_corpus(_sample(), now=NOW)
    big = build_corpus(_sample(), now=NOW, scale=400)
    assert len(big.items) == len(base.items) + 400
    assert _fingerprint(big)[: len(base.items)] == _fingerprint(base)  # the default corpus is unchanged
    extra = big.items[len(base.items) :]
    assert {i.platform for i in extra} == {"gov", "tieba", "discuz"}
    assert len({(i.platform, i.number) for i in big.items}) == len(big.items)


def test_built_in_sample_matches_the_sample_configuration() -> None:
    """`python -m yuqing.demo.sites` without --config serves the same corpus as the sample config gives."""
    assert _fingerprint(build_corpus(None, now=NOW)) == _fingerprint(build_corpus(_sample(), now=NOW))


def test_corpus_posts_carry_truth_and_stable_ids() -> None:
    cfg = _sample()
    c = build_corpus(cfg, now=NOW)
    posts = corpus_posts(c, "http://127.0.0.1:8800")
    replies = sum(len(i.replies) for i in c.items if not i.deleted)
    assert len(posts) == sum(1 for i in c.items if not i.deleted) + replies
    assert len({p.id for p in posts}) == len(posts)
    assert {p.source for p in posts} <= {s.id for s in cfg.sources}
    food = [p for p in posts if p.extra["truth"]["anchor"] == "FOOD_POISONING"]
    assert {p.source for p in food} >= {"demo-weibo-search", "demo-tieba", "demo-news-rss"}
    reply = next(p for p in posts if p.kind.value == "reply")
    thread = next(p for p in posts if p.id == reply.thread_id)
    assert reply.url == thread.url and reply.floor and reply.floor >= 2
    assert [p.id for p in corpus_posts(c, "http://127.0.0.1:8800")] == [p.id for p in posts]
