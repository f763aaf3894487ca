"""Demo fixtures: the seeded corpus, the demo sites on a free port and a mail sink (real servers, port 0)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from yuqing.config import Config, load_config
from yuqing.demo.content import DemoCorpus, build_corpus
from yuqing.demo.sites import DemoSites
from yuqing.demo.smtp import MailSink
from yuqing.model import utcnow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo_now() -> datetime:
    """The corpus clock for the session: the current hour, so content stays inside sources' age limits."""
    return utcnow().replace(minute=0, second=0, microsecond=0)


@pytest.fixture(scope="session")
def demo_corpus(demo_now: datetime) -> DemoCorpus:
    """The corpus built from the sample configuration with the default seed; the same content the sites serve.

    Shared by the whole session: do not mutate it; use ``demo_sites.add_post`` (and expect others to see
    the post) or build your own corpus with ``build_corpus`` when a test needs private content.
    """
    return build_corpus(load_config(ROOT / "config"), now=demo_now)


@pytest.fixture(scope="session")
def demo_sites_server(demo_now: datetime) -> Iterator[DemoSites]:
    """The demo web for the session (its own corpus, so posts added by tests do not leak into demo_corpus)."""
    sites = DemoSites(build_corpus(load_config(ROOT / "config"), now=demo_now))
    sites.start()
    yield sites
    sites.stop()


@pytest.fixture
def demo_sites(demo_sites_server: DemoSites) -> Iterator[DemoSites]:
    """The running demo web; faults and the request log are reset around every test."""
    demo_sites_server.clear_faults()
    demo_sites_server.clear_requests()
    yield demo_sites_server
    demo_sites_server.clear_faults()


@pytest.fixture
def mail_sink(tmp_path: Path) -> Iterator[MailSink]:
    """A fresh SMTP sink on a free port storing .eml files under tmp_path/mail."""
    sink = MailSink(tmp_path / "mail")
    sink.start()
    yield sink
    sink.stop()


@contextmanager
def module_process(*args: str) -> Iterator[str]:
    """Run ``python -m ARGS`` from the project root; yield the first line it prints; stop it afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()  # SIGTERM: the demo servers stop cleanly on it
        assert proc.wait(timeout=10) == 0


@pytest.fixture
def demo_cfg(config_dir: Path, demo_sites: DemoSites, mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The sample configuration (data in tmp) with its demo sources on the running demo sites and its SMTP
    server the test's mail sink: what ``yuqing demo`` sets up, for tests of crawling, alerting and the service."""
    monkeypatch.setenv("YUQING_DEMO_URL", demo_sites.base_url)
    monkeypatch.setenv("YUQING_SMTP_HOST", mail_sink.host)
    monkeypatch.setenv("YUQING_SMTP_PORT", str(mail_sink.port))
    return load_config(config_dir)
