"""The review queue: filters, urgency order, deadline countdown."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from alerting.accounts import list_users
from alerting.queue import QueueFilter, list_queue, paginate
from alerting.workflow import DISMISS_KINDS, perform_each
from yuqing.errors import InputError
from yuqing.web.deps import CheckedForm, CurrentActor, StaffOnly, form_strings, render

router = APIRouter()
PAGE_SIZE = 100
MAX_ITEMS = 5000


@router.get("/")
def home(actor: CurrentActor) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue_page(request: Request, actor: CurrentActor, status: str = "open", category: str = "", severity: str = "",
               school: str = "", assignee: str = "", overdue: str = "", page: int = 1) -> Response:
    kind = "source_health" if category == "source_health" else ""  # listed with the categories in the form
    f = QueueFilter(status=status, category="" if kind else category, severity=severity, school=school,
                    assignee=assignee, overdue=overdue == "1", kind=kind)
    error = ""
    with request.app.state.store.session() as s:
        try:
            items = list_queue(s, request.app.state.cfg, actor, f, limit=MAX_ITEMS)
        except InputError as exc:
            items, error = [], str(exc)
        users = list_users(s)
    shown, page, pages = paginate(items, page, PAGE_SIZE)
    return render(request, "queue.html", {
        "items": shown, "total": len(items), "page": page, "pages": pages, "f": f, "error": error,
        "query": urlencode({k: v for k, v in request.query_params.items()
                            if k not in ("page", "bulk_done", "refused")}),
        "bulk_done": request.query_params.get("bulk_done", ""), "dismiss_kinds": DISMISS_KINDS,
        "refused": [x for x in request.query_params.get("refused", "").split(",") if x.isdigit()],
        "users": [u for u in users if u.role != "monitor"],
        "names": {u.username: u.display_name or u.username for u in users}}, 400 if error else 200)


@router.post("/queue/bulk-dismiss")
def bulk_dismiss(request: Request, actor: StaffOnly, form: CheckedForm) -> Response:
    """Dismiss many false alarms at once; each one is its own audited transition."""
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
    data = {k: v for k, v in form_strings(form).items() if k in ("dismiss_kind", "reason")}
    refused = perform_each(request.app.state.store, request.app.state.cfg, actor, ids, "dismiss", data)
    done = len(set(ids)) - len(refused)
    query = urlencode({"bulk_done": done, "refused": ",".join(str(i) for i, _ in refused)})
    return RedirectResponse(f"/queue?{query}", status_code=303)
