"""`/healthz`: for the service monitor and load balancers; no login, and nothing sensitive in it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from alerting.dashboard import health

router = APIRouter()


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    report = health(request.app.state.store)
    return JSONResponse(report, status_code=200 if report["ok"] else 503)
