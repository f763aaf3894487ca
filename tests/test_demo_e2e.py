"""`yuqing demo` end to end, as a user runs it: real demo sites over HTTP, real Scrapy processes,
the real Chromium for the Weibo page, real SMTP (aiosmtpd), real SQLite files.

The demo runs twice in one temp folder: the second run must add nothing and send nothing.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from alerting.store.tables import AnalysisRow, EventRow, PostRow, SourceRunRow, WarningRow
from yuqing.config import load_config

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.browser]


@dataclass
class DemoRun:
    config_dir: Path
    data_dir: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    mails_after_first: list[str]
    posts_after_first: int


def _run_demo(config_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="160")
    env.pop("YUQING_DEMO_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "yuqing.cli", "demo", "--config", str(config_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    work = tmp_path_factory.mktemp("demo")
    config_dir = work / "config"
    shutil.copytree(ROOT / "config", config_dir)
    data_dir = work / "data"
    (config_dir / "storage.yaml").write_text(f"data_dir: {data_dir}\n", encoding="utf-8")
    # A source whose site is down: the run must finish and record the failure, others unaffected.
    with (config_dir / "sources.yaml").open("a", encoding="utf-8") as f:
        f.write(
            f"""  - id: down-site
    name: 已关闭的网站
    type: rss
    urls: ["http://127.0.0.1:{_closed_port()}/rss.xml"]
    politeness: {{download_delay: 0}}
    schedule: {{interval_minutes: 30}}
"""
        )
    first = _run_demo(config_dir)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-5000:]
    mails = sorted(p.name for p in (data_dir / "mail").glob("*.eml"))
    with _session(data_dir) as s:
        posts = s.scalar(select(func.count()).select_from(PostRow)) or 0
    second = _run_demo(config_dir)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-5000:]
    yield DemoRun(config_dir, data_dir, first, second, mails, posts)


def _session(data_dir: Path) -> Session:
    engine = create_engine(f"sqlite:///{data_dir / 'yuqing.db'}")
    return Session(engine)


def _subject(msg: email.message.Message) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def _mails(data_dir: Path) -> list[email.message.EmailMessage]:
    out = []
    for p in sorted((data_dir / "mail").glob("*.eml")):
        msg = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        out.append(msg)
    return out


def _warning_for(s: Session, needle: str) -> WarningRow | None:
    """The warning whose event holds a post containing `needle`."""
    stmt = (
        select(WarningRow)
        .join(AnalysisRow, AnalysisRow.event_id == WarningRow.event_id)
        .join(PostRow, PostRow.id == AnalysisRow.post_id)
        .where((PostRow.content.contains(needle)) | (PostRow.title.contains(needle)))
    )
    return s.scalars(stmt).first()


def test_summary_table_in_chinese(demo_run: DemoRun) -> None:
    out = demo_run.first.stdout
    for text in ("演示网站已启动", "正在采集", "各来源采集情况", "预警(共", "本次发送邮件", "数据库:", "邮件目录:"):
        assert text in out, out[-3000:]
    assert str(demo_run.data_dir / "mail") in out


def test_every_demo_source_collected_posts(demo_run: DemoRun) -> None:
    cfg = load_config(demo_run.config_dir)
    with _session(demo_run.data_dir) as s:
        for src in cfg.sources:
            if src.id == "down-site":
                continue
            n = s.scalar(select(func.count()).select_from(PostRow).where(PostRow.source == src.id))
            assert n and n > 0, f"{src.id} collected nothing"


def test_down_source_is_recorded_and_others_unaffected(demo_run: DemoRun) -> None:
    with _session(demo_run.data_dir) as s:
        run = s.scalars(select(SourceRunRow).where(SourceRunRow.source_id == "down-site")).first()
        assert run is not None and run.status == "failed"
        assert run.errors >= 1
        ok = s.scalars(select(SourceRunRow.status).where(SourceRunRow.source_id != "down-site")).all()
        assert ok and set(ok) == {"ok"}


def test_down_source_raises_one_health_warning_for_the_administrator(demo_run: DemoRun) -> None:
    cfg = load_config(demo_run.config_dir)
    with _session(demo_run.data_dir) as s:
        health = s.scalars(select(WarningRow).where(WarningRow.kind == "source_health")).all()
    assert [w.source_id for w in health] == ["down-site"]
    admin = set(cfg.recipients(cfg.alerts.admin_to))
    to_admin = [m for m in _mails(demo_run.data_dir) if admin & {a.addr_spec for a in m["To"].addresses}]
    assert len(to_admin) == 1 and "已关闭的网站" in _subject(to_admin[0]), [_subject(m) for m in to_admin]


def test_anchor_stories_become_the_expected_warnings(demo_run: DemoRun) -> None:
    from yuqing.demo.content import ANCHORS

    with _session(demo_run.data_dir) as s:
        for name, anchor in ANCHORS.items():
            if name in ("OTHER_COUNTY", "XSS"):
                continue
            w = _warning_for(s, anchor.needle)
            assert w is not None, f"{name}: no warning for {anchor.needle!r}"
            assert w.category == anchor.category.value, (name, w.category)
            assert set(anchor.schools) <= set(w.schools), (name, w.schools)
        other = ANCHORS["OTHER_COUNTY"]
        assert _warning_for(s, other.needle) is None, "a same-named school of another county raised a warning"


def test_food_poisoning_is_one_event_across_platforms_and_mailed_at_once(demo_run: DemoRun) -> None:
    from yuqing.demo.content import ANCHORS

    anchor = ANCHORS["FOOD_POISONING"]
    with _session(demo_run.data_dir) as s:
        w = _warning_for(s, anchor.needle)
        assert w is not None
        event = s.get(EventRow, w.event_id)
        assert event is not None and event.site_count >= 1 and event.post_count >= 2
        sources = set(
            s.scalars(
                select(PostRow.source).join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
                .where(AnalysisRow.event_id == w.event_id)
            )
        )
        assert len(sources) >= 2, f"the story on several platforms should be one event, got {sources}"
        school = "示例县第一中学"
    subjects = [_subject(m) for m in _mails(demo_run.data_dir)]
    hits = [sub for sub in subjects if school in sub and "预警" in sub]
    assert hits, subjects
    cfg = load_config(demo_run.config_dir)
    msg = next(m for m in _mails(demo_run.data_dir) if school in _subject(m))
    to = {a.strip() for a in str(msg["To"]).split(",")}
    assert set(cfg.recipients(cfg.alerts.immediate_to)) <= {t.split("<")[-1].rstrip(">") for t in to}
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and school in body.get_content()


def test_gbk_article_stored_without_mojibake(demo_run: DemoRun) -> None:
    with _session(demo_run.data_dir) as s:
        rows = s.scalars(select(PostRow).where(PostRow.source == "demo-news-rss")).all()
    assert rows
    text = "".join(r.title + r.content for r in rows)
    assert "示例县" in text
    for bad in ("Ê¾", "ç¤º", "\ufffd"):
        assert bad not in text


def test_second_run_adds_nothing_and_sends_nothing(demo_run: DemoRun) -> None:
    mails = sorted(p.name for p in (demo_run.data_dir / "mail").glob("*.eml"))
    assert mails == demo_run.mails_after_first
    assert demo_run.mails_after_first, "the first run sent no e-mail"
    with _session(demo_run.data_dir) as s:
        assert s.scalar(select(func.count()).select_from(PostRow)) == demo_run.posts_after_first
    assert "本次分析 0 条" in demo_run.second.stdout
    assert "本次发送邮件 0 封" in demo_run.second.stdout
