"""One warning: the event's posts as a timeline, its history, and the actions the user may take."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from alerting import audit
from alerting.accounts import Actor, list_users
from alerting.dashboard import recent_runs
from alerting.queue import deadline_of, event_posts, get_warning, is_overdue
from alerting.store.tables import EventRow
from alerting.workflow import ACTIONS, RESPONSE_KINDS, FormInvalid, allowed_actions, perform, responded_label
from yuqing.errors import PermissionDeniedError, TransitionError
from yuqing.model import utcnow
from yuqing.web.action_forms import ACTION_FIELDS, GUIDANCE, defaults
from yuqing.web.deps import CheckedForm, CurrentActor, form_strings, render

router = APIRouter()


def warning_context(request: Request, actor: Actor, warning_id: int) -> dict[str, Any]:
    app = request.app
    cfg = app.state.cfg
    now = utcnow()
    with app.state.store.session() as s:
        w = get_warning(s, actor, warning_id)
        draft = (w.form or {}).get("_response_draft")
        actions = allowed_actions(actor, w)
        users = list_users(s)
        history = audit.history(s, w.id)
        return {
            "w": w,
            "names": {u.username: u.display_name or u.username for u in users},
            "posts": event_posts(s, w),
            "event": s.get(EventRow, w.event_id) if w.event_id else None,
            "runs": recent_runs(s, w.source_id) if w.kind == "source_health" and w.source_id else [],
            "history": history,
            "state_label": responded_label(w.status, history),
            "deadline": deadline_of(cfg, w),
            "overdue": is_overdue(cfg, w, now),
            "seconds_left": (deadline_of(cfg, w) - now).total_seconds(),
            "actions": [(a, ACTIONS[a].label, ACTION_FIELDS[a], defaults(a, w.category, w.severity, draft))
                        for a in actions],
            "assignees": [u for u in users if u.role != "monitor" and u.active],
            "guidance": GUIDANCE.get(w.category, ""),
            "draft": draft,
            "response_kinds": RESPONSE_KINDS,
            "done": request.query_params.get("done", ""),
        }


@router.get("/warnings/{warning_id}")
def warning_page(request: Request, warning_id: int, actor: CurrentActor) -> Response:
    ctx = warning_context(request, actor, warning_id)
    return render(request, "warning.html", {**ctx, "errors": {}, "submitted": {}})


@router.post("/warnings/{warning_id}/actions/{action}")
def take_action(request: Request, warning_id: int, action: str, actor: CurrentActor, form: CheckedForm) -> Response:
    data = form_strings(form)
    app = request.app
    try:
        with app.state.store.session() as s:
            perform(s, app.state.cfg, actor, warning_id, action, data)
    except (FormInvalid, TransitionError, PermissionDeniedError) as exc:
        # Re-show the page with the message next to the field (or on top); nothing was saved.
        ctx = warning_context(request, actor, warning_id)
        status = 400 if isinstance(exc, FormInvalid) else (403 if isinstance(exc, PermissionDeniedError) else 409)
        errors = exc.errors if isinstance(exc, FormInvalid) else {}
        return render(request, "warning.html", {
            **ctx, "errors": errors, "failed_action": action, "submitted": data,
            "top_error": "" if errors else str(exc)}, status)
    return RedirectResponse(f"/warnings/{warning_id}?done={action}", status_code=303)
