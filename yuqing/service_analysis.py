"""The service's analysis in a worker process of its own, which a Chromium crawl can send away.

The loaded model, segmenter dictionary, scikit-learn and SciPy take about 270 MB. Kept in the service
process they would sit beside every crawl's Chromium; loaded afresh for every batch of new posts they
would cost 3–15 s each time (most of it importing scikit-learn on a busy machine), which the time to
warning cannot afford. So ``yuqing serve`` keeps one worker process with everything loaded, holding its
share of the memory budget (yuqing.service_budget), and stops it while a crawl with Chromium runs; the
next analysis starts it again (the service starts it again right after such a crawl).

Worker side::

    python -m yuqing.service_analysis CONFIG_DIR

loads, prints ``{"ready": true}``, then for each request line ``{"now": ISO-8601 or null}`` on stdin runs
``process_pending`` (analyse → events → warnings → outbox, index replay) and prints the report as one
JSON line; it exits at the end of stdin. The parent holds the service's writer lock around each request,
so the one-writer rule holds across the two processes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from yuqing.pipeline import PipelineReport

log = logging.getLogger("yuqing.service")

# What the service logs and acts on (the report's other fields are the pipeline's own business).
REPORT_FIELDS = ("analysed", "relevant", "sensitive", "events_touched", "new_events", "warnings", "indexed",
                 "index_waiting")
START_TIMEOUT_S = 300  # loading takes 3 s on an idle machine, far more on a busy one
REQUEST_TIMEOUT_S = 1800  # a first crawl of a large source stores thousands of posts


class WorkerFailed(RuntimeError):
    """The worker died, answered garbage or took too long; it has been stopped."""


def report_json(report: PipelineReport) -> str:
    data: dict[str, Any] = {name: getattr(report, name) for name in REPORT_FIELDS}
    data["by_category"] = {str(k): int(v) for k, v in report.by_category.items()}
    return json.dumps(data, ensure_ascii=False)


def report_from_json(data: dict[str, Any]) -> PipelineReport:
    report = PipelineReport()
    for name in REPORT_FIELDS:
        setattr(report, name, data[name])
    report.by_category = Counter(data["by_category"])
    return report


# --- the parent's side ----------------------------------------------------------------------------


class AnalysisWorker:
    """The worker process seen from the service: ``start``, ``process``, ``stop``; not thread-safe (the
    service serialises its use with a lock of its own)."""

    def __init__(self, config_dir: Path, log_file: Path | None = None) -> None:
        self.config_dir = config_dir
        self.log_file = log_file
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0  # how many times a worker was started (for logs and tests)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.stop()  # a dead one: collect it
        err: IO[Any] | int = subprocess.DEVNULL
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            err = self.log_file.open("a", encoding="utf-8")
        t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "yuqing.service_analysis", str(self.config_dir)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, encoding="utf-8",
            )
        finally:
            if not isinstance(err, int):
                err.close()  # the child has its own copy
        self.starts += 1
        ready = self._read(START_TIMEOUT_S)
        if not ready.get("ready"):
            self.stop()
            raise WorkerFailed(f"analysis worker did not start: {ready!r}")
        log.info("event=analysis_worker_started pid=%s seconds=%.1f", self.proc.pid, time.monotonic() - t0)

    def process(self, now: datetime | None) -> PipelineReport:
        if not self.running:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"now": now.isoformat() if now else None}) + "\n")
            self.proc.stdin.flush()
        except OSError as exc:
            self.stop()
            raise WorkerFailed(f"analysis worker gone: {exc}") from exc
        answer = self._read(REQUEST_TIMEOUT_S)
        if "error" in answer:
            raise WorkerFailed(f"analysis failed in the worker: {answer['error']}")
        return report_from_json(answer["report"])

    def stop(self, grace_s: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.close()  # end of requests: the worker exits by itself
            except OSError:
                pass
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        log.info("event=analysis_worker_stopped code=%s", proc.returncode)

    def _read(self, timeout_s: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            code = self.proc.poll()
            self.stop(grace_s=0)
            raise WorkerFailed(f"analysis worker {'exited with ' + str(code) if code is not None else 'timed out'}")
        try:
            answer: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            self.stop(grace_s=0)
            raise WorkerFailed(f"analysis worker answered {line[:200]!r}") from exc
        return answer


# --- the worker's side ----------------------------------------------------------------------------


def serve(config_dir: Path, requests: IO[str], answers: IO[str]) -> None:
    from alerting.index import open_index_from_config
    from alerting.store import Store
    from analysis.analyzer import Analyzer
    from yuqing.config import load_config
    from yuqing.pipeline import process_pending
    from yuqing.service_budget import trim_memory

    cfg = load_config(config_dir)
    analyzer = Analyzer.from_config(cfg)
    index: Any | None = None
    store = Store.from_config(cfg)
    trim_memory()  # loading the model file leaves tens of MB of freed buffers in the heap

    def answer(data: dict[str, Any]) -> None:
        answers.write(json.dumps(data, ensure_ascii=False) + "\n")
        answers.flush()

    answer({"ready": True})
    try:
        for line in requests:
            if index is None:
                try:
                    # The analyzer's segmenter serves Elasticsearch's words field: no second dictionary.
                    index = open_index_from_config(cfg, tokenize=analyzer.segmenter.cut)
                    index.ensure()
                except Exception:  # an index outage must not stop analysis and e-mail; the outbox replays later
                    log.exception("event=index_unavailable url=%s", cfg.index_url)
                    index = None
            now = json.loads(line).get("now")
            try:
                report = process_pending(cfg, store, index=index, analyzer=analyzer,
                                         now=datetime.fromisoformat(now) if now else None)
            except Exception as exc:  # reported to the service, which logs it and raises in its job
                log.exception("event=analysis_failed")
                answer({"error": f"{type(exc).__name__}: {exc}"})
            else:
                answer({"report": json.loads(report_json(report))})
            trim_memory()
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m yuqing.service_analysis", description=__doc__.splitlines()[0])
    ap.add_argument("config_dir", type=Path)
    args = ap.parse_args(argv)
    from yuqing.service_budget import limit_malloc_arenas

    limit_malloc_arenas()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Answers go to the real stdout only; anything a library prints goes to stderr (the log).
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    serve(args.config_dir, sys.stdin, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
