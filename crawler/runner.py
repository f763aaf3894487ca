"""Crawl sources from Python: each source in its own `scrapy crawl` process, a few at a time.

Scrapy's reactor cannot be restarted inside one process, and one source's crash or hang must not touch
the others, so every source runs as ``python -m scrapy crawl <type> -a source=<id> -a run_id=<n>``
with the same settings module (crawler.settings) and configuration folder as ``scrapy crawl`` by hand.
The runner writes the source_runs row first ('running'); the child's health extension finishes it;
a child killed on timeout is recorded as 'killed' with the progress it had flushed, a child that died
without finishing its row as 'failed' with the end of its log. Children inherit the environment
(YUQING_DEMO_URL, cookies, ...).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alerting.store import Store
from alerting.store.crawl_state import get_run, record_run, start_run
from yuqing.config import Config, Source

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CrawlResult:
    source_id: str
    status: str  # "ok" | "failed" | "degraded" | "login_expired" | "blocked" | "killed" | "interrupted"
    pages: int
    posts: int
    new_posts: int
    errors: int
    message: str
    duration_s: float


@dataclass
class _Child:
    source: Source
    run_id: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    err_path: Path
    started: float


def crawl_command(source: Source, config_dir: Path, run_id: int | None = None,
                  extra_settings: dict[str, str] | None = None) -> list[str]:
    """The command line that crawls one source (what the runner and the service run)."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", source.type, "-a", f"source={source.id}",
           "-s", f"YUQING_CONFIG={Path(config_dir).resolve()}"]
    if run_id is not None:
        cmd += ["-a", f"run_id={run_id}"]
    for key, value in (extra_settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def crawl_sources(
    cfg: Config,
    config_dir: Path,
    source_ids: list[str] | None = None,
    timeout_s: float = 1800,
    parallel: int = 3,
    extra_settings: dict[str, str] | None = None,
    on_done: Callable[[CrawlResult], None] | None = None,
) -> list[CrawlResult]:
    """Crawl the given sources (default: every enabled one) and return one result per source, in order.

    Never raises for a failing source: its result (and source_runs row) says what happened.
    """
    sources = _select(cfg, source_ids)
    if not sources:
        return []
    store = Store.from_config(cfg)  # migrate once here; the children only write rows
    log_dir = cfg.data_dir / "logs" / "crawl"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SCRAPY_SETTINGS_MODULE="crawler.settings", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    pending = list(sources)
    running: list[_Child] = []
    results: dict[str, CrawlResult] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, parallel):
                running.append(_spawn(pending.pop(0), store, config_dir, log_dir, env, extra_settings))
            time.sleep(0.1)
            for child in list(running):
                elapsed = time.monotonic() - child.started
                if child.proc.poll() is None and elapsed <= timeout_s:
                    continue
                if child.proc.poll() is None:
                    _kill(child)
                    result = _finish(store, child, killed=True, timeout_s=timeout_s)
                else:
                    result = _finish(store, child)
                running.remove(child)
                results[child.source.id] = result
                if on_done is not None:
                    on_done(result)
    finally:
        for child in running:  # interrupted ourselves: leave no orphan crawlers behind
            _kill(child)
            results[child.source.id] = _finish(store, child, killed=True, timeout_s=timeout_s)
        store.dispose()
    return [results[s.id] for s in sources if s.id in results]


def _select(cfg: Config, source_ids: list[str] | None) -> list[Source]:
    if not source_ids:
        return [s for s in cfg.sources if s.enabled]
    return [cfg.source(sid) for sid in source_ids]  # KeyError for an unknown id: the caller's mistake


def _spawn(source: Source, store: Store, config_dir: Path, log_dir: Path, env: dict[str, str],
           extra: dict[str, str] | None) -> _Child:
    run_id = start_run(store, source.id)
    log_path = log_dir / f"{source.id}.log"
    # The log of the latest run only (LOG_FILE_APPEND off): bounded, and the one the message points to.
    settings = {"LOG_FILE": str(log_path), "LOG_FILE_APPEND": "False", **(extra or {})}
    cmd = crawl_command(source, config_dir, run_id, settings)
    err_path = log_dir / f"{source.id}.stderr"
    # Output goes to files, never to pipes nobody reads while the child runs (a full pipe would hang it).
    with open(os.devnull, "rb") as devnull, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=devnull, stdout=err, stderr=err,
                                start_new_session=True)
    logger.info("Crawling %s (run %d, pid %d)", source.id, run_id, proc.pid)
    return _Child(source, run_id, proc, log_path, err_path, time.monotonic())


def _kill(child: _Child) -> None:
    """SIGKILL the child's whole process group (Scrapy and, for the browser spider, Chromium)."""
    try:
        os.killpg(child.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.proc.wait()


def _finish(store: Store, child: _Child, killed: bool = False, timeout_s: float = 0) -> CrawlResult:
    duration = time.monotonic() - child.started
    stderr = child.err_path.read_text(encoding="utf-8", errors="replace")[-8000:] if child.err_path.exists() else ""
    run = get_run(store, child.run_id)
    if killed or run is None or run.status == "running":
        pages, posts, new, errors = (run.pages, run.posts, run.new_posts, run.errors) if run else (0, 0, 0, 0)
        if killed:
            status, why = "killed", f"超过时限 {timeout_s:.0f} 秒,采集进程已被终止"
        else:
            status = "failed"
            why = f"采集进程异常退出(退出码 {child.proc.returncode}):{_tail(stderr, child.log_path)}"
        message = f"{why}。已抓取页面 {pages} 个,帖子 {posts} 条,新增 {new} 条"
        run = record_run(store, child.source.id, status=status, run_id=child.run_id, pages=pages, posts=posts,
                         new_posts=new, errors=errors + 1, http_statuses=run.http_statuses if run else {},
                         stats=run.stats if run else {}, message=message)
    return CrawlResult(child.source.id, run.status, run.pages, run.posts, run.new_posts, run.errors, run.message,
                       round(duration, 2))


def _tail(stderr: str, log_path: Path, limit: int = 600) -> str:
    text = stderr.strip()
    if not text and log_path.exists():
        text = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-6:])[-limit:] or "无输出"
