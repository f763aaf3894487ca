"""The one data model every stage shares: posts, analyses, events, warnings, audit entries.

Every field documents its format. Raw values as shown on a page are kept beside the normalised
ones (``published_at`` is aware UTC; ``published_at_raw`` is the text the page showed).
The author is the display name as the post shows it and nothing more: we never profile people.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

SHANGHAI_TZ_NAME = "Asia/Shanghai"


class Category(StrEnum):
    """The bureau's four response classes, plus ``none``."""

    inquiry = "inquiry"  # 询问/置疑/诉求: reply the same day
    incident = "incident"  # 突发事件或热点的恶意传播/炒作: publish the facts, escalate
    fabrication = "fabrication"  # 捏造/歪曲/诽谤/煽动/涉嫌违法: clarify, refer to the authorities
    suggestion = "suggestion"  # 积极建议: adopt and reply
    none = "none"  # not sensitive

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[Category, str] = {
    Category.inquiry: "询问/置疑/诉求",
    Category.incident: "恶意传播/炒作",
    Category.fabrication: "捏造/歪曲/诽谤",
    Category.suggestion: "积极建议",
    Category.none: "不敏感",
}


class Severity(StrEnum):
    """Levels of Chinese emergency plans; ``I`` is the most serious."""

    IV = "IV"  # 一般
    III = "III"  # 较大
    II = "II"  # 重大
    I = "I"  # noqa: E741 特别重大

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self]

    @property
    def rank(self) -> int:
        """1 for IV up to 4 for I, so that ``a.rank > b.rank`` means ``a`` is more serious."""
        return {"IV": 1, "III": 2, "II": 3, "I": 4}[self.value]


SEVERITY_LABELS: dict[Severity, str] = {
    Severity.IV: "一般(IV级)",
    Severity.III: "较大(III级)",
    Severity.II: "重大(II级)",
    Severity.I: "特别重大(I级)",
}


class WarningState(StrEnum):
    new = "new"  # 待研判
    triaged = "triaged"  # 已研判
    dismissed = "dismissed"  # 误报
    reported = "reported"  # 已上报
    handling = "handling"  # 处置中
    responded = "responded"  # 已回复/已澄清/已移交
    tracking = "tracking"  # 跟踪中
    closed = "closed"  # 已办结

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[WarningState, str] = {
    WarningState.new: "待研判",
    WarningState.triaged: "已研判",
    WarningState.dismissed: "误报",
    WarningState.reported: "已上报",
    WarningState.handling: "处置中",
    WarningState.responded: "已回复/已澄清/已移交",
    WarningState.tracking: "跟踪中",
    WarningState.closed: "已办结",
}

OPEN_STATES = frozenset(
    {
        WarningState.new,
        WarningState.triaged,
        WarningState.reported,
        WarningState.handling,
        WarningState.responded,
        WarningState.tracking,
    }
)


class Role(StrEnum):
    admin = "admin"
    leader = "leader"  # 领导组
    officer = "officer"  # 工作组
    monitor = "monitor"  # 监测员


class PostKind(StrEnum):
    article = "article"  # a news or government article
    thread = "thread"  # the first post of a forum thread
    reply = "reply"  # a reply (floor) in a forum thread
    weibo = "weibo"  # a Weibo status
    comment = "comment"  # a comment under a Weibo status


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def post_id_for(url: str, floor: str | int | None = None) -> str:
    """Stable id of a post: the first 16 hex digits of SHA-256 over its canonical URL (and floor).

    Replies share their thread's URL, so the floor or reply id tells them apart.
    """
    key = url if floor is None else f"{url}#{floor}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class Metrics(BaseModel):
    """Engagement counts as the page showed them at crawl time; ``None`` when the page shows none."""

    model_config = ConfigDict(extra="forbid")

    reposts: int | None = None
    comments: int | None = None
    likes: int | None = None
    views: int | None = None

    def reach(self) -> int:
        """One number for reach: reposts weigh most, views least."""
        return (
            (self.reposts or 0) * 10
            + (self.comments or 0) * 3
            + (self.likes or 0)
            + (self.views or 0) // 100
        )


def repair_surrogates(text: str) -> str:
    """``text`` with no lone UTF-16 surrogates: a split pair joined back into its character, a lone half
    replaced by U+FFFD.

    JSON from an API can carry them (``"\\ud83d"``: an emoji cut in half where a text was truncated), and
    json.loads keeps them; but no UTF-8 encoder accepts them, so such a post could be neither stored, nor
    segmented, nor hashed — one broken emoji would lose the post, or fail the batch it came in.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


class Post(BaseModel):
    """One piece of public content: article, thread, reply, weibo or comment."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable id: post_id_for(url, floor); the same post crawled twice has the same id")
    url: str = Field(description="Canonical URL of the post (for replies: the thread URL; `floor` tells them apart)")
    source: str = Field(default="", description="Configured source id this post came from")
    site: str = Field(default="", description="Host name of the site, e.g. 'tieba.baidu.com'")
    kind: PostKind = Field(default=PostKind.article)
    title: str = Field(default="", description="Title as shown; replies carry their thread's title")
    content: str = Field(description="Plain text of the post, whitespace-normalised, no markup")
    author: str = Field(default="", description="Author display name exactly as shown on the page; nothing more")
    published_at: datetime | None = Field(default=None, description="Publish time, aware UTC")
    published_at_raw: str = Field(default="", description="Publish time text as the page showed it")
    crawled_at: datetime = Field(default_factory=utcnow, description="When we fetched it, aware UTC")
    metrics: Metrics = Field(default_factory=Metrics)
    thread_id: str | None = Field(default=None, description="For replies and comments: id of the parent post")
    floor: int | None = Field(default=None, description="Floor number in a thread (1 = first post)")
    raw_sha256: str | None = Field(default=None, description="SHA-256 hex of the raw response body (evidence)")
    extra: dict[str, Any] = Field(default_factory=dict, description="Source-specific values worth keeping")

    @field_validator("published_at", "crawled_at")
    @classmethod
    def _aware_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetime must be timezone-aware")
        return value.astimezone(timezone.utc)

    @field_validator("title", "content", "author", "published_at_raw")
    @classmethod
    def _no_lone_surrogates(cls, value: str) -> str:
        return repair_surrogates(value)

    @field_validator("content")
    @classmethod
    def _content_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("content is empty")
        return value

    def text(self) -> str:
        """Title and content as one text for analysis (titles carry much of the signal)."""
        if self.title and not self.content.startswith(self.title):
            return f"{self.title}\n{self.content}"
        return self.content

    def content_hash(self) -> str:
        return hashlib.sha256(self.text().encode("utf-8")).hexdigest()


class Analysis(BaseModel):
    """What analysis/ says about one post. Matches design.md's `yuqing analyze` output."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Id of the analysed post")
    schools: list[str] = Field(default_factory=list, description="Ids of matched schools of our county")
    relevant: bool = Field(default=False, description="Whether the post is about one of our schools")
    sensitivity: float = Field(default=0.0, ge=0.0, le=1.0, description="Probability the text needs attention")
    category: Category = Field(default=Category.none)
    severity: Severity | None = Field(default=None, description="None when not sensitive")
    sentiment: float = Field(default=0.0, ge=-1.0, le=1.0, description="-1 negative .. 1 positive")
    explanation: list[tuple[str, float]] = Field(
        default_factory=list, description="Terms that pushed the score most, with their weights"
    )
    topics: list[str] = Field(default_factory=list, description="Display names of matched keyword topics")
    event_id: str | None = Field(default=None, description="Id of the near-duplicate group (event)")
    model: str = Field(default="", description="Model name and version that produced this analysis")

    def to_interface(self) -> dict[str, Any]:
        """The exact JSON object of the `yuqing analyze` interface (design.md)."""
        return {
            "id": self.id,
            "schools": list(self.schools),
            "relevant": self.relevant,
            "sensitivity": round(self.sensitivity, 4),
            "category": self.category.value,
            "severity": self.severity.value if self.severity else None,
            "sentiment": round(self.sentiment, 4),
            "explanation": [[t, round(w, 4)] for t, w in self.explanation],
            "model": self.model,
            "topics": list(self.topics),
            "event_id": self.event_id,
        }


class Event(BaseModel):
    """A group of posts that tell the same story."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = ""
    first_seen: datetime
    last_seen: datetime
    post_count: int = 1
    site_count: int = 1
    reach: int = 0
    schools: list[str] = Field(default_factory=list)
    category: Category = Category.none
    severity: Severity | None = None
    sensitivity: float = 0.0


class Warning(BaseModel):  # noqa: A001 - the domain word; shadows a builtin only inside this module
    """An event that crossed the alert threshold; lives in the review queue."""

    model_config = ConfigDict(extra="forbid")

    id: int | None = None
    event_id: str
    status: WarningState = WarningState.new
    category: Category
    severity: Severity
    schools: list[str] = Field(default_factory=list)
    title: str = ""
    sensitivity: float = 0.0
    assignee: str | None = None
    deadline: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    kind: str = Field(default="opinion", description="'opinion' for a story, 'source_health' for a broken source")


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int | None = None
    at: datetime = Field(default_factory=utcnow)
    actor: str
    action: str
    warning_id: int | None = None
    from_state: str | None = None
    to_state: str | None = None
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
