"""Crawl figures: pages/s and posts/s over ~5,000 demo pages with politeness off, without and with the
analysis pipeline; peak memory of the crawl process; the same for the Playwright (Chromium) spider.

Usage: .venv/bin/python bench/bench_crawl.py [--scale N] [--concurrency N] [--skip-analysis] [--skip-browser]
Target (issue 3): ≥ 150 pages/s for static pages on 2 cores with analysis on, memory under 400 MB.
The demo sites run in their own process (``python -m yuqing.demo.sites --scale N``), the crawl is the
real `scrapy crawl` child of the runner (HTTP cache, evidence, SQLite, health record included), and the
analysis is ``yuqing.pipeline.process_pending`` over what the crawl stored (its CPU per post per step), then
the runner's three sources with the pipeline following the crawl as `yuqing run` does
(``yuqing.cycle.crawl_and_process``), checked against analysing the same posts after the crawl. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerting.store import Store  # noqa: E402
from alerting.store.crawl_state import get_run, start_run  # noqa: E402
from crawler.runner import crawl_command, crawl_sources  # noqa: E402
from yuqing.config import load_config  # noqa: E402

STATIC = ["demo-gov-list", "demo-tieba", "demo-forum"]


class PeakRss:
    """Samples the memory of a process and all its children (Chromium included): the peak of their sum."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, sum(_memory(p) for p in procs if p.is_running()))
            except psutil.Error:
                pass
            self._stop.wait(0.1)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _memory(proc: psutil.Process) -> int:
    """Proportional set size where the kernel reports it (Chromium's processes share most of their pages,
    so summing their RSS would count the shared pages once per process); RSS otherwise."""
    try:
        return int(getattr(proc.memory_full_info(), "pss", 0)) or proc.memory_info().rss
    except psutil.AccessDenied:
        return proc.memory_info().rss


def start_sites(scale: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "yuqing.demo.sites", "--port", "0", "--scale", str(scale)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def make_config(work: Path, base: str, concurrency: int) -> Path:
    cfg_dir = work / "config"
    shutil.copytree(ROOT / "config", cfg_dir)
    (cfg_dir / "storage.yaml").write_text(f"data_dir: {work / 'data'}\n", encoding="utf-8")
    doc = yaml.safe_load((cfg_dir / "sources.yaml").read_text(encoding="utf-8"))
    for src in doc["sources"]:
        src["politeness"] = {"download_delay": 0, "autothrottle": False, "concurrency_per_domain": concurrency}
        src["max_pages"] = 100_000
        if src["type"] == "weibo_page":  # a few rendered pages, not one
            src["urls"] = [f"{src['urls'][0]}?n={n}" for n in range(5)]
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    (cfg_dir / "sources.yaml").write_text(text.replace("${YUQING_DEMO_URL:-http://127.0.0.1:8800}", base),
                                          encoding="utf-8")
    return cfg_dir


def crawl_one(cfg_dir: Path, source_id: str, concurrency: int, sites_pid: int | None = None) -> dict[str, Any]:
    cfg = load_config(cfg_dir)
    src = cfg.source(source_id)
    # As the runner does: the database is migrated once by the parent, and the child finishes the run row it is
    # handed (a bare `scrapy crawl` migrates itself first).
    store = Store.from_config(cfg)
    run_id = start_run(store, source_id)
    cmd = crawl_command(src, cfg_dir, run_id,
                        extra_settings={"LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS": str(concurrency)})
    env = dict(os.environ, SCRAPY_SETTINGS_MODULE="crawler.settings")
    # The demo sites share the cores with the crawl: their CPU per page counts too.
    site = psutil.Process(sites_pid) if sites_pid else None
    site_before = sum(site.cpu_times()[:2]) if site else 0.0
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rss = PeakRss(proc.pid)
    _, err = proc.communicate()
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the crawl process (and its browser): what the figures cost on a machine shared with others.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = rss.stop()
    site_cpu = sum(site.cpu_times()[:2]) - site_before if site else 0.0
    run = get_run(store, run_id)
    store.dispose()
    assert run is not None
    if proc.returncode != 0:
        print(err[-2000:], file=sys.stderr)
    posts = int(run.stats.get("yuqing/posts", 0))
    return {"source": source_id, "status": run.status, "pages": run.pages, "posts": posts, "seconds": seconds,
            "cpu": cpu, "rss_mb": peak / 2**20, "site_cpu": site_cpu}


def analyse(cfg_dir: Path) -> tuple[int, float]:
    from yuqing.pipeline import process_pending

    cfg = load_config(cfg_dir)
    store = Store.from_config(cfg)
    t = time.perf_counter()
    report = process_pending(cfg, store)
    seconds = time.perf_counter() - t
    store.dispose()
    steps = getattr(report, "cpu_seconds", {})
    if steps and report.analysed:
        print("  pipeline CPU per post: " + ", ".join(f"{k} {v / report.analysed * 1000:.3f} ms"
                                                    for k, v in steps.items())
              + f"; total {sum(steps.values()) / report.analysed * 1000:.3f} ms")
    return int(getattr(report, "analysed", 0)), seconds


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def crawl_and_analyse(base: str, concurrency: int) -> None:
    """The runner crawling the static sources in parallel with the pipeline following the crawl in this
    process (``yuqing.cycle.crawl_and_process``, what `yuqing run --once` and `yuqing demo` do); then the
    same posts analysed again after the crawl, from scratch, to check the events and warnings agree."""
    from alerting.index import open_index_from_config
    from yuqing.cycle import crawl_and_process

    fresh = Path(tempfile.mkdtemp(prefix="bench-crawl-follow-"))
    try:
        cfg_dir = make_config(fresh, base, concurrency)
        cfg = load_config(cfg_dir)
        store = Store.from_config(cfg)
        index = open_index_from_config(cfg)
        index.ensure()
        t, cpu = time.perf_counter(), _cpu()
        crawled: list[float] = []
        results, pipeline = crawl_and_process(cfg, cfg_dir, store, index, source_ids=STATIC, parallel=3,
                                              extra_settings={"CONCURRENT_REQUESTS": str(concurrency)},
                                              before_rest=lambda: crawled.append(time.perf_counter()))
        wall, cpu = time.perf_counter() - t, _cpu() - cpu
        after = time.perf_counter() - crawled[0]
        pages = sum(r.pages for r in results)
        print(f"the runner, 3 sources in parallel WITH the analysis pipeline following the crawl (`yuqing run`): "
              f"{pages} pages, {pipeline.analysed} posts analysed, {len(pipeline.warnings)} warnings in {wall:.1f} s → "
              f"{pages / wall:.1f} pages/s, {pipeline.analysed / wall:.1f} posts/s; CPU {cpu:.1f} s (crawlers and "
              f"pipeline) → {pages / cpu:.0f} pages per CPU-second; load average {os.getloadavg()[0]:.1f} "
              f"({', '.join(f'{r.source_id} {r.status}' for r in results)})")
        print(f"  {pipeline.analysed_while_crawling} posts analysed while the crawls ran, the other "
              f"{pipeline.analysed - pipeline.analysed_while_crawling} (and the index) in {after:.1f} s after the "
              f"last crawl ended")
        print("  " + agreement(cfg, store))
        store.dispose()
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def _outcome(store: Store) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], int]:
    from sqlalchemy import select

    from alerting.store.tables import AnalysisRow, EventRow, WarningRow

    with store.session() as s:
        warnings = {(w.event_id, w.category, w.severity, tuple(w.schools), w.title, w.alerted_posts)
                    for w in s.scalars(select(WarningRow).where(WarningRow.kind == "opinion"))}
        events = {(e.id, e.post_count, e.category, e.severity, tuple(e.schools)) for e in s.scalars(select(EventRow))}
        analysed = len(list(s.scalars(select(AnalysisRow.post_id))))
    return warnings, events, analysed


def agreement(cfg: Any, store: Store) -> str:
    """Analyse the stored posts again from scratch, after the crawl (on a copy), and compare."""
    from sqlalchemy import delete, select

    from alerting.store.tables import AnalysisRow, AuditRow, EventRow, OutboxRow, WarningRow
    from yuqing.pipeline import process_pending

    followed = _outcome(store)
    path = Path(store.url.removeprefix("sqlite:///"))
    copy = path.with_name("sequential.db")
    with store.engine.connect() as conn:  # a consistent copy of the WAL database
        conn.exec_driver_sql(f"VACUUM INTO '{copy}'")
    again = Store(f"sqlite:///{copy}")
    with again.session() as s:
        opinion = select(WarningRow.id).where(WarningRow.kind == "opinion")
        s.execute(delete(AuditRow).where(AuditRow.warning_id.in_(opinion)))
        s.execute(delete(OutboxRow))
        s.execute(delete(WarningRow).where(WarningRow.kind == "opinion"))
        s.execute(delete(AnalysisRow))
        s.execute(delete(EventRow))
    process_pending(cfg, again)
    sequential = _outcome(again)
    again.dispose()
    names = ("warnings", "events", "analysed posts")
    diffs = [f"{n}: {len(a ^ b) if isinstance(a, set) else abs(a - b)} differ"
             for n, a, b in zip(names, followed, sequential, strict=True) if a != b]
    if not diffs:
        return (f"same as analysing after the crawl: {len(followed[0])} warnings, {len(followed[1])} events, "
                f"{followed[2]} posts each analysed once")
    return "DIFFERENT from analysing after the crawl: " + "; ".join(diffs)


def report(title: str, rows: list[dict[str, Any]]) -> tuple[int, int, float]:
    print(title)
    for r in rows:
        print(f"  {r['source']:<18} {r['status']:<9} {r['pages']:>6} pages {r['posts']:>7} posts "
              f"{r['seconds']:7.1f} s  {r['pages'] / r['seconds']:7.1f} pages/s  {r['posts'] / r['seconds']:8.1f} "
              f"posts/s  peak memory {r['rss_mb']:.0f} MB  CPU {r['cpu']:.1f} s "
              f"({r['pages'] / max(r['cpu'], 1e-9):.0f} pages per CPU-second"
              + (f"; demo sites {1000 * r['site_cpu'] / max(r['pages'], 1):.1f} ms CPU per page)"
                 if r.get("site_cpu") else ")"))
    pages = sum(r["pages"] for r in rows)
    posts = sum(r["posts"] for r in rows)
    seconds = sum(r["seconds"] for r in rows)
    return pages, posts, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=4500, help="generated demo items (≈ pages)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight per crawl")
    parser.add_argument("--skip-analysis", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--browser-only", action="store_true", help="only the Playwright spider's row")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still stop the demo sites (finally)
    sites, base = start_sites(args.scale)
    work = Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    try:
        cfg_dir = make_config(work, base, args.concurrency)
        if args.browser_only:
            report("Playwright spider (system Chromium, images/fonts/media aborted):",
                   [crawl_one(cfg_dir, "demo-weibo-page", args.concurrency)])
            return
        rows = [crawl_one(cfg_dir, sid, args.concurrency, sites.pid) for sid in STATIC]
        pages, posts, seconds = report(f"static crawl, politeness off (demo scale {args.scale}, "
                                       f"concurrency {args.concurrency}, {os.cpu_count()} CPUs):", rows)
        cpu = sum(r["cpu"] for r in rows)
        print(f"  total: {pages} pages, {posts} posts in {seconds:.1f} s → {pages / seconds:.1f} pages/s, "
              f"{posts / seconds:.1f} posts/s; peak memory {max(r['rss_mb'] for r in rows):.0f} MB; "
              f"crawler CPU {cpu:.1f} s → {pages / cpu:.0f} pages and {posts / cpu:.0f} posts per CPU-second; "
              f"load average {os.getloadavg()[0]:.1f}")
        if not args.skip_analysis:
            try:
                analysed, a_seconds = analyse(cfg_dir)
            except Exception as exc:  # noqa: BLE001 - the analysis area may be mid-change; the crawl figures stand
                print(f"analysis pipeline unavailable: {exc!r}")
            else:
                total = seconds + a_seconds
                print(f"with the analysis pipeline: {analysed} posts analysed in {a_seconds:.1f} s "
                      f"({analysed / a_seconds:.0f} posts/s); crawl + analysis {pages / total:.1f} pages/s, "
                      f"{posts / total:.1f} posts/s")
        rerun = [crawl_one(cfg_dir, sid, args.concurrency, sites.pid) for sid in STATIC]
        pages2, _, seconds2 = report("re-run (incremental: conditional requests, nothing new):", rerun)
        print(f"  total: {pages2} pages in {seconds2:.1f} s")
        fresh = Path(tempfile.mkdtemp(prefix="bench-crawl-parallel-"))
        try:
            par_dir = make_config(fresh, base, args.concurrency)
            t = time.perf_counter()
            results = crawl_sources(load_config(par_dir), par_dir, STATIC, parallel=3,
                                    extra_settings={"CONCURRENT_REQUESTS": str(args.concurrency)})
            wall = time.perf_counter() - t
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
        pages3 = sum(r.pages for r in results)
        print(f"the runner, 3 sources in parallel, crawl only: {pages3} pages in {wall:.1f} s → "
              f"{pages3 / wall:.1f} pages/s ({', '.join(f'{r.source_id} {r.status}' for r in results)})")
        if not args.skip_analysis:
            crawl_and_analyse(base, args.concurrency)
        if not args.skip_browser:
            row = crawl_one(cfg_dir, "demo-weibo-page", args.concurrency)
            report("Playwright spider (system Chromium, images/fonts/media aborted):", [row])
    finally:
        sites.terminate()
        sites.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
