"""`/healthz`: for the service monitor and load balancers; no login, and nothing sensitive in it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from alerting.dashboard import health

router = APIRouter()


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    report = health(request.app.state.store)
    # `yuqing serve` adds the scheduler's view: sources' last/next runs, backlogs, sensitive period.
    service = getattr(request.app.state, "service_health", None)
    if service is not None and report["ok"]:
        report.update(service())
        report["ok"] = report.pop("healthy")
    return JSONResponse(report, status_code=200 if report["ok"] else 503)
