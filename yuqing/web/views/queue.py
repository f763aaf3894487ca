"""The review queue: filters, urgency order, deadline countdown."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from alerting.accounts import list_users
from alerting.queue import QueueFilter, list_queue
from yuqing.errors import InputError
from yuqing.web.deps import CurrentActor, render

router = APIRouter()


@router.get("/")
def home(actor: CurrentActor) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue_page(request: Request, actor: CurrentActor, status: str = "open", category: str = "", severity: str = "",
               school: str = "", assignee: str = "", overdue: str = "") -> Response:
    f = QueueFilter(status=status, category=category, severity=severity, school=school, assignee=assignee,
                    overdue=overdue == "1")
    app = request.app
    error = ""
    with app.state.store.session() as s:
        try:
            items = list_queue(s, app.state.cfg, actor, f)
        except InputError as exc:
            items, error = [], str(exc)
        all_users = list_users(s)
    users = [u for u in all_users if u.role != "monitor"]
    names = {u.username: u.display_name or u.username for u in all_users}
    return render(request, "queue.html", {"items": items, "f": f, "users": users, "names": names,
                                                     "error": error},
                                   400 if error else 200)
