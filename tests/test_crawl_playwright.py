"""The Playwright spider's process tree stays small: one node driver (not one per URL scheme), Chromium
without GPU, network-service or zygote processes and with one renderer, the driver's heap bounded; and the
page still renders (every topic weibo stored)."""

from __future__ import annotations

import threading
from typing import Any

import psutil
import pytest

from crawler.spiders.weibo_page import BROWSER_ARGS, DRIVER_NODE_OPTIONS, driver_node_options


def test_driver_node_options_keep_the_operators_own_and_are_set_once() -> None:
    ours = " ".join(DRIVER_NODE_OPTIONS)
    assert driver_node_options(None) == ours
    both = driver_node_options("--max-old-space-size=512")
    assert both == f"{ours} --max-old-space-size=512"  # node takes the last value: the operator's wins
    assert driver_node_options(both) == both


class TreeWatcher(threading.Thread):
    """Every process below this one, seen while the crawl runs: (name, cmdline, NODE_OPTIONS)."""

    def __init__(self, marker: str) -> None:
        super().__init__(daemon=True)
        self.marker = marker  # in the command line of the crawl process whose driver counts
        self.seen: dict[int, tuple[str, list[str], str]] = {}
        self.max_nodes = 0
        self.stop = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.stop.wait(0.05):
            nodes = 0
            for p in me.children(recursive=True):
                try:
                    cmd = p.cmdline()
                    env = ""
                    if "run-driver" in cmd:
                        # Only this crawl's drivers: another test's Playwright (the web UI's, a live-page
                        # check) may still be shutting down below this pytest process.
                        parent = p.parent()
                        if parent is None or not any(self.marker in part for part in parent.cmdline()):
                            continue
                        env = p.environ().get("NODE_OPTIONS", "")
                    self.seen.setdefault(p.pid, (p.name(), cmd, env))
                    nodes += "run-driver" in cmd
                except psutil.Error:
                    continue
            self.max_nodes = max(self.max_nodes, nodes)


@pytest.mark.browser
def test_one_driver_and_a_lean_chromium_render_the_topic_page(crawl_env_factory: Any) -> None:
    env = crawl_env_factory("lean-browser", only=["demo-weibo-page"])
    watcher = TreeWatcher(f"YUQING_CONFIG={env.config_dir.resolve()}")
    watcher.start()
    try:
        result = env.crawl(["demo-weibo-page"])["demo-weibo-page"]
    finally:
        watcher.stop.set()
        watcher.join(5)
    assert result.status == "ok", (result.message, env.log("demo-weibo-page")[-3000:])
    topic = [i for i in env.sites.corpus.by_platform("weibo") if i.topic and not i.deleted]
    assert len(env.posts("demo-weibo-page")) == len(topic)

    drivers = [(cmd, opts) for _, cmd, opts in watcher.seen.values() if "run-driver" in cmd]
    assert len(drivers) == 1 and watcher.max_nodes == 1, "one Playwright driver for http and https"
    assert drivers[0][1].startswith(" ".join(DRIVER_NODE_OPTIONS))
    chromium = [cmd for _, cmd, _ in watcher.seen.values()
                if any("chrom" in part for part in cmd[:1]) and "--remote-debugging-pipe" in " ".join(cmd)]
    assert chromium, "the browser process was not seen"
    assert all(arg in chromium[0] for arg in BROWSER_ARGS)
    types = {part.split("=", 1)[1] for _, cmd, _ in watcher.seen.values() for part in cmd if part.startswith("--type=")}
    assert "gpu-process" not in types and "zygote" not in types
    assert not any("network.mojom.NetworkService" in " ".join(cmd) for _, cmd, _ in watcher.seen.values())
    renderers = [cmd for _, cmd, _ in watcher.seen.values() if "--type=renderer" in cmd]
    assert len(renderers) <= 1
