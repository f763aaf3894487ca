"""The period report (日报/周报) download for the working group and the leaders."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from alerting.reports.export import FORMATS
from yuqing.web.deps import StaffOnly

router = APIRouter()


@router.get("/reports/period")
def period_report(request: Request, actor: StaffOnly, since: str = "", until: str = "") -> Response:
    # Imported on the first download: python-docx is not held by the service from start (docs/deployment.md).
    from alerting.reports.period import export_period, parse_day

    with request.app.state.store.session() as s:
        data, name = export_period(s, request.app.state.cfg, actor.username, parse_day(since, "since"),
                                   parse_day(until or since, "until"))
    return Response(data, media_type=FORMATS["docx"], headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"})
