"""The dashboard: today's counts, open warnings by category and severity, overdue items, source health."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from alerting.dashboard import build_dashboard
from yuqing.web.deps import CurrentActor, render

router = APIRouter()


@router.get("/dashboard")
def dashboard(request: Request, actor: CurrentActor) -> Response:
    app = request.app
    with app.state.store.session() as s:
        d = build_dashboard(s, app.state.cfg, actor)
    local = d.day_start.astimezone(ZoneInfo(app.state.cfg.timezone)).date()
    return render(request, "dashboard.html", {"d": d, "today": local.isoformat(),
                                              "week_start": (local - timedelta(days=6)).isoformat()})
