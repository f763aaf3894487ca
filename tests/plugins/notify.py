"""Alerting fixtures: the sample configuration mailing to the test's MailSink, a migrated SQLite store,
and a helper that writes an analysed event (posts, analyses, event row) as the pipeline would."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from alerting.store import Store
from alerting.store.tables import AnalysisRow, EventRow, PostRow
from yuqing.config import Config, load_config
from yuqing.demo.smtp import MailSink

# A fixed clock outside every sensitive period of the sample configuration: 2026-11-30 10:00 Beijing time.
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def notify_cfg(config_dir: Path, mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The sample configuration with its SMTP server the test's mail sink and the web at a known URL."""
    monkeypatch.setenv("YUQING_SMTP_HOST", mail_sink.host)
    monkeypatch.setenv("YUQING_SMTP_PORT", str(mail_sink.port))
    monkeypatch.setenv("YUQING_BASE_URL", "https://yuqing.example.gov.cn")
    return load_config(config_dir)


@pytest.fixture
def store(notify_cfg: Config) -> Iterator[Store]:
    s = Store.from_config(notify_cfg)
    yield s
    s.dispose()


@dataclass
class PostSpec:
    title: str
    content: str
    site: str = "tieba.example.com"
    schools: list[str] = field(default_factory=lambda: ["county-no1-high"])
    relevant: bool = True
    explanation: list[list[object]] = field(default_factory=lambda: [["食堂", 0.9], ["中毒", 0.8]])
    url: str = ""


def write_event(
    store: Store, event_id: str, posts: list[PostSpec], *, category: str = "incident", severity: str | None = "III",
    sensitivity: float = 0.9, reach: int = 50, now: datetime = T0,
) -> None:
    """Add posts (new ones only) to an event and set the event's figures, as the pipeline's update does."""
    with store.session() as s:
        event = s.get(EventRow, event_id)
        if event is None:
            event = EventRow(id=event_id, title=posts[0].title, signature="", first_seen=now, last_seen=now)
            s.add(event)
        for p in posts:
            pid = hashlib.sha256(f"{event_id}|{p.title}|{p.content}".encode()).hexdigest()[:32]
            if s.get(PostRow, pid) is not None:
                continue
            s.add(PostRow(id=pid, url=p.url or f"https://{p.site}/p/{pid[:8]}", source="demo-tieba", site=p.site,
                          kind="thread", title=p.title, content=p.content, author="网友", published_at=now,
                          crawled_at=now, updated_at=now, content_hash=pid, extra={}))
            s.flush()
            s.add(AnalysisRow(post_id=pid, schools=p.schools, relevant=p.relevant, sensitivity=sensitivity,
                              category=category, severity=severity, explanation=p.explanation, topics=[],
                              event_id=event_id, model="test", analysed_at=now))
        s.flush()
        count = s.query(AnalysisRow).filter(AnalysisRow.event_id == event_id).count()
        event.post_count = count
        event.site_count = 1
        event.reach = reach
        event.schools = sorted({sid for p in posts for sid in p.schools})
        event.category = category
        event.severity = severity
        event.sensitivity = sensitivity
        event.last_seen = now
