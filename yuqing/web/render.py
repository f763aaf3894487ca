"""The one template renderer: Jinja2 with autoescape, filters for times, labels and safe links.

Nothing from a crawl is ever marked safe here: titles, texts, URLs and terms are escaped by
autoescape, and only http/https URLs become links.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

from alerting.accounts import ROLE_LABELS
from alerting.audit import ACTION_LABELS
from yuqing.config import Config
from yuqing.model import CATEGORY_LABELS, SEVERITY_LABELS, STATE_LABELS, Category, Role, Severity, WarningState

TEMPLATES = Path(__file__).parent / "templates"


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) with a host, else None (javascript:, data:, relative… stay text)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def duration_zh(seconds: float) -> str:
    s = int(abs(seconds))
    days, rem = divmod(s, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分"
    return f"{minutes}分钟"


_EM = re.compile(r"(<em>|</em>)")


def highlight(fragment: str) -> Markup:
    """Re-build a search highlight from scratch: every text part escaped again, only <em> kept.

    The index promises escaped fragments; we do not rely on that promise for crawled text.
    """
    import html

    out: list[str] = []
    depth = 0
    for part in _EM.split(fragment):
        if part == "<em>":
            if depth == 0:
                out.append("<mark>")
            depth += 1
        elif part == "</em>":
            if depth == 1:
                out.append("</mark>")
            depth = max(depth - 1, 0)
        else:
            out.append(str(escape(html.unescape(part))))
    if depth:
        out.append("</mark>")
    return Markup("".join(out))


def _label(mapping: dict[Any, str], enum: type, value: Any) -> str:
    try:
        return mapping[enum(value)]
    except (ValueError, KeyError):
        return str(value or "")


class Renderer:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.tz = ZoneInfo(cfg.timezone)
        # autoescape for every template, whatever its file name: crawled text is hostile.
        env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True)
        self.templates = Jinja2Templates(env=env)
        env.filters.update(
            localtime=self.localtime,
            doctime=self.doctime,
            category=lambda v: _label(CATEGORY_LABELS, Category, v),
            severity=lambda v: _label(SEVERITY_LABELS, Severity, v),
            state=lambda v: _label(STATE_LABELS, WarningState, v),
            role=lambda v: _label(ROLE_LABELS, Role, v),
            action=lambda v: ACTION_LABELS.get(v, v),
            safe_url=safe_url,
            duration=duration_zh,
            highlight=highlight,
            school=self.school_name,
            source_name=self.source_name,
        )
        env.globals.update(
            CATEGORIES=[(c.value, c.label) for c in Category],
            SEVERITIES=[(s.value, s.label) for s in Severity],
            STATES=[(s.value, s.label) for s in WarningState],
            county=cfg.county.name,
        )

    def localtime(self, t: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return t.astimezone(self.tz).strftime(fmt) if t else ""

    def doctime(self, value: Any) -> str:
        """An index document's time (ISO 8601 text, as the index returns it) in the bureau's zone."""
        if isinstance(value, datetime):
            return self.localtime(value)
        try:
            return self.localtime(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
        except ValueError:
            return str(value or "")

    def school_name(self, school_id: str) -> str:
        for s in self.cfg.schools:
            if s.id == school_id:
                return s.name
        return school_id

    def source_name(self, source_id: str) -> str:
        for s in self.cfg.sources:
            if s.id == source_id:
                return s.name
        return source_id

    def page(self, request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
        sess = getattr(request.state, "session", None)
        base = {
            "request": request,
            "actor": getattr(request.state, "actor", None),
            "csrf": sess.csrf if sess else "",
            "schools": self.cfg.schools,
        }
        return self.templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status)
