"""E-mail content in Chinese from templates: a plain-text part and an escaped HTML part.

Everything that came from a crawl (titles, texts, URLs, authors) goes through Jinja2 autoescape in the
HTML part and is never marked safe; links to originals are kept only for http(s) URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.store.tables import AnalysisRow, EventRow, PostRow, WarningRow
from yuqing.config import Config
from yuqing.model import Category, Severity

TEMPLATES = Path(__file__).parent / "templates"
MAX_POSTS = 10
MAX_TERMS = 8


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env


def render(name: str, subject: str, **ctx: Any) -> Composed:
    """``name.txt`` and ``name.html`` with the same context."""
    ctx["subject"] = subject
    return Composed(subject=one_line(subject, 180), text=_env().get_template(f"{name}.txt").render(**ctx),
                    html=_env().get_template(f"{name}.html").render(**ctx))


def one_line(text: str, limit: int) -> str:
    """Crawled text fit for a header: no control characters or line breaks, shortened with an ellipsis."""
    flat = re.sub(r"[\x00-\x1f\x7f\u2028\u2029\s]+", " ", text or "").strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def local(cfg: Config, when: datetime | None) -> str:
    if when is None:
        return "—"
    return when.astimezone(ZoneInfo(cfg.timezone)).strftime("%Y-%m-%d %H:%M")


def severity_label(value: str | None) -> str:
    try:
        return Severity(value or "").label
    except ValueError:
        return value or "—"


def category_label(value: str) -> str:
    try:
        return Category(value).label
    except ValueError:
        return value


def school_names(cfg: Config, ids: list[str]) -> list[str]:
    names = {s.id: s.name for s in cfg.schools}
    return [names.get(i, i) for i in ids]


def subject_schools(names: list[str], limit: int = 2) -> str:
    """Schools for a subject line: at most ``limit`` names, then how many in all."""
    if not names:
        return "未识别学校"
    shown = "、".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}等{len(names)}所学校"


def warning_url(cfg: Config, warning_id: int) -> str:
    return f"{cfg.alerts.base_url.rstrip('/')}/warnings/{warning_id}"


def safe_link(url: str) -> str | None:
    return url if re.match(r"^https?://", url or "", re.I) else None


def event_details(session: Session, event_id: str | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The event's posts (newest first, at most MAX_POSTS) and its strongest explanation terms."""
    if not event_id:
        return [], []
    # The columns the mail shows, not ORM objects: a long thread's event holds hundreds of posts.
    rows = list(session.execute(
        select(PostRow.url, PostRow.title, PostRow.content, PostRow.site, PostRow.author, PostRow.published_at,
               PostRow.crawled_at, AnalysisRow.explanation)
        .join(AnalysisRow, AnalysisRow.post_id == PostRow.id).where(AnalysisRow.event_id == event_id)
    ))
    weight: dict[str, float] = {}
    for a in rows:
        for item in a.explanation or []:
            term, w = (item[0], item[1]) if isinstance(item, list | tuple) and len(item) >= 2 else (item, 1.0)
            if isinstance(term, str) and term:
                weight[term] = weight.get(term, 0.0) + (abs(float(w)) if isinstance(w, int | float) else 1.0)
    rows.sort(key=lambda r: (r.published_at or r.crawled_at), reverse=True)
    # Replies carry their thread's URL: one line per page, with how many of the event's posts it holds.
    pages: dict[str, dict[str, Any]] = {}
    for p in rows:
        page = pages.get(p.url)
        if page is None:
            pages[p.url] = {"title": one_line(p.title or p.content, 60), "site": p.site, "url": p.url,
                            "link": safe_link(p.url), "author": p.author, "published": p.published_at or p.crawled_at,
                            "count": 1}
        else:
            page["count"] += 1
    return list(pages.values())[:MAX_POSTS], sorted(weight, key=lambda t: -weight[t])[:MAX_TERMS]


def event_summary(session: Session, event_id: str | None) -> str:
    """A short summary: the first relevant post's text."""
    if not event_id:
        return ""
    row = session.execute(
        select(PostRow.title, PostRow.content).join(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(AnalysisRow.event_id == event_id).order_by(AnalysisRow.relevant.desc(), PostRow.crawled_at)
    ).first()
    if row is None:
        return ""
    text = one_line(row.content or row.title, 200)
    return text


def warning_mail(session: Session, cfg: Config, w: WarningRow, changes: list[str] | None = None) -> Composed:
    """The immediate alert (or, with ``changes``, the escalation re-alert) for one opinion warning."""
    event = session.get(EventRow, w.event_id) if w.event_id else None
    posts, terms = event_details(session, w.event_id)
    schools = school_names(cfg, list(w.schools or []))
    sev = severity_label(w.severity)
    head = f"【事态升级·{sev}预警】" if changes else f"【{sev}预警】"
    # No ASCII spaces around the separator: Python's header folding may put a break at such a space,
    # outside the encoded words, and readers then drop it ("学校· 恶意…").
    subject = f"{head}{subject_schools(schools)}·{category_label(w.category)}:{one_line(w.title, 30)}"
    for p in posts:
        p["published_local"] = local(cfg, p["published"])
    return render(
        "warning", subject, w=w, title=one_line(w.title, 120), schools=schools, severity=sev,
        category=category_label(w.category), sensitivity=f"{w.sensitivity:.2f}", terms=terms, posts=posts,
        deadline=local(cfg, w.deadline), created=local(cfg, w.created_at),
        first_seen=local(cfg, event.first_seen if event else None), url=warning_url(cfg, w.id),
        summary=event_summary(session, w.event_id), changes=changes or [],
        post_count=event.post_count if event else 0, site_count=event.site_count if event else 0,
        reach=event.reach if event else 0, county=cfg.county.name,
    )
