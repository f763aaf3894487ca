"""Every spider against the demo sites, through the real runner (one `scrapy crawl` process per source):
the expected posts are collected with all their fields and evidence; a re-run adds nothing and asks with
conditional requests; a new reply is picked up; robots.txt holds under many concurrent start requests."""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from alerting.store.tables import EvidenceRow, PostRow, SeenUrlRow
from crawler.runner import ROOT
from tests.plugins.crawl import CrawlEnv
from yuqing.demo.content import ANCHORS, DemoItem
from yuqing.demo.views import _matches
from yuqing.model import utcnow

SOURCES = ["demo-news-rss", "demo-gov-list", "demo-news-search", "demo-tieba", "demo-forum", "demo-weibo-search"]


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def crawled(crawl_env_factory: Any) -> Iterator[tuple[CrawlEnv, dict[str, Any], dict[str, Any]]]:
    comments = {"demo-weibo-search": {"options": {"comments": True}}}
    env = crawl_env_factory("spiders", only=SOURCES, overrides=comments)
    first = env.crawl(SOURCES)
    env.sites.clear_requests()
    second = env.crawl(SOURCES)
    yield env, first, second


def _items(env: CrawlEnv, platform: str) -> list[DemoItem]:
    return [i for i in env.sites.corpus.by_platform(platform) if not i.deleted and i.encoding != "big5"]


def _search_hits(env: CrawlEnv, keywords: list[str], pool: tuple[str, ...], per_page: int, pages: int
                 ) -> list[DemoItem]:
    """What the demo search engine returns on the pages the source reads (as the demo view ranks them)."""
    hits: list[DemoItem] = []
    for kw in keywords:
        words = kw.split()
        items = [i for i in env.sites.corpus.items if i.platform in pool and not i.deleted]
        scored = sorted(((_matches(i, words), i) for i in items), key=lambda t: (t[0], t[1].published_at),
                        reverse=True)
        hits += [i for score, i in scored if score > 0][: per_page * pages]
    return hits


def test_first_run_ok_for_every_source(crawled: tuple[CrawlEnv, dict[str, Any], dict[str, Any]]) -> None:
    env, first, _ = crawled
    assert set(first) == set(SOURCES)
    for sid, r in first.items():
        assert r.status == "ok", (sid, r.message, env.log(sid)[-2000:])
        assert r.new_posts > 0 and r.pages > 0, (sid, r)
        assert "抓取页面" in r.message


def test_each_spider_collects_the_expected_posts(crawled: tuple[CrawlEnv, dict[str, Any], dict[str, Any]]) -> None:
    env, _, _ = crawled
    stored = _norm("".join(p.title + "\n" + p.content for p in env.posts()))
    expected: dict[str, list[DemoItem]] = {
        "news (rss)": _items(env, "news"),
        "gov (news_list)": _items(env, "gov"),
        "tieba": _items(env, "tieba"),
        "discuz": _items(env, "discuz"),
        "search": _search_hits(env, ["示例县 学校", "示例县一中"], ("news", "gov", "ext"), 10, 2),
    }
    for name, items in expected.items():
        assert items, name
        missing = [i.key for i in items if _norm(i.text)[:40] not in stored]
        assert not missing, f"{name}: not collected {missing}"
        replies = [(i.key, r.floor) for i in items for r in i.replies if _norm(r.text)[:30] not in stored]
        assert not replies, f"{name}: replies not collected {replies}"
    for name, anchor in ANCHORS.items():  # the fixed stories the end-to-end tests assert on
        for item in env.sites.corpus.anchor_items(name):
            if item.platform in ("news", "gov", "tieba", "discuz") and item.encoding != "big5" and not item.deleted:
                assert _norm(anchor.needle) in stored, (name, item.key)
    weibo = [i for i in env.sites.corpus.by_platform("weibo") if not i.deleted and _matches(i, ["示例县"])][:30]
    weibo_posts = [p for p in env.posts("demo-weibo-search") if p.kind == "weibo"]
    weibo_text = _norm("".join(p.content for p in weibo_posts))
    assert len(weibo_posts) == len(weibo)
    comments = [p for p in env.posts("demo-weibo-search") if p.kind == "comment"]
    assert len(comments) == sum(len(i.replies) for i in weibo)  # options.comments: every hot comment page
    # Full texts, long ones included (their cut copy is replaced by the extend endpoint's text).
    cut = [i.key for i in weibo if re.sub(r"\[[^\]]{1,4}\]", "", _norm(i.text))[-20:] not in weibo_text]
    assert not cut, f"weibo texts incomplete: {cut}"


def test_posts_carry_every_field_and_their_evidence(crawled: tuple[CrawlEnv, dict[str, Any], dict[str, Any]]
                                                   ) -> None:
    env, _, _ = crawled
    posts = env.posts()
    ids = {p.id for p in posts}
    with env.session() as s:
        evidence = {e.sha256: e for e in s.scalars(select(EvidenceRow))}
    for p in posts:
        assert p.source in SOURCES and p.site == "127.0.0.1" and p.url.startswith(env.sites.base_url)
        assert p.content.strip() and p.crawled_at.tzinfo is not None
        assert p.published_at is not None and p.published_at.utcoffset().total_seconds() == 0, p.url
        assert p.raw_sha256 in evidence, p.url
        if p.kind in ("reply", "comment"):
            assert p.thread_id in ids, f"reply {p.id} not linked to a stored thread"
    for sha, row in list(evidence.items())[:20]:
        assert hashlib.sha256(gzip.decompress(row.body_gz)).hexdigest() == sha
    tieba = [p for p in posts if p.source == "demo-tieba"]
    assert any(p.kind == "reply" for p in tieba) and any(p.kind == "thread" for p in tieba)
    weibo = [p for p in posts if p.source == "demo-weibo-search" and p.kind == "weibo"]
    assert sum(1 for p in weibo if p.reposts is not None and p.likes is not None) == len(weibo)


def test_rerun_adds_nothing_and_revalidates(crawled: tuple[CrawlEnv, dict[str, Any], dict[str, Any]]) -> None:
    env, first, second = crawled
    for sid, r in second.items():
        assert r.status == "ok", (sid, r.message)
        assert r.new_posts == 0, (sid, r.message)
        assert r.posts > 0, (sid, r.message)  # still counted as present: no false "zero posts" health alarm
    with env.session() as s:
        total = s.scalar(select(func.count()).select_from(PostRow))
    assert total == len({p.id for p in env.posts()})
    statuses = [status for method, target, status in env.sites.requests if method == "GET"]
    assert 304 in statuses, "no conditional request answered 304"
    article_gets = [t for m, t, st in env.sites.requests if t.startswith(("/news/art/", "/gov/art/", "/tieba/p/"))]
    assert not article_gets, f"stored articles/threads fetched again: {article_gets[:5]}"


def test_new_reply_is_picked_up_on_the_next_run(crawled: tuple[CrawlEnv, dict[str, Any], dict[str, Any]]) -> None:
    env, _, _ = crawled
    thread, due = _items(env, "tieba")[3], _items(env, "tieba")[5]
    before = len(env.posts("demo-tieba"))
    env.sites.add_reply(thread, "这条回复是刚刚发的,测试增量采集。")
    with env.session() as s:  # another thread's revisit (revisit_minutes) has come round
        s.execute(update(SeenUrlRow).where(SeenUrlRow.source == "demo-tieba", SeenUrlRow.url == env.sites.url(due.path))
                  .values(next_visit=utcnow() - timedelta(minutes=1)))
        s.commit()
    env.sites.clear_requests()
    result = env.crawl(["demo-tieba"])["demo-tieba"]
    assert result.status == "ok" and result.new_posts == 1, result.message
    assert len(env.posts("demo-tieba")) == before + 1
    threads = {t: st for m, t, st in env.sites.requests if t.startswith("/tieba/p/")}
    assert threads == {thread.path: 200, due.path: 304}, threads  # the rest were not asked for at all


def test_list_that_used_to_have_items_and_now_has_none_degrades_the_source(
    crawled: tuple[CrawlEnv, dict[str, Any], dict[str, Any]]
) -> None:
    env, _, _ = crawled
    env.sites.set_fault("/tieba/f", "redesign")  # same content under new class names: old selectors find nothing
    try:
        result = env.crawl(["demo-tieba"])["demo-tieba"]
    finally:
        env.sites.clear_faults()
    assert result.status == "degraded", result.message
    assert "以前有条目" in result.message and "改版" in result.message


def test_robots_obeyed_with_many_concurrent_start_requests(crawl_env_factory: Any) -> None:
    """Private pages among the start URLs: all wait for robots.txt (Scrapy's own middleware let them through)."""
    urls = [f"{{base}}/private/page{n}.html" for n in range(12)] + [f"{{base}}/gov/list_{n}.html" for n in (1, 2, 3)]
    env = crawl_env_factory("robots", only=[], extra_sources=[{
        "id": "many-starts", "name": "并发入口", "type": "news_list", "follow": [r"/gov/art/\d+\.html"],
        "urls": urls, "max_depth": 0,
    }])
    env.sites.clear_requests()
    r = env.crawl(["many-starts"])["many-starts"]
    fetched = [t for m, t, st in env.sites.requests if t.startswith("/private/")]
    assert not fetched, f"robots.txt disallows /private/ but these were fetched: {fetched}"
    assert r.status == "ok" and "robots.txt 禁止 ×12" in r.message, r.message


def test_scrapy_list_and_crawl_from_the_project_root(crawl_env_factory: Any) -> None:
    names = subprocess.run([str(ROOT / ".venv/bin/scrapy"), "list"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    assert names == sorted(["rss", "news_list", "news_search", "tieba", "discuz", "weibo_search", "weibo_page"])
    env = crawl_env_factory("bycli", only=["demo-gov-list"])
    done = subprocess.run(
        [str(ROOT / ".venv/bin/scrapy"), "crawl", "news_list", "-a", "source=demo-gov-list",
         "-s", f"YUQING_CONFIG={env.config_dir}", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    runs = env.runs("demo-gov-list")
    assert [r.status for r in runs] == ["ok"] and runs[0].new_posts == len(_items(env, "gov"))
