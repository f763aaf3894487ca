"""The service's memory budget for child processes: a Chromium crawl runs alone, smaller children share,
first come first served, and a stop ends the wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from yuqing.service_budget import (
    BROWSER_CRAWL_MB,
    CHILDREN_MB,
    CRAWL_MB,
    MemoryBudget,
    Stopped,
    crawl_share,
)


class Holder(threading.Thread):
    """Holds ``mb`` of ``budget`` from when it gets it until ``release`` is set; records the order."""

    def __init__(self, budget: MemoryBudget, mb: int, name: str, log: list[str],
                 stopping: threading.Event | None = None) -> None:
        super().__init__(daemon=True, name=name)
        self.budget, self.mb, self.log, self.stopping = budget, mb, log, stopping
        self.holding = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.budget.hold(self.mb, self.stopping):
                self.log.append(self.name)
                self.holding.set()
                self.release.wait(10)
        except Stopped as exc:
            self.error = exc


def _until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _queued(budget: MemoryBudget, n: int) -> None:
    """Wait until ``n`` holders are queued (so the order of arrival is fixed)."""
    _until(lambda: len(budget._queue) == n)


def test_shares_follow_the_source_type() -> None:
    assert crawl_share("weibo_page") == BROWSER_CRAWL_MB
    assert crawl_share("rss") == crawl_share("discuz") == CRAWL_MB
    assert BROWSER_CRAWL_MB + CRAWL_MB > CHILDREN_MB >= BROWSER_CRAWL_MB  # a Chromium crawl excludes the rest
    assert 3 * CRAWL_MB <= CHILDREN_MB  # static crawls still run side by side


def test_a_browser_crawl_waits_for_running_crawls_and_then_runs_alone() -> None:
    budget, log = MemoryBudget(), []
    a, b = Holder(budget, CRAWL_MB, "crawl-a", log), Holder(budget, CRAWL_MB, "crawl-b", log)
    a.start(), b.start()
    a.holding.wait(5), b.holding.wait(5)
    browser = Holder(budget, BROWSER_CRAWL_MB, "browser", log)
    browser.start()
    _queued(budget, 1)
    late = Holder(budget, CRAWL_MB, "crawl-late", log)
    late.start()
    _queued(budget, 2)
    a.release.set()
    a.join(5)
    assert not browser.holding.wait(0.3), "the browser crawl started beside another crawl"
    b.release.set()
    assert browser.holding.wait(5)
    # The small crawl that came later does not overtake it and does not run beside it.
    assert not late.holding.wait(0.3)
    assert budget.used == BROWSER_CRAWL_MB
    browser.release.set()
    assert late.holding.wait(5)
    late.release.set()
    late.join(5)
    assert log == ["crawl-a", "crawl-b", "browser", "crawl-late"] or log == ["crawl-b", "crawl-a", "browser",
                                                                             "crawl-late"]
    assert budget.used == 0 and not budget._queue


def test_a_share_larger_than_the_budget_still_runs_alone() -> None:
    budget, log = MemoryBudget(capacity_mb=100), []
    big = Holder(budget, 250, "big", log)
    big.start()
    assert big.holding.wait(5)
    small = Holder(budget, 10, "small", log)
    small.start()
    assert not small.holding.wait(0.3)
    big.release.set()
    assert small.holding.wait(5)
    small.release.set()
    small.join(5)
    assert budget.used == 0


def test_waiting_ends_when_the_service_stops() -> None:
    budget, log, stopping = MemoryBudget(), [], threading.Event()
    holder = Holder(budget, BROWSER_CRAWL_MB, "browser", log)
    holder.start()
    assert holder.holding.wait(5)
    waiter = Holder(budget, CRAWL_MB, "waiter", log, stopping=stopping)
    waiter.start()
    _queued(budget, 1)
    stopping.set()
    waiter.join(5)
    assert isinstance(waiter.error, Stopped) and log == ["browser"]
    assert not budget._queue  # the stopped waiter left the queue; nobody behind it is blocked
    holder.release.set()
    holder.join(5)
    with budget.hold(CRAWL_MB):
        assert budget.used == CRAWL_MB


def test_an_error_in_the_body_gives_the_share_back() -> None:
    budget = MemoryBudget()
    with pytest.raises(RuntimeError), budget.hold(CRAWL_MB):
        raise RuntimeError("crawl failed")
    assert budget.used == 0
