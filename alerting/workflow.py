"""The warning state machine, following the bureau's procedure (design.md, "workflow states").

    new 待研判 → triaged 已研判 (or dismissed 误报) → reported 已上报 → handling 处置中
      → responded 已回复/已澄清/已移交 → tracking 跟踪中 → closed 已办结

Each action names the states it starts from, the state it leads to and the roles allowed to take
it. ``perform`` validates the input, checks role and school scope, changes the warning and writes
exactly one audit row in the caller's transaction, together with the reviewer's verdict as labels
and the index status update (an outbox row), so that nothing is half-saved.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from alerting import audit
from alerting.accounts import ROLE_LABELS, Actor
from alerting.labels import record_verdict
from alerting.queue import compute_deadline, event_post_ids, visible
from alerting.store import Store
from alerting.store.tables import AuditRow, UserRow, WarningRow
from yuqing.config import Config
from yuqing.errors import InputError, NotFoundError, PermissionDeniedError, TransitionError
from yuqing.model import STATE_LABELS, Category, Role, Severity, WarningState, utcnow

S = WarningState
STAFF = frozenset({Role.officer, Role.leader, Role.admin})
EVERYONE = frozenset(Role)

RESPONSE_KINDS: dict[str, str] = {
    "reply": "回复",
    "publish": "发布情况通报",
    "clarification": "澄清",
    "referral": "移交",
}
# What the procedure asks for each category (the form preselects it; any kind may be chosen).
RECOMMENDED_RESPONSE: dict[str, str] = {
    "inquiry": "reply",  # reply the same day, or say the same day when the answer will come
    "incident": "publish",  # publish the facts; escalate if it continues
    "fabrication": "clarification",  # clarify the facts; refer to discipline or law enforcement
    "suggestion": "reply",  # adopt and reply
    "none": "reply",
}
DISMISS_KINDS: dict[str, str] = {"not_sensitive": "内容不敏感", "not_relevant": "与本县学校无关"}
EVALUATIONS: dict[str, str] = {"good": "好", "fair": "较好", "average": "一般", "poor": "差"}
MAX_TEXT = 4000
_SKEW = timedelta(minutes=5)  # clocks of a browser and the server differ a little


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: str
    sources: frozenset[WarningState]
    target: WarningState | None  # None: the state stays as it is
    roles: frozenset[Role]
    kinds: frozenset[str] = frozenset({"opinion"})


def _spec(name: str, sources: set[WarningState], target: WarningState | None, roles: frozenset[Role],
          kinds: frozenset[str] = frozenset({"opinion"})) -> ActionSpec:
    return ActionSpec(name, audit.ACTION_LABELS[name], frozenset(sources), target, roles, kinds)


OPEN_STATES = {S.new, S.triaged, S.reported, S.handling, S.responded, S.tracking}
BOTH = frozenset({"opinion", "source_health"})

ACTIONS: dict[str, ActionSpec] = {
    s.name: s
    for s in (
        _spec("confirm", {S.new}, S.triaged, STAFF),
        _spec("dismiss", {S.new, S.triaged}, S.dismissed, STAFF, BOTH),
        _spec("assign", OPEN_STATES, None, STAFF, BOTH),
        _spec("report", {S.triaged}, S.reported, STAFF | {Role.monitor}),
        _spec("handle", {S.reported, S.handling}, S.handling, STAFF),
        _spec("draft_response", {S.handling}, None, STAFF),
        # The leader approves what goes out: replies, clarifications and referrals alike.
        _spec("approve_response", {S.handling}, S.responded, frozenset({Role.leader, Role.admin})),
        _spec("track", {S.responded}, S.tracking, STAFF),
        _spec("track_note", {S.tracking}, None, STAFF | {Role.monitor}),
        _spec("close", {S.responded, S.tracking}, S.closed, STAFF),
        _spec("reopen", {S.dismissed, S.closed}, S.new, frozenset({Role.leader, Role.admin}), BOTH),
        _spec("note", OPEN_STATES | {S.dismissed, S.closed}, None, EVERYONE, BOTH),
    )
}
# A broken source is fixed, not answered: it closes from any open state.
SOURCE_HEALTH_CLOSE = ActionSpec("close", "办结", frozenset(OPEN_STATES), S.closed, STAFF, BOTH)


class FormInvalid(InputError):
    """Bad form input; ``errors`` maps each field to its message (shown next to the field)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(";".join(f"{k}: {v}" for k, v in errors.items()), "")


def spec_for(w: WarningRow, action: str) -> ActionSpec:
    if w.kind == "source_health" and action == "close":
        return SOURCE_HEALTH_CLOSE
    try:
        return ACTIONS[action]
    except KeyError:
        raise TransitionError(f"未知操作 {action!r}") from None


# The order a page offers actions in: the next step of the procedure first, side actions last.
DISPLAY_ORDER = ("confirm", "report", "handle", "draft_response", "approve_response", "track", "close", "reopen",
                 "track_note", "dismiss", "assign", "note")


def allowed_actions(actor: Actor, w: WarningRow) -> list[str]:
    """Actions this actor may take on this warning now (what the page offers), next step first."""
    out = []
    for name in DISPLAY_ORDER:
        spec = spec_for(w, name)
        if w.kind in spec.kinds and actor.role in spec.roles and S(w.status) in spec.sources:
            out.append(name)
    if "approve_response" in out and (w.form or {}).get("_response_draft"):
        out.remove("approve_response")
        out.insert(0, "approve_response")  # a draft is waiting for this leader: that comes first
    return out if visible(actor, w) else []


def _check(actor: Actor, w: WarningRow, spec: ActionSpec) -> None:
    state = S(w.status)
    if w.kind not in spec.kinds:
        raise TransitionError(f"数据源故障类预警不能执行“{spec.label}”")
    if actor.role not in spec.roles:
        who = "、".join(ROLE_LABELS[r] for r in sorted(spec.roles, key=lambda r: r.value))
        raise PermissionDeniedError(f"“{spec.label}”只能由{who}执行,当前账号角色为{ROLE_LABELS[actor.role]}")
    if state not in spec.sources:
        allowed = "、".join(STATE_LABELS[s] for s in S if s in spec.sources)
        raise TransitionError(
            f"预警 {w.id} 当前状态为“{STATE_LABELS[state]}”,不能执行“{spec.label}”(仅限状态: {allowed})"
        )


# --- input validation: one function per action, returning the cleaned details -----------------


def _text(data: Mapping[str, Any], key: str, label: str, errors: dict[str, str], required: bool = True) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        errors[key] = f"请填写{label}"
    elif len(value) > MAX_TEXT:
        errors[key] = f"{label}不能超过 {MAX_TEXT} 个字符(现有 {len(value)} 个)"
    return value


def _choice(data: Mapping[str, Any], key: str, label: str, options: Mapping[str, str] | set[str],
            errors: dict[str, str]) -> str:
    value = str(data.get(key) or "").strip()
    if value not in options:
        errors[key] = f"请选择{label}"
    return value


def _local_time(cfg: Config, data: Mapping[str, Any], key: str, label: str, errors: dict[str, str],
                now: datetime) -> datetime:
    """A datetime-local field (YYYY-MM-DDTHH:MM in the bureau's zone); empty means now."""
    raw = str(data.get(key) or "").strip()
    if not raw:
        return now
    try:
        value = datetime.fromisoformat(raw.replace(" ", "T"))
    except ValueError:
        errors[key] = f"{label}格式应为 2026-05-01 09:30"
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(cfg.timezone))
    if value > now + _SKEW:
        errors[key] = f"{label}不能晚于现在"
    return value.astimezone(now.tzinfo)


def _validate(session: Session, cfg: Config, w: WarningRow, action: str, data: Mapping[str, Any],
              now: datetime) -> tuple[dict[str, Any], str]:
    """Cleaned details for the audit row and the reason text, or FormInvalid."""
    e: dict[str, str] = {}
    d: dict[str, Any] = {}
    reason = ""
    if action == "confirm":
        d["category"] = _choice(data, "category", "舆情类别", {c.value for c in Category if c is not Category.none}, e)
        d["severity"] = _choice(data, "severity", "等级", {s.value for s in Severity}, e)
        reason = d["opinion"] = _text(data, "opinion", "研判意见", e)
    elif action == "dismiss":
        d["dismiss_kind"] = _choice(data, "dismiss_kind", "误报原因", DISMISS_KINDS, e)
        reason = _text(data, "reason", "排除理由", e)
    elif action == "assign":
        name = _text(data, "assignee", "承办人", e)
        if name:
            user = session.get(UserRow, name)
            if user is None or not user.active or user.role == Role.monitor:
                e["assignee"] = f"没有可承办的账号 {name}(须为工作组、领导组或管理员)"
        d["assignee"] = name
        reason = _text(data, "note", "说明", e, required=False)
    elif action == "report":
        d["to"] = _text(data, "to", "上报对象", e)
        d["at"] = _local_time(cfg, data, "at", "上报时间", e, now).isoformat()
        d["content"] = _text(data, "content", "报送内容", e)
        reason = f"向{d['to']}上报"
    elif action == "handle":
        reason = d["measures"] = _text(data, "measures", "处置措施", e)
        escalate = str(data.get("escalate_to") or "").strip()
        if escalate:
            if escalate not in Severity.__members__:
                e["escalate_to"] = "请选择升级后的等级"
            elif Severity(escalate).rank <= Severity(w.severity).rank:
                e["escalate_to"] = f"升级后的等级须高于当前等级({Severity(w.severity).label})"
            else:
                d["escalate_to"] = escalate
    elif action in ("draft_response", "approve_response"):
        d["response_kind"] = _choice(data, "response_kind", "回复方式", RESPONSE_KINDS, e)
        d["content"] = _text(data, "content", "回复/澄清内容", e)
        d["referred_to"] = _text(data, "referred_to", "移交单位", e, required=d["response_kind"] == "referral")
        if action == "approve_response":
            d["published_at"] = _local_time(cfg, data, "published_at", "发布时间", e, now).isoformat()
        reason = RESPONSE_KINDS.get(d["response_kind"], "")
    elif action == "track":
        reason = d["plan"] = _text(data, "plan", "跟踪安排", e)
    elif action == "track_note":
        reason = d["note"] = _text(data, "note", "跟踪情况", e)
    elif action == "close":
        d["evaluation"] = _choice(data, "evaluation", "处置效果评价", EVALUATIONS, e)
        reason = d["summary"] = _text(data, "summary", "总结评估", e)
    elif action == "reopen":
        reason = _text(data, "reason", "重新打开的理由", e)
    elif action == "note":
        reason = _text(data, "note", "备注", e)
    if e:
        raise FormInvalid(e)
    return d, reason


# --- the one entry point ------------------------------------------------------------------------


def perform(
    session: Session, cfg: Config, actor: Actor, warning_id: int, action: str, data: Mapping[str, Any],
    now: datetime | None = None,
) -> WarningRow:
    """Take one action on one warning inside the caller's transaction.

    Raises NotFoundError (missing, or out of the actor's school scope), PermissionDeniedError
    (role), TransitionError (state) or FormInvalid (input) before anything is written.
    """
    now = now or utcnow()
    w = session.get(WarningRow, warning_id, with_for_update=True)
    if w is None or not visible(actor, w):
        raise NotFoundError(f"预警 {warning_id} 不存在或无权查看")
    spec = spec_for(w, action)
    _check(actor, w, spec)
    details, reason = _validate(session, cfg, w, action, data, now)
    before = w.status
    after = spec.target.value if spec.target else before
    _apply(session, cfg, actor, w, action, details, now)
    w.status = after
    w.updated_at = now
    if w.acknowledged_at is None and action in ("confirm", "dismiss", "assign", "report", "handle"):
        w.acknowledged_at = now  # stops the escalation reminders
    audit.record(session, actor.username, action, warning_id=w.id, from_state=before, to_state=after,
                 reason=reason, details=details, at=now)
    if after != before:
        _enqueue_index_status(session, event_post_ids(session, w), after)
    session.flush()
    return w


BULK_ACTIONS = ("dismiss", "assign")
MAX_BULK = 200


def perform_each(store: Store, cfg: Config, actor: Actor, warning_ids: list[int], action: str,
                 data: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The same action on many warnings (a flood of false alarms), each in its own transaction.

    Returns the warnings that were refused, with the reason; the others are done. Bad input is
    refused for all before anything is written.
    """
    if action not in BULK_ACTIONS:
        raise TransitionError(f"“{audit.ACTION_LABELS.get(action, action)}”不能批量执行")
    if not warning_ids:
        raise FormInvalid({"ids": "请先勾选预警"})
    if len(warning_ids) > MAX_BULK:
        raise FormInvalid({"ids": f"一次最多处理 {MAX_BULK} 条"})
    refused: list[tuple[int, str]] = []
    for wid in dict.fromkeys(warning_ids):
        try:
            with store.session() as s:
                perform(s, cfg, actor, wid, action, data)
        except FormInvalid:
            raise
        except (TransitionError, PermissionDeniedError, NotFoundError) as exc:
            refused.append((wid, str(exc)))
    return refused


def _apply(session: Session, cfg: Config, actor: Actor, w: WarningRow, action: str, d: dict[str, Any],
           now: datetime) -> None:
    if action == "confirm":
        old_category = w.category
        if d["category"] != w.category:
            d["previous_category"] = w.category
            w.category = d["category"]
            w.deadline = compute_deadline(cfg, w.category, w.created_at)
        if d["severity"] != w.severity:
            d["previous_severity"] = w.severity
            w.severity = d["severity"]
        verdict = "confirmed" if d["category"] == old_category else "corrected"
        d["verdict"] = verdict
        d["labels"] = record_verdict(session, event_post_ids(session, w), warning_id=w.id, verdict=verdict,
                                     category=d["category"], actor=actor.username, at=now)
    elif action == "dismiss" and w.kind == "opinion":
        verdict = "irrelevant" if d["dismiss_kind"] == "not_relevant" else "dismissed"
        category = w.category if verdict == "irrelevant" else Category.none.value
        d["verdict"] = verdict
        d["labels"] = record_verdict(session, event_post_ids(session, w), warning_id=w.id, verdict=verdict,
                                     category=category, actor=actor.username, at=now)
    elif action == "handle" and d.get("escalate_to"):
        # "Escalate if it continues": a graver level, kept in the history like every change.
        d["previous_severity"] = w.severity
        w.severity = d["escalate_to"]
    elif action == "assign":
        d["previous_assignee"] = w.assignee
        w.assignee = d["assignee"]
    elif action == "draft_response":
        w.form = {**(w.form or {}), "_response_draft": d}
    elif action == "approve_response":
        form = dict(w.form or {})
        draft = form.pop("_response_draft", None)
        if draft is not None:
            d["drafted"] = draft
        w.form = form
    elif action == "close":
        w.summary = f"{d['summary']}(处置效果: {EVALUATIONS[d['evaluation']]})"
    if w.assignee is None and actor.role in (Role.officer,) and action in ("confirm", "handle"):
        w.assignee = actor.username  # whoever starts the work owns it until reassigned


def _enqueue_index_status(session: Session, post_ids: list[str], status: str) -> None:
    """Tell the search index the new status (an outbox row in this same transaction)."""
    if not post_ids:
        return
    try:
        outbox = importlib.import_module("alerting.index.outbox")
    except ModuleNotFoundError as exc:
        if exc.name != "alerting.index.outbox":
            raise
        return  # the index area has not landed yet; `yuqing index rebuild` catches up
    outbox.enqueue_status(session, post_ids, status)


RESPONDED_LABELS = {"reply": "已回复", "publish": "已发布通报", "clarification": "已澄清", "referral": "已移交"}


def responded_label(status: str, history: list[AuditRow]) -> str:
    """已回复 / 已澄清 / 已移交 … for a responded warning, after its approved response; else the state's label."""
    if status == S.responded:
        for h in reversed(history):
            if h.action == "approve_response":
                return RESPONDED_LABELS.get((h.details or {}).get("response_kind", ""), STATE_LABELS[S.responded])
    return STATE_LABELS[S(status)]
