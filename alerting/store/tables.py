"""The one relational schema (SQLAlchemy 2 declarative). Times are stored as aware UTC.

Changes go through Alembic (alerting/store/migrations): edit this file, then add a revision.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite drops tzinfo; this puts UTC back so every datetime read is aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class PostRow(Base):
    __tablename__ = "posts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64), index=True)
    site: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(255), default="")
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    published_at_raw: Mapped[str] = mapped_column(String(128), default="")
    crawled_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column()
    reposts: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    likes: Mapped[int | None] = mapped_column(Integer)
    views: Mapped[int | None] = mapped_column(Integer)
    thread_id: Mapped[str | None] = mapped_column(String(32), index=True)
    floor: Mapped[int | None] = mapped_column(Integer)
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[bool] = mapped_column(Boolean, default=False, doc="Kept as evidence: never purged")


class EvidenceRow(Base):
    """The raw response a post was parsed from, gzip-compressed, addressed by its SHA-256."""

    __tablename__ = "evidence"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column()
    status: Mapped[int] = mapped_column(Integer, default=200)
    content_type: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(Integer)
    body_gz: Mapped[bytes] = mapped_column(LargeBinary)


class AnalysisRow(Base):
    __tablename__ = "analyses"

    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    schools: Mapped[list[Any]] = mapped_column(default=list)
    relevant: Mapped[bool] = mapped_column(Boolean, index=True)
    sensitivity: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str | None] = mapped_column(String(4))
    sentiment: Mapped[float] = mapped_column(Float, default=0.0)
    explanation: Mapped[list[Any]] = mapped_column(default=list)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    event_id: Mapped[str | None] = mapped_column(ForeignKey("events.id"), index=True)
    model: Mapped[str] = mapped_column(String(64))
    analysed_at: Mapped[datetime] = mapped_column()


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(
        String(512), default="",
        doc="MinHash of the first post, hex (analysis.events: 260 digits; 32 in events stored before 0002)",
    )
    first_seen: Mapped[datetime] = mapped_column()
    last_seen: Mapped[datetime] = mapped_column()
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    site_count: Mapped[int] = mapped_column(Integer, default=0)
    reach: Mapped[int] = mapped_column(Integer, default=0)
    schools: Mapped[list[Any]] = mapped_column(default=list)
    category: Mapped[str] = mapped_column(String(16), default="none")
    severity: Mapped[str | None] = mapped_column(String(4))
    sensitivity: Mapped[float] = mapped_column(Float, default=0.0)


class WarningRow(Base):
    __tablename__ = "warnings"
    __table_args__ = (Index("ix_warnings_status_severity", "status", "severity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), default="opinion", doc="opinion | source_health")
    event_id: Mapped[str | None] = mapped_column(ForeignKey("events.id"), unique=True)
    source_id: Mapped[str | None] = mapped_column(String(64), index=True, doc="For source_health warnings")
    status: Mapped[str] = mapped_column(String(16), index=True, default="new")
    category: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(4))
    schools: Mapped[list[Any]] = mapped_column(default=list)
    title: Mapped[str] = mapped_column(Text, default="")
    sensitivity: Mapped[float] = mapped_column(Float, default=0.0)
    assignee: Mapped[str | None] = mapped_column(String(64))
    deadline: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, doc="Steps taken down the duty roster")
    alerted_severity: Mapped[str | None] = mapped_column(String(4), doc="Severity of the last alert sent")
    alerted_posts: Mapped[int] = mapped_column(Integer, default=0, doc="Event post count at the last alert")
    alerted_reach: Mapped[int] = mapped_column(Integer, default=0, doc="Event reach at the last alert")
    form: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="登记表 fields edited by people")
    summary: Mapped[str] = mapped_column(Text, default="", doc="Summary evaluation written on closing")


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxRow(Base):
    """Side effects written in the same transaction as their cause; a sender delivers them later."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "channel", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16), doc="mail | index | apprise")
    key: Mapped[str] = mapped_column(String(255), unique=True, doc="Idempotency key (also the Message-ID)")
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")


class SourceRunRow(Base):
    __tablename__ = "source_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="running", doc="running | ok | failed | killed")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    new_posts: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    http_statuses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str] = mapped_column(Text, default="")


class SeenUrlRow(Base):
    """The crawler's memory: what was fetched, its fingerprint, and when to look again."""

    __tablename__ = "seen_urls"

    url_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64), index=True)
    first_seen: Mapped[datetime] = mapped_column()
    last_fetched: Mapped[datetime] = mapped_column()
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    next_visit: Mapped[datetime | None] = mapped_column(index=True)
    item_count: Mapped[int] = mapped_column(Integer, default=0, doc="Items the parser found last time")


class UserRow(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), default="")
    schools: Mapped[list[Any]] = mapped_column(default=list, doc="School ids a monitor may see")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column()


class LabelRow(Base):
    """A reviewer's verdict, kept as a training label."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id"))
    verdict: Mapped[str] = mapped_column(String(16), doc="confirmed | dismissed | corrected")
    category: Mapped[str] = mapped_column(String(16))
    sensitive: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column()


class MetaRow(Base):
    """Small named values (last digest time, schema facts) that belong to no other table."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column()
