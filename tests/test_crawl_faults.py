"""Faults of the demo sites: each source ends with a clear source_runs record, nothing crashes, and the
healthy source crawled alongside them is unaffected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.plugins.crawl import CrawlEnv

WEIBO = ("{base}/weibo/api/container/getIndex?f=login&containerid=100103type%3D1%26q%3D{q}"
         "&page_type=searchall&page={page}")
FAULTS: list[tuple[dict[str, Any], str, str, dict[str, Any]]] = [
    # (source, fault prefix, fault kind, fault options)
    ({"id": "f-404", "type": "rss", "urls": ["{base}/news/rss.xml?f=404"]}, "/news/rss.xml?f=404", "http_404", {}),
    ({"id": "f-500", "type": "rss", "urls": ["{base}/news/rss.xml?f=500"], "max_depth": 0},
     "/news/rss.xml?f=500", "http_500_then_ok", {"times": 1}),
    ({"id": "f-slow", "type": "news_list", "urls": ["{base}/gov/list_1.html?f=slow"]},
     "/gov/list_1.html?f=slow", "slow", {"seconds": 4}),
    ({"id": "f-trunc", "type": "news_list", "urls": ["{base}/gov/list_1.html?f=trunc"], "max_depth": 0},
     "/gov/list_1.html?f=trunc", "truncated", {}),
    ({"id": "f-huge", "type": "news_list", "urls": ["{base}/gov/list_1.html?f=huge"]},
     "/gov/list_1.html?f=huge", "huge", {}),
    ({"id": "f-robots", "type": "news_list", "urls": ["{base}/private/list.html"]}, "", "", {}),
    ({"id": "f-loop", "type": "news_list", "urls": ["{base}/gov/list_1.html?f=loop"]},
     "/gov/list_1.html?f=loop", "redirect_loop", {}),
    ({"id": "f-login", "type": "weibo_search", "keywords": ["示例县"], "search_url": WEIBO,
      "cookie_env": "YUQING_TEST_WEIBO_COOKIE"}, "/weibo/api/container/getIndex?f=login", "login_expired", {}),
    ({"id": "f-redesign", "type": "tieba", "urls": ["{base}/tieba/f?f=redesign&kw=示例"], "max_depth": 0},
     "/tieba/f?f=redesign", "redesign", {}),
    ({"id": "f-ban", "type": "discuz", "urls": ["{base}/bbs/forum.php?f=ban&mod=forumdisplay&fid=2"]},
     "/bbs/forum.php?f=ban", "http_403", {}),
]


@pytest.fixture(scope="module")
def faulty(crawl_env_factory: Any, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[tuple[CrawlEnv, dict[str, Any]]]:
    extra = [{"name": f"故障 {src['id']}", "follow": [r"/gov/art/\d+\.html"], **src} for src, *_ in FAULTS]
    for src in extra:
        if src["type"] != "news_list":
            src.pop("follow")
    env = crawl_env_factory("faults", only=["demo-forum"], extra_sources=extra,
                            county={"timeout_seconds": 2, "retries": 1})
    monkeypatch_module.setenv("YUQING_TEST_WEIBO_COOKIE", "SUB=secret-cookie-value")
    for _, prefix, kind, opts in FAULTS:
        if kind:
            env.sites.set_fault(prefix, kind, **opts)
    try:
        results = env.crawl(None, parallel=4)
    finally:
        env.sites.clear_faults()
    yield env, results


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.parametrize(
    ("source", "status", "words"),
    [
        ("f-404", "failed", ["HTTP 404"]),
        ("f-500", "ok", []),
        ("f-slow", "failed", ["超时"]),
        ("f-trunc", "degraded", ["不完整"]),
        ("f-huge", "failed", ["超过大小上限"]),
        ("f-robots", "failed", ["robots.txt 不允许抓取"]),
        ("f-loop", "failed", ["重定向循环"]),
        ("f-login", "login_expired", ["登录已失效", "Cookie"]),
        ("f-redesign", "degraded", ["改版"]),
        ("f-ban", "blocked", ["HTTP 403"]),
        ("demo-forum", "ok", ["新增"]),
    ],
)
def test_each_fault_ends_with_a_clear_record(faulty: tuple[CrawlEnv, dict[str, Any]], source: str, status: str,
                                             words: list[str]) -> None:
    env, results = faulty
    r = results[source]
    assert r.status == status, (source, r.message, env.log(source)[-3000:])
    runs = env.runs(source)
    assert len(runs) == 1 and runs[0].status == status and runs[0].finished_at is not None
    for w in words:
        assert w in runs[0].message, runs[0].message
    if status != "ok":
        assert runs[0].errors >= 1 or source == "f-robots", runs[0].message


def test_healthy_source_alongside_the_faults_collected_everything(faulty: tuple[CrawlEnv, dict[str, Any]]) -> None:
    env, results = faulty
    forum = [i for i in env.sites.corpus.by_platform("discuz") if not i.deleted]
    assert results["demo-forum"].new_posts >= len(forum) + sum(len(i.replies) for i in forum) - 1


def test_retry_counted_and_huge_page_not_downloaded(faulty: tuple[CrawlEnv, dict[str, Any]]) -> None:
    env, _ = faulty
    stats = env.runs("f-500")[0].stats
    assert stats.get("retry/count", 0) >= 1 and stats["yuqing/source/f-500/http/500"] >= 1
    huge = env.runs("f-huge")[0]
    assert huge.stats.get("yuqing/failed/kind/too_large") == 1
    assert huge.stats.get("downloader/response_bytes", 0) < 1024 * 1024


def test_cookie_never_logged(faulty: tuple[CrawlEnv, dict[str, Any]]) -> None:
    env, _ = faulty
    logs = "".join(p.read_text(errors="replace") for p in (env.data_dir / "logs" / "crawl").glob("*"))
    assert "secret-cookie-value" not in logs
    state = [p for p in (env.data_dir / "crawl").rglob("*") if p.is_file()]
    assert not any(b"secret-cookie-value" in p.read_bytes() for p in state)
