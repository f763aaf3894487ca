"""The 登记表 of one warning: filled in from the warning, its posts and its history; editable.

People's edits are kept in ``WarningRow.form`` (field key → text) and override the automatic
value of that field; clearing an edit brings the automatic value back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from alerting import audit
from alerting.queue import event_posts, school_names
from alerting.store.tables import AuditRow, UserRow, WarningRow
from yuqing.config import Config
from yuqing.errors import InputError
from yuqing.model import CATEGORY_LABELS, SEVERITY_LABELS, Category, Severity, utcnow

# The printed order of the county office's form.
FIELDS: list[tuple[str, str]] = [
    ("number", "编号"),
    ("found_at", "发现时间"),
    ("sources", "来源网站与链接"),
    ("units", "涉及单位"),
    ("summary", "内容摘要"),
    ("category", "舆情类别"),
    ("severity", "等级"),
    ("opinion", "研判意见"),
    ("reporting", "上报情况"),
    ("measures", "处置措施"),
    ("result", "处置结果"),
    ("tracking", "跟踪情况"),
    ("filled_by", "填表人"),
    ("date", "日期"),
]
FIELD_KEYS = [k for k, _ in FIELDS]
LONG_FIELDS = {"sources", "summary", "opinion", "reporting", "measures", "result", "tracking"}
MAX_FIELD = 4000
MAX_SOURCES = 8
SUMMARY_CHARS = 300


@dataclass
class RegistrationForm:
    warning_id: int
    title: str
    values: dict[str, str]  # what is shown and exported
    auto: dict[str, str]  # what the system would fill in
    edited: set[str]  # fields a person changed

    def rows(self) -> list[tuple[str, str, str]]:
        return [(k, label, self.values.get(k, "")) for k, label in FIELDS]


def _fmt(cfg: Config, t: datetime | None) -> str:
    if t is None:
        return ""
    return t.astimezone(ZoneInfo(cfg.timezone)).strftime("%Y年%m月%d日 %H:%M")


def _label(mapping: dict, enum: type, value: str) -> str:  # type: ignore[type-arg]
    try:
        return str(mapping[enum(value)])
    except ValueError:
        return value


def _display_names(session: Session, names: set[str]) -> dict[str, str]:
    out = {}
    for n in names:
        u = session.get(UserRow, n)
        out[n] = (u.display_name or n) if u else n
    return out


def automatic_values(session: Session, cfg: Config, w: WarningRow, filled_by: str, today: datetime) -> dict[str, str]:
    tz = ZoneInfo(cfg.timezone)
    posts = event_posts(session, w)
    history = audit.history(session, w.id)
    names = _display_names(session, {h.actor for h in history})
    first_seen = min((p.post.crawled_at for p in posts), default=w.created_at)

    def lines(actions: tuple[str, ...], render: object) -> str:
        out = []
        for h in history:
            if h.action in actions:
                out.append(f"{_fmt(cfg, h.at)} {names.get(h.actor, h.actor)}: {render(h)}")  # type: ignore[operator]
        return "\n".join(out)

    sources = []
    for p in posts[:MAX_SOURCES]:
        sources.append(f"{p.post.site} {p.post.url}")
    if len(posts) > MAX_SOURCES:
        sources.append(f"……另有 {len(posts) - MAX_SOURCES} 条,见系统预警 {w.id}")
    if w.kind == "source_health" and w.source_id:
        sources.append(f"数据源 {w.source_id}")
    body = posts[0].post.content if posts else ""
    summary = w.title.strip()
    if body:
        text = body if len(body) <= SUMMARY_CHARS else body[:SUMMARY_CHARS] + "……"
        summary = f"{summary}\n{text}" if summary and not body.startswith(summary) else text
    if len(posts) > 1:
        sites = len({p.post.site for p in posts})
        summary += f"\n(共 {len(posts)} 条相关内容,涉及 {sites} 个网站)"

    def report(h: AuditRow) -> str:
        d = h.details or {}
        at = _fmt(cfg, datetime.fromisoformat(d["at"])) if d.get("at") else ""
        return f"于{at}向{d.get('to', '')}上报,报送内容: {d.get('content', '')}"

    def response(h: AuditRow) -> str:
        d = h.details or {}
        kind = {"reply": "回复", "publish": "发布情况通报", "clarification": "澄清", "referral": "移交"}.get(
            d.get("response_kind", ""), "")
        extra = f"(移交: {d['referred_to']})" if d.get("referred_to") else ""
        return f"{kind}{extra}: {d.get('content', '')}"

    closing = lines(("close",), lambda h: f"办结。{w.summary or h.reason}")
    tracking = lines(("track", "track_note"), lambda h: h.reason)
    return {
        "number": f"YQ-{w.created_at.astimezone(tz):%Y%m%d}-{w.id:04d}",
        "found_at": _fmt(cfg, first_seen),
        "sources": "\n".join(sources),
        "units": "、".join(school_names(cfg, list(w.schools or []))) or "(未匹配到具体学校)",
        "summary": summary,
        "category": _label(CATEGORY_LABELS, Category, w.category),
        "severity": _label(SEVERITY_LABELS, Severity, w.severity),
        "opinion": lines(("confirm", "dismiss"), lambda h: h.reason),
        "reporting": lines(("report",), report),
        "measures": lines(("handle",), lambda h: h.reason),
        "result": lines(("approve_response",), response),
        "tracking": "\n".join(x for x in (tracking, closing) if x),
        "filled_by": filled_by,
        "date": today.astimezone(tz).strftime("%Y年%m月%d日"),
    }


def build_form(session: Session, cfg: Config, w: WarningRow, filled_by: str, today: datetime | None = None
               ) -> RegistrationForm:
    auto = automatic_values(session, cfg, w, filled_by, today or utcnow())
    edits = {k: v for k, v in (w.form or {}).items() if k in FIELD_KEYS and isinstance(v, str)}
    values = {k: edits.get(k, auto[k]) for k in FIELD_KEYS}
    return RegistrationForm(w.id, w.title, values, auto, set(edits))


def save_edits(session: Session, cfg: Config, w: WarningRow, actor: str, submitted: dict[str, str],
               filled_by: str) -> list[str]:
    """Keep what differs from the automatic value; returns the changed field keys (audited)."""
    errors = {k: f"不能超过 {MAX_FIELD} 个字符" for k, v in submitted.items() if len(v) > MAX_FIELD}
    unknown = [k for k in submitted if k not in FIELD_KEYS]
    if unknown:
        raise InputError(f"登记表没有这些栏目: {', '.join(unknown)}")
    if errors:
        from alerting.workflow import FormInvalid

        raise FormInvalid(errors)
    current = build_form(session, cfg, w, filled_by)
    form = dict(w.form or {})
    changed = []
    for k, v in submitted.items():
        v = v.replace("\r\n", "\n").strip()
        new_edit = None if (not v or v == current.auto[k].strip()) else v
        if form.get(k) != new_edit:
            changed.append(k)
            if new_edit is None:
                form.pop(k, None)
            else:
                form[k] = new_edit
    if changed:
        w.form = form
        audit.record(session, actor, "edit_form", warning_id=w.id, from_state=w.status, to_state=w.status,
                     details={"fields": changed})
    return changed
