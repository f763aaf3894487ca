"""The runner and resumption: a crawl killed with -9 mid-way and run again loses and duplicates nothing;
a source over its time limit is killed and recorded as such; the Playwright spider through the system
Chromium; `yuqing crawl` prints the Chinese summary."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from typing import Any

import pytest
from typer.testing import CliRunner

from crawler.runner import ROOT, crawl_command
from tests.plugins.crawl import CrawlEnv
from yuqing.cli import app


def _expected_tieba(env: CrawlEnv) -> int:
    items = [i for i in env.sites.corpus.by_platform("tieba") if not i.deleted]
    return len(items) + sum(len(i.replies) for i in items)


def _count(env: CrawlEnv, source: str) -> int:
    try:
        return len(env.posts(source))
    except Exception:  # the database may not exist yet while the child starts
        return 0


def test_kill_9_then_rerun_loses_and_duplicates_nothing(crawl_env_factory: Any) -> None:
    env = crawl_env_factory("resume", only=["demo-tieba"])
    src = env.cfg.source("demo-tieba")
    env.sites.set_fault("/tieba/p/", "slow", seconds=0.3)
    # Small save batches, often: the kill lands between batches with a batch of pages parsed but not saved.
    cmd = crawl_command(src, env.config_dir, extra_settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "1",
                                                             "LOG_LEVEL": "WARNING", "YUQING_SAVE_BATCH": "3",
                                                             "YUQING_SAVE_SECONDS": "0.2"})
    child_env = dict(os.environ, SCRAPY_SETTINGS_MODULE="crawler.settings")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while _count(env, "demo-tieba") < 10 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    env.sites.clear_faults()
    partial = _count(env, "demo-tieba")
    total = _expected_tieba(env)
    assert 0 < partial < total, (partial, total)
    result = env.crawl(["demo-tieba"])["demo-tieba"]
    assert result.status == "ok" and result.errors == 0, (result.message, env.log("demo-tieba")[-3000:])
    posts = env.posts("demo-tieba")
    assert len(posts) == total, (result.message, env.log("demo-tieba")[-3000:])
    assert result.new_posts == total - partial
    floors = [(p.url, p.floor) for p in posts]
    assert len(set(floors)) == len(floors), "the same floor stored twice"


def test_source_over_its_time_limit_is_killed_and_recorded(crawl_env_factory: Any) -> None:
    env = crawl_env_factory("killed", only=["demo-tieba", "demo-gov-list"])
    env.sites.set_fault("/tieba/p/", "slow", seconds=30)  # thread pages hang far past the limit
    try:
        results = env.crawl(["demo-tieba", "demo-gov-list"], timeout_s=10)
    finally:
        env.sites.clear_faults()
    killed = results["demo-tieba"]
    assert killed.status == "killed" and "超过时限" in killed.message
    assert killed.duration_s < 20
    run = env.runs("demo-tieba")[-1]
    assert run.status == "killed" and run.finished_at is not None
    assert results["demo-gov-list"].status == "ok"  # the other source finished normally
    assert not [line for line in subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
                .splitlines() if f"YUQING_CONFIG={env.config_dir}" in line], "a killed crawler is still running"


@pytest.mark.browser
@pytest.mark.parametrize("chromium", ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"])
def test_weibo_page_rendered_by_chromium(crawl_env_factory: Any, chromium: str) -> None:
    """Both Debian Chromium builds render the page: the headless shell (the default: half the memory) and
    the full browser of the `chromium` package."""
    env = crawl_env_factory("browser", only=["demo-weibo-page"], county={"chromium_path": chromium})
    result = env.crawl(["demo-weibo-page"])["demo-weibo-page"]
    assert result.status == "ok", (result.message, env.log("demo-weibo-page")[-3000:])
    topic = [i for i in env.sites.corpus.by_platform("weibo") if i.topic and not i.deleted]
    posts = env.posts("demo-weibo-page")
    assert len(posts) == len(topic) and all(p.kind == "weibo" for p in posts)
    stored = re.sub(r"\s+", "", "".join(p.content for p in posts))
    assert all(re.sub(r"\s+", "", i.text)[:15] in stored for i in topic)
    stats = env.runs("demo-weibo-page")[-1].stats
    assert stats.get("playwright/page_count", 0) >= 1


def test_cli_prints_the_chinese_summary(crawl_env_factory: Any) -> None:
    env = crawl_env_factory("cli", only=["demo-gov-list", "demo-news-rss"])
    out = CliRunner().invoke(app, ["crawl", "demo-gov-list", "--config", str(env.config_dir)])
    assert out.exit_code == 0, out.output
    assert "采集结果" in out.output and "demo-gov-list" in out.output and "正常" in out.output
    bad = CliRunner().invoke(app, ["crawl", "no-such-source", "--config", str(env.config_dir)])
    assert bad.exit_code != 0
    none = CliRunner().invoke(app, ["crawl", "--config", str(env.config_dir)])
    assert none.exit_code != 0
