"""The audit log, for leaders and admins: who did what, when (including exports and evidence views)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from alerting.audit import ACTION_LABELS, AuditFilter, entries
from yuqing.web.deps import LeaderOrAdmin, render

router = APIRouter()


@router.get("/audit")
def audit_page(request: Request, actor: LeaderOrAdmin, actor_name: str = "", action: str = "", warning: str = "",
               page: int = 1) -> Response:
    wid = int(warning) if warning.isdigit() else None
    f = AuditFilter(actor=actor_name.strip(), action=action if action in ACTION_LABELS else "", warning_id=wid,
                    page=max(page, 1))
    with request.app.state.store.session() as s:
        rows, total = entries(s, f)
    return render(request, "audit.html", {
        "rows": rows, "total": total, "f": f, "actions": ACTION_LABELS, "pages": max((total - 1) // f.size + 1, 1)})
