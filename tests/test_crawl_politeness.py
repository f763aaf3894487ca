"""One site, one delay: two crawl processes on the same host share its politeness delay
(crawler.middlewares.shared_delay), so crawling two sources of one site at once is no faster on that site
than crawling them one after the other."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from crawler.middlewares.shared_delay import SiteSlots
from crawler.runner import ROOT

_RESERVE = """
import json, sys, time
from pathlib import Path
from crawler.middlewares.shared_delay import SiteSlots
slots = SiteSlots(Path(sys.argv[1]))
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
print(json.dumps([time.time() + slots.reserve("news.example.gov.cn", 0.05) for _ in range(20)]))
"""


def test_reservations_of_two_processes_are_a_delay_apart(tmp_path: Path) -> None:
    start = time.time() + 1.0  # both processes start reserving at the same moment
    procs = [subprocess.Popen([sys.executable, "-c", _RESERVE, str(tmp_path), str(start)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    slots = sorted(t for p in procs for t in json.loads(p.communicate(timeout=60)[0]))
    assert len(slots) == 40
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    # Reservations are exactly 0.05 s apart; the margin covers the clock read between reservations.
    assert min(gaps) > 0.045, min(gaps)
    assert slots[-1] - slots[0] >= 39 * 0.045


def test_hosts_are_independent_and_a_stale_reservation_is_forgotten(tmp_path: Path) -> None:
    slots = SiteSlots(tmp_path)
    assert slots.reserve("a.example.cn", 10.0, now=1000.0) == 0.0
    assert slots.reserve("a.example.cn", 10.0, now=1000.0) == 10.0  # queued behind the first
    assert slots.reserve("b.example.cn", 10.0, now=1000.0) == 0.0  # another site: no wait
    # A slot hours ahead (the clock was set back) is not a queue to wait in.
    assert slots.reserve("a.example.cn", 10.0, now=1000.0 - 10_000) == 0.0
    slots.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.example.cn.slot", "b.example.cn.slot"]


def test_two_sources_on_one_site_share_its_delay(crawl_env_factory: Any) -> None:
    delay = 0.25
    polite = {"download_delay": delay, "autothrottle": False, "concurrency_per_domain": 1, "max_pages": 3,
              "obey_robots": False}
    ids = ["demo-gov-list", "demo-tieba"]
    env = crawl_env_factory("shared-delay", only=ids,
                            overrides={i: {"politeness": {k: v for k, v in polite.items() if k != "max_pages"},
                                           "max_pages": 3} for i in ids})
    env.sites.clear_requests()
    results = env.crawl(ids, parallel=2)
    assert all(r.status == "ok" for r in results.values()), {k: r.message for k, r in results.items()}
    times = sorted(env.sites.request_times)
    assert len(times) >= 20, len(times)
    # Each process alone keeps only its own requests `delay` apart (on average: Scrapy's jitter stays); the
    # two together take (requests − 1) × delay on the site only through the shared delay (without it: about
    # half of that).
    span = times[-1] - times[0]
    assert span >= 0.9 * (len(times) - 1) * delay, (span, len(times))
    waits = [env.runs(i)[-1].stats.get("yuqing/politeness/shared_waits", 0) for i in ids]
    assert all(w > 0 for w in waits), waits
