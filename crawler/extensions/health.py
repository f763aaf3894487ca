"""Source health: count what a crawl met, then judge the counts and write one source_runs row.

The spider and middlewares bump stats (``yuqing/parse/<reason>``, ``yuqing/source/<id>/http/<code>``,
``yuqing/failed/<role>``, ``yuqing/login_expired`` ...). At spider close ``judge`` turns them into a
status — ok, degraded (the site answers but items vanished or parsing fails: a redesign), failed (no
page could be read), blocked (403/429/captcha/login wall and nothing collected), login_expired — and a
Chinese message with the numbers. While the crawl runs the row is refreshed every few seconds, so a
crawl killed by the runner still leaves its progress behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import signals
from twisted.internet import task

from alerting.store.crawl_state import record_run, start_run
from crawler.pages.errors import REASONS_ZH

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

STATUS_ZH = {"ok": "正常", "degraded": "异常(疑似改版)", "failed": "失败", "blocked": "被拦截",
             "login_expired": "登录失效", "killed": "超时终止", "running": "运行中",
             "interrupted": "已中断(服务停止)"}
ERROR_ZH = {
    "timeout": "超时", "connection_refused": "连接被拒绝", "dns": "域名解析失败", "too_large": "页面超过大小上限",
    "redirect_loop": "重定向循环", "dropped": "连接中断", "truncated": "传输被截断", "ignored": "被忽略",
}
BLOCK_REASONS = ("captcha", "blocked", "login_required")
ROLES = ("entry", "list", "thread", "leaf")


@dataclass
class Verdict:
    status: str
    message: str
    pages: int = 0
    posts: int = 0
    new_posts: int = 0
    errors: int = 0
    http_statuses: dict[str, int] = field(default_factory=dict)


def judge(stats: dict[str, Any], source_id: str, reason: str = "finished") -> Verdict:
    """The status and message of a finished crawl, from its stats alone (a pure function)."""
    g = lambda key: int(stats.get(key, 0) or 0)  # noqa: E731
    http_prefix = f"yuqing/source/{source_id}/http/"
    http = {k[len(http_prefix):]: int(v) for k, v in stats.items() if k.startswith(http_prefix)}
    parse = {k[len("yuqing/parse/"):]: int(v) for k, v in stats.items()
             if k.startswith("yuqing/parse/") and k.count("/") == 2}
    failed = {k[len("yuqing/failed/kind/"):]: int(v) for k, v in stats.items() if k.startswith("yuqing/failed/kind/")}
    pages = g("yuqing/pages")
    posts = g("yuqing/posts") + g("yuqing/skipped/seen") + g("yuqing/skipped/unchanged_thread")
    new = g("yuqing/posts/new")
    parse_errors = sum(v for k, v in parse.items() if k not in ("login_expired", "items_vanished", "deleted"))
    failed_requests = sum(g(f"yuqing/failed/{r}") for r in ROLES)
    # An exception in our own code while parsing a page, or a page the database refused to store.
    bugs = g("spider_exceptions/count") + g("yuqing/store_failed")
    errors = failed_requests + parse_errors + g("yuqing/login_expired") + bugs
    blocked = http.get("403", 0) + http.get("429", 0) + sum(parse.get(r, 0) for r in BLOCK_REASONS)
    robots = sum(g(f"yuqing/robots_forbidden/{r}") for r in ROLES)
    leaf_tries = g("yuqing/pages/leaf") + g("yuqing/pages/thread") + g("yuqing/failed/leaf") + g("yuqing/failed/thread")
    leaf_bad = g("yuqing/failed/leaf") + g("yuqing/failed/thread") + g("yuqing/parse_failed/leaf") \
        + g("yuqing/parse_failed/thread")
    list_bad = g("yuqing/failed/entry") + g("yuqing/failed/list") + g("yuqing/parse_failed/entry") \
        + g("yuqing/parse_failed/list")
    no_items, vanished = parse.get("no_items", 0), parse.get("items_vanished", 0)

    why: list[str] = []
    if g("yuqing/login_expired") or reason == "login_expired":
        status = "login_expired"
        why.append("平台提示登录已失效,请更新 Cookie 后重试")
    elif blocked and g("yuqing/posts") == 0:
        status = "blocked"
        why.append(f"站点拒绝访问或要求验证 {blocked} 次(403/429/验证码/登录墙),未采集到内容")
    elif pages == 0:
        status = "failed"
        if robots and not failed_requests:
            why.append(f"robots.txt 不允许抓取({robots} 个网址)")
        else:
            why.append("没有任何页面抓取成功")
    elif no_items or vanished:
        status = "degraded"
        before = f"(其中 {vanished} 个以前有条目)" if vanished else ""
        why.append(f"{max(no_items, vanished)} 个列表页找不到任何条目{before},页面可能已改版,请检查选择器")
    elif bugs:
        status = "degraded"
        why.append(f"{bugs} 个页面处理时程序出错(见日志)")
    elif list_bad:
        status = "degraded"
        why.append(f"{list_bad} 个列表/入口页抓取或解析失败")
    elif leaf_bad > max(2, 0.2 * leaf_tries):
        status = "degraded"
        why.append(f"{leaf_bad}/{leaf_tries} 个内容页抓取或解析失败")
    else:
        status = "ok"
    if reason == "shutdown" and status in ("ok", "degraded"):
        # A planned stop (SIGTERM from the service or an operator) says nothing about the source's health;
        # what was stored is kept and the next run goes on from there.
        status = "interrupted"
        why.append("服务停止,采集中断,下次运行时继续")
    elif reason not in ("finished", "login_expired") and status == "ok":
        status = "degraded"
        why.append(f"采集提前结束({reason})")

    details = [f"HTTP {code} ×{n}" for code, n in sorted(http.items()) if code not in ("200", "304")]
    details += [f"{ERROR_ZH.get(k, k)} ×{n}" for k, n in sorted(failed.items()) if not k.startswith("http_")]
    details += [f"{REASONS_ZH.get(k, k)} ×{n}" for k, n in sorted(parse.items())
                if k not in ("login_expired", "items_vanished")]
    if robots:
        details.append(f"robots.txt 禁止 ×{robots}")
    unchanged = g("yuqing/pages/not_modified")
    message = (
        f"{STATUS_ZH[status]}:抓取页面 {pages} 个(其中未变化 {unchanged} 个),帖子 {posts} 条,新增 {new} 条,"
        f"错误 {errors} 个"
    )
    if why:
        message += "。" + ";".join(why)
    if details:
        message += "。明细:" + ",".join(details)
    return Verdict(status, message, pages, posts, new, errors, http)


class SourceHealth:
    FLUSH_SECONDS = 5.0

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceHealth:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        if not hasattr(spider, "store"):
            return
        if spider.run_id is None:  # type: ignore[attr-defined]
            spider.run_id = start_run(spider.store, spider.source_id, spider.started_at)  # type: ignore[attr-defined]
        self._loop = task.LoopingCall(self.flush, spider)
        self._loop.start(self.FLUSH_SECONDS, now=False)

    def _stats(self) -> dict[str, Any]:
        assert self.crawler.stats is not None
        return dict(self.crawler.stats.get_stats())

    def flush(self, spider: Any) -> None:
        """Progress so far (status stays 'running'), for a run that may yet be killed."""
        v = judge(self._stats(), spider.source_id)
        try:
            record_run(spider.store, spider.source_id, status="running", run_id=spider.run_id,
                       started_at=spider.started_at, pages=v.pages, posts=v.posts, new_posts=v.new_posts,
                       errors=v.errors, http_statuses=v.http_statuses, message=v.message)
        except Exception:  # progress is a courtesy; the final record is what counts
            logger.exception("Could not record crawl progress")

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if not hasattr(spider, "store"):
            return
        stats = self._stats()
        v = judge(stats, spider.source_id, reason)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("yuqing/status", v.status)
        record_run(spider.store, spider.source_id, status=v.status, run_id=spider.run_id,
                   started_at=spider.started_at, pages=v.pages, posts=v.posts, new_posts=v.new_posts,
                   errors=v.errors, http_statuses=v.http_statuses, stats=_jsonable(stats), message=v.message)
        logger.info("Source %s: %s", spider.source_id, v.message)
        spider.store.dispose()


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in stats.items():
        out[k] = v if isinstance(v, int | float | str | bool) else str(v)
    return out
