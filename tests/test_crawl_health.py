"""The health verdict is a pure function of a crawl's stats: thresholds over counts, messages with numbers."""

from __future__ import annotations

from datetime import timedelta

from alerting.store import Store
from alerting.store.crawl_state import PageRecord, last_runs, load_seen, record_run, save_page, save_pages, start_run
from crawler.extensions.health import judge
from crawler.middlewares.status import error_kind
from yuqing.model import Metrics, Post, post_id_for, utcnow

SRC = "s1"


def _stats(**counts: int) -> dict[str, int]:
    return {k.replace("__", "/"): v for k, v in counts.items()}


def test_a_quiet_healthy_run_is_ok_and_says_its_numbers() -> None:
    v = judge(_stats(yuqing__pages=10, yuqing__pages__entry=1, yuqing__pages__leaf=9, yuqing__posts=9,
                     yuqing__posts__new=4, **{"yuqing__source__s1__http__200": 10}), SRC)
    assert v.status == "ok" and (v.pages, v.posts, v.new_posts, v.errors) == (10, 9, 4, 0)
    assert "抓取页面 10 个" in v.message and "帖子 9 条" in v.message and "新增 4 条" in v.message
    assert v.http_statuses == {"200": 10}


def test_one_deleted_post_among_many_stays_ok_but_is_counted() -> None:
    v = judge(_stats(yuqing__pages=20, yuqing__pages__leaf=19, yuqing__failed__leaf=1,
                     yuqing__failed__kind__http_404=1, yuqing__posts=19), SRC)
    assert v.status == "ok" and v.errors == 1


def test_many_failing_posts_degrade_the_source() -> None:
    v = judge(_stats(yuqing__pages=6, yuqing__pages__leaf=5, yuqing__failed__leaf=5,
                     yuqing__failed__kind__timeout=5, yuqing__posts=5), SRC)
    assert v.status == "degraded" and "5/10" in v.message and "超时 ×5" in v.message


def test_items_vanishing_from_a_list_page_is_a_redesign() -> None:
    v = judge(_stats(yuqing__pages=1, yuqing__pages__entry=1, **{"yuqing__parse__items_vanished": 1}), SRC)
    assert v.status == "degraded" and "以前有条目" in v.message and "改版" in v.message


def test_blocked_login_failed_and_early_stop() -> None:
    blocked = judge(_stats(yuqing__failed__entry=1, **{"yuqing__source__s1__http__429": 1}), SRC)
    assert blocked.status == "blocked" and "HTTP 429 ×1" in blocked.message
    captcha = judge(_stats(yuqing__pages=1, yuqing__parse__captcha=1, yuqing__parse_failed__entry=1), SRC)
    assert captcha.status == "blocked"
    login = judge(_stats(yuqing__pages=1, yuqing__login_expired=1), SRC, "login_expired")
    assert login.status == "login_expired" and "Cookie" in login.message
    down = judge(_stats(yuqing__failed__entry=1, yuqing__failed__kind__connection_refused=1), SRC)
    assert down.status == "failed" and down.errors == 1 and "连接被拒绝 ×1" in down.message
    early = judge(_stats(yuqing__pages=3, yuqing__posts=3), SRC, "closespider_timeout")
    assert early.status == "degraded" and "closespider_timeout" in early.message


def test_a_planned_stop_is_not_a_fault_of_the_source(tmp_path, cfg) -> None:  # type: ignore[no-untyped-def]
    # SIGTERM from the service (reason "shutdown") must not look like a broken source in status or e-mail.
    stopped = judge(_stats(yuqing__pages=3, yuqing__posts=3), SRC, "shutdown")
    assert stopped.status == "interrupted" and "下次运行时继续" in stopped.message
    dead = judge(_stats(yuqing__failed__entry=1, yuqing__failed__kind__connection_refused=1), SRC, "shutdown")
    assert dead.status == "failed"  # a real fault stays one even when the stop came first

    from alerting.health import check_sources

    src = cfg.sources[0].id
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    store.migrate()
    now = utcnow()
    for i in range(3):  # more than health_zero_runs stopped runs with nothing collected
        record_run(store, src, status="interrupted", started_at=now - timedelta(minutes=10 - i),
                   finished_at=now - timedelta(minutes=9 - i), message=stopped.message)
    with store.session() as s:
        assert check_sources(s, cfg, now) == []


def test_error_kinds_of_download_failures() -> None:
    from scrapy.exceptions import IgnoreRequest
    from twisted.internet.error import ConnectionRefusedError, TCPTimedOutError

    assert error_kind(IgnoreRequest("max redirections reached")) == "redirect_loop"
    assert error_kind(IgnoreRequest("Forbidden by robots.txt")) == "robots_forbidden"
    assert error_kind(ConnectionRefusedError()) == "connection_refused"
    assert error_kind(TCPTimedOutError()) == "timeout"
    assert error_kind(Exception("expected response size (20971520) larger than download max size (10485760)")) \
        == "too_large"


def test_crawl_state_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    run_id = start_run(store, SRC)
    assert last_runs(store, SRC)[0].status == "running"
    record_run(store, SRC, status="ok", run_id=run_id, pages=3, posts=2, new_posts=2, message="正常")
    assert [(r.id, r.status, r.pages) for r in last_runs(store, SRC)] == [(run_id, "ok", 3)]
    url = "http://127.0.0.1/t/1"
    thread = Post(id=post_id_for(url, 1), url=url, source=SRC, content="楼主", floor=1)
    reply = Post(id=post_id_for(url, 2), url=url, source=SRC, content="回复", floor=2, thread_id=thread.id)
    later = utcnow() + timedelta(minutes=5)
    saved = save_page(store, source_id=SRC, url=url, posts=[thread, reply], fingerprint="f1", body=b"<html>",
                      next_visit=later, also_seen=[(url + "#listing", "l1", 0, None)])
    assert (saved.new, saved.same) == (2, 0) and saved.evidence
    again = save_page(store, source_id=SRC, url=url, posts=[thread, reply], fingerprint="f1", body=b"<html>")
    assert (again.new, again.same) == (0, 2)
    seen = load_seen(store, SRC)
    assert seen[url].fingerprint == "f1" and seen[url].item_count == 2 and seen[url + "#listing"].fingerprint == "l1"
    assert load_seen(store, "another-source") == {}  # the memory is per source
    store.dispose()


def test_pages_saved_together_as_each_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """save_pages: one transaction for several pages, same outcome as saving them one by one (a post shown on
    two pages of the batch is stored once, as the later page shows it; one body is one evidence row)."""
    from sqlalchemy import func, select

    from alerting.store.tables import EvidenceRow, PostRow

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    a, b = "http://127.0.0.1/weibo/s?page=1", "http://127.0.0.1/weibo/s?page=2"
    wb = "http://127.0.0.1/weibo/status/1"
    first = Post(id=post_id_for(wb), url=wb, source=SRC, content="原文", metrics=Metrics(likes=1))
    later = first.model_copy(update={"metrics": Metrics(likes=5)})
    other = Post(id=post_id_for(wb + "2"), url=wb + "2", source=SRC, content="另一条")
    saved = save_pages(store, [
        PageRecord(SRC, a, [first, other], "fa", body=b"<html>same body</html>"),
        PageRecord(SRC, b, [later], "fb", body=b"<html>same body</html>", also_seen=[(a + "#x", "l", 0, None)]),
        PageRecord(SRC, a, [], "fa2"),  # the same URL again in one batch: one seen row, the last fingerprint
    ])
    assert [(s.new, s.changed, s.same) for s in saved] == [(2, 0, 0), (0, 1, 0), (0, 0, 0)]
    assert saved[0].evidence == saved[1].evidence and saved[2].evidence is None
    with store.session() as s:
        rows = {r.id: r for r in s.scalars(select(PostRow))}
        assert len(rows) == 2 and rows[first.id].likes == 5 and rows[first.id].raw_sha256 == saved[0].evidence
        assert s.scalar(select(func.count()).select_from(EvidenceRow)) == 1
    seen = load_seen(store, SRC)
    assert seen[a].fingerprint == "fa2" and seen[b].fingerprint == "fb" and seen[a + "#x"].fingerprint == "l"
    again = save_pages(store, [PageRecord(SRC, a, [first, other], "fa", body=b"<html>same body</html>")])
    assert (again[0].new, again[0].changed, again[0].same) == (0, 1, 1)  # likes back to 1
    store.dispose()


def test_age_limit_keeps_an_old_thread_head_that_has_new_replies(cfg) -> None:  # type: ignore[no-untyped-def]
    from scrapy.utils.test import get_crawler

    from crawler.spiders.tieba import TiebaSpider

    spider = TiebaSpider(source="demo-tieba")
    spider.crawler = get_crawler(TiebaSpider)
    spider.src = cfg.source("demo-tieba").model_copy(update={"max_age_days": 7})
    old, new = utcnow() - timedelta(days=30), utcnow() - timedelta(hours=2)
    url, other = "http://127.0.0.1/tieba/p/1", "http://127.0.0.1/tieba/p/2"
    head = Post(id=post_id_for(url), url=url, content="楼主", floor=1, published_at=old)
    reply = Post(id=post_id_for(url, 2), url=url, content="新回复", floor=2, thread_id=head.id, published_at=new)
    stale = Post(id=post_id_for(other), url=other, content="旧帖", floor=1, published_at=old)
    kept = spider.keep_recent([head, reply, stale])
    assert [p.id for p in kept] == [head.id, reply.id]
    assert spider.crawler.stats.get_value("yuqing/skipped/too_old") == 1
