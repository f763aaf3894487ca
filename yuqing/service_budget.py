"""How much memory the service lets its child processes hold at once.

The service itself stays small (scheduler, web UI, database; about 70 MB, see yuqing.serve_main): the heavy
parts are children — a `scrapy crawl` (about 90-100 MB), the same with its Playwright driver and Chromium
(about 390 MB), each started for one crawl, and the analysis worker with the loaded model (about 300 MB,
resident, but stopped while a Chromium crawl runs; yuqing.service_analysis). Summed, they would exceed the
500 MB the service may take on a small county server with one Chromium (issue 7), so each child first takes
its share of a budget and waits while the others hold it.

The shares are measured peaks (PSS, bench/bench_time_to_warning.py and bench/bench_crawl.py, see
docs/deployment.md), not limits enforced on the processes. A child larger than the whole budget still
runs, alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Megabytes of PSS (measured peaks, rarely simultaneous). The service process itself (about 70 MB) is
# outside the budget. Lower CHILDREN_MB below ANALYSIS_MB + CRAWL_MB and static crawls would wait for a
# Chromium crawl to send the worker away.
CHILDREN_MB = 410
CRAWL_MB = 110
BROWSER_CRAWL_MB = 410
ANALYSIS_MB = 300
# Source types whose spider renders pages in Chromium.
BROWSER_TYPES = frozenset({"weibo_page"})


def crawl_share(source_type: str) -> int:
    return BROWSER_CRAWL_MB if source_type in BROWSER_TYPES else CRAWL_MB


class Stopped(Exception):
    """The service began to stop while a job waited for its share."""


class MemoryBudget:
    """A counting gate in megabytes: ``hold(mb)`` waits until ``mb`` fits beside what is held (or nothing is
    held), first come first served so a large share is not starved by a stream of small ones."""

    def __init__(self, capacity_mb: int = CHILDREN_MB) -> None:
        self.capacity = capacity_mb
        self.used = 0
        self._cond = threading.Condition()
        self._queue: list[object] = []

    def acquire(self, mb: int, stopping: threading.Event | None = None) -> None:
        """Take ``mb`` when it fits; raises Stopped when ``stopping`` is set while waiting."""
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            try:
                while not (self._queue[0] is ticket and (self.used == 0 or self.used + mb <= self.capacity)):
                    if stopping is not None and stopping.is_set():
                        raise Stopped
                    self._cond.wait(0.5)  # wakes on release; the timeout notices a stop
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()
            self.used += mb

    def release(self, mb: int) -> None:
        with self._cond:
            self.used -= mb
            self._cond.notify_all()

    @contextmanager
    def hold(self, mb: int, stopping: threading.Event | None = None) -> Iterator[None]:
        """Hold ``mb`` for the body (see ``acquire``)."""
        self.acquire(mb, stopping)
        try:
            yield
        finally:
            self.release(mb)


# --- glibc's allocator ------------------------------------------------------------------------------

_M_ARENA_MAX = -8  # mallopt parameter (malloc.h)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only; other C libraries lack it
    except (OSError, AttributeError):
        return None
    return libc


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Few malloc arenas for this process and the children it starts (MALLOC_ARENA_MAX).

    glibc gives each thread that allocates concurrently an arena of its own and rarely returns their free
    pages; the service's dozen threads (job pools, web server, scheduler) then hold tens of MB of free
    memory. Two arenas cost nothing measurable at the service's allocation rates.
    """
    os.environ.setdefault("MALLOC_ARENA_MAX", str(arenas))
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, arenas)


def trim_memory() -> None:
    """Give free heap pages back to the system (after loading the model, after a job's large batch)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
