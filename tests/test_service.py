"""`yuqing serve` as a subprocess: a new post on a demo site becomes an e-mail; SIGTERM during a crawl,
then a restart, loses and doubles nothing; /healthz answers.

One source (the demo RSS feed) is scheduled every few seconds; the mail goes to the test's SMTP sink.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from alerting.store import Store
from alerting.store.tables import OutboxRow, PostRow, SourceRunRow
from yuqing.config import load_config
from yuqing.demo.sites import DemoSites
from yuqing.demo.smtp import MailSink

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
INTERVAL_MINUTES = 0.08  # about five seconds

# Two fresh, distinct, serious stories (each one its own event, each mailed at once).
STORY_1 = ("服务测试甲 示例县第一中学食堂午餐后三十多名学生呕吐腹泻",
           "示例县第一中学食堂今天午餐后,三十多名学生出现呕吐、腹泻症状,已送县医院住院观察,疑似食物中毒。"
           "家长质疑学校隐瞒情况,要求公开食材来源。")
STORY_2 = ("服务测试乙 示例县实验小学一名学生被老师体罚致骨折",
           "示例县实验小学五年级一名学生昨天被班主任体罚,导致手臂骨折住院。家长称学校至今没有说法,"
           "多名家长在校门口聚集讨要说法,现场有人拍视频传到网上。")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, check: Callable[[], object], timeout: float, every: float = 0.25) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class ServeProcess:
    """`yuqing serve` in a child process with its own log file; ``stop()`` sends SIGTERM."""

    def __init__(self, config_dir: Path, env: dict[str, str], port: int, log: Path) -> None:
        self.config_dir, self.env, self.port, self.log = config_dir, env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "yuqing.cli", "serve", "--config", str(self.config_dir),
                 "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )
        _wait("/healthz to answer", self.healthz_or_none, 60)

    def healthz_or_none(self) -> tuple[int, dict[str, object]] | None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"yuqing serve exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
        except OSError:
            return None

    def stop(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def service_env(config_dir: Path, demo_sites: DemoSites, mail_sink: MailSink) -> tuple[Path, dict[str, str]]:
    sources = yaml.safe_load((config_dir / "sources.yaml").read_text(encoding="utf-8"))
    [rss] = [s for s in sources["sources"] if s["id"] == "demo-news-rss"]
    rss["schedule"] = {"interval_minutes": INTERVAL_MINUTES}
    (config_dir / "sources.yaml").write_text(yaml.safe_dump({"sources": [rss]}, allow_unicode=True), "utf-8")
    env = {**os.environ, "YUQING_DEMO_URL": demo_sites.base_url, "YUQING_SMTP_HOST": mail_sink.host,
           "YUQING_SMTP_PORT": str(mail_sink.port), "PYTHONUNBUFFERED": "1"}
    return config_dir, env


@pytest.fixture
def serve(service_env: tuple[Path, dict[str, str]], tmp_path: Path) -> Iterator[ServeProcess]:
    config_dir, env = service_env
    proc = ServeProcess(config_dir, env, _free_port(), tmp_path / "serve.out")
    yield proc
    proc.kill()


def _mails_with(sink: MailSink, needle: str) -> list[EmailMessage]:
    return [m for m in sink.messages() if needle in m.get_body(("plain",)).get_content()]


def test_new_post_becomes_one_mail_and_sigterm_mid_crawl_then_restart_loses_and_doubles_nothing(
        serve: ServeProcess, demo_sites: DemoSites, mail_sink: MailSink) -> None:
    cfg = load_config(serve.config_dir)
    store = Store.from_config(cfg)  # the schema exists before the service and this test both look
    try:
        serve.start()
        # The first crawl takes in the whole feed; wait until it has run and its mail has gone out.
        _wait("the first crawl", lambda: _finished_runs(store) >= 1, 90)
        _wait("the outbox to drain", lambda: _mail_pending(store) == 0, 60)

        # A post appearing on the site becomes an e-mail.
        demo_sites.add_post("news", title=STORY_1[0], text=STORY_1[1])
        [first] = _wait("the alert for story 1", lambda: _mails_with(mail_sink, STORY_1[0]), 90)
        assert "预警" in first["Subject"] and "示例县第一中学" in first["Subject"]
        # It was analysed by a child process: the model (scikit-learn, the rjieba dictionary) never
        # occupies the long-running service's memory.
        assert serve.proc is not None
        maps = Path(f"/proc/{serve.proc.pid}/maps").read_text()
        assert "sklearn" not in maps and "rjieba" not in maps
        status, body = _wait("healthz", serve.healthz_or_none, 10)
        assert status == 200 and body["ok"] is True and body["running"] is True
        [src] = body["sources"]
        assert src["id"] == "demo-news-rss" and src["last_status"] == "ok" and src["next_run"]

        # SIGTERM while a crawl is fetching the (now slow) feed that carries story 2.
        demo_sites.set_fault("/news/rss.xml", "slow", seconds=6)
        fault = demo_sites.faults[-1]
        demo_sites.add_post("news", title=STORY_2[0], text=STORY_2[1])
        hits = fault.hits  # the next fetch of the feed starts after the post is on it
        _wait("a crawl to be in flight", lambda: fault.hits > hits, 30, every=0.05)
        t0 = time.monotonic()
        assert serve.stop() == 0
        assert time.monotonic() - t0 < 45  # bounded: grace for children plus the job threads
        assert "event=service_stopped" in (cfg.data_dir / "logs" / "yuqing.log").read_text(encoding="utf-8")
        assert not _mails_with(mail_sink, STORY_2[0])  # the crawl carrying it was stopped

        demo_sites.clear_faults()
        serve.start()
        _wait("the alert for story 2 after the restart", lambda: _mails_with(mail_sink, STORY_2[0]), 90)
        # Give a few more crawl cycles the chance to double anything.
        runs = _finished_runs(store)
        _wait("two more crawls", lambda: _finished_runs(store) >= runs + 2, 60)
        assert len(_mails_with(mail_sink, STORY_1[0])) == 1
        assert len(_mails_with(mail_sink, STORY_2[0])) == 1
        ids = [m["Message-ID"] for m in mail_sink.messages()]
        assert len(ids) == len(set(ids)), "a message was delivered twice"
        with store.session() as s:
            for title, _ in (STORY_1, STORY_2):
                assert s.scalar(select(func.count()).select_from(PostRow).where(PostRow.title == title)) == 1
        assert serve.stop() == 0
    finally:
        store.dispose()


def _finished_runs(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(SourceRunRow)
                            .where(SourceRunRow.finished_at.is_not(None))) or 0)


def _mail_pending(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxRow)
                            .where(OutboxRow.channel == "mail", OutboxRow.delivered_at.is_(None))) or 0)
