"""The review web UI: ``create_app(cfg, store)`` wires sessions, headers, error pages and the views."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from alerting.accounts import Actor, actor_for
from alerting.store import Store
from alerting.store.tables import UserRow
from yuqing.config import Config
from yuqing.errors import InputError, NotFoundError, PermissionDeniedError, TransitionError, YuqingError
from yuqing.web.deps import CsrfFailed, LoginRequired
from yuqing.web.render import Renderer
from yuqing.web.security import (
    SECURITY_HEADERS,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    LoginLimiter,
    SessionCodec,
    SessionData,
    load_secret,
    new_csrf,
    password_fingerprint,
)

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)


ErrorPage = Callable[[Request, int, str], Response]


def _handler(error_page: ErrorPage, status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        return error_page(request, status, str(exc))

    return handle


def create_app(cfg: Config, store: Store) -> FastAPI:
    from yuqing.web.views import (
        audit_view,
        auth,
        dashboard,
        forms,
        health,
        queue,
        reports,
        search,
        users,
        warning,
    )

    app = FastAPI(title="舆情研判处置", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.cfg = cfg
    app.state.store = store
    renderer = Renderer(cfg)
    app.state.renderer = renderer
    app.state.limiter = LoginLimiter()
    codec = SessionCodec(load_secret(cfg))
    app.state.codec = codec
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (auth, health, queue, warning, forms, dashboard, audit_view, search, reports, users):
        app.include_router(module.router)

    def resolve_actor(sess: SessionData) -> Actor | None:
        """The session's user if still active and its password unchanged since login."""
        with store.session() as s:
            row = s.get(UserRow, sess.username)
            if row is not None and row.active and password_fingerprint(row.password_hash) == sess.fingerprint:
                return actor_for(cfg, row)
        return None

    @app.middleware("http")
    async def session_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        loaded = codec.load(request.cookies.get(SESSION_COOKIE))
        sess = loaded or SessionData(csrf=new_csrf())
        before = (sess.csrf, sess.username, sess.fingerprint) if loaded else None
        request.state.session = sess
        request.state.actor = await run_in_threadpool(resolve_actor, sess) if sess.username else None
        if request.state.actor is None:
            sess.username, sess.fingerprint = None, ""
        response = await call_next(request)
        # Re-issued only when it changes (login, logout, a new anonymous visitor): the signed
        # timestamp then marks the login, so a session ends SESSION_MAX_AGE after it, however busy.
        if before != (sess.csrf, sess.username, sess.fingerprint):
            response.set_cookie(SESSION_COOKIE, codec.dump(sess), max_age=SESSION_MAX_AGE, httponly=True,
                                samesite="lax", secure=request.url.scheme == "https", path="/")
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    def error_page(request: Request, status: int, message: str) -> Response:
        return renderer.page(request, "error.html", {"status": status, "message": message}, status)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return error_page(request, 401, "登录已失效,请重新登录。")

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return error_page(request, 403, "表单已过期或来源不明(CSRF 校验失败),请返回页面刷新后重新提交。")

    # A user-facing error becomes its status and its Chinese message (most specific class first).
    for exc_type, status in ((NotFoundError, 404), (PermissionDeniedError, 403), (TransitionError, 409),
                             (InputError, 400), (YuqingError, 500)):
        app.add_exception_handler(exc_type, _handler(error_page, status))

    @app.exception_handler(OperationalError)
    async def _db_busy(request: Request, exc: OperationalError) -> Response:
        # A write that lost a race for the database (or a database that went away): say so, keep
        # the details in the log, and let the person try again; nothing was half-saved.
        log.warning("database error on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_page(request, 503, "数据库暂时繁忙或不可用,本次操作未保存,请刷新页面后重试。")

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        where = "、".join(str(e.get("loc", ("?",))[-1]) for e in exc.errors())
        return error_page(request, 400, f"请求参数不正确: {where}")

    @app.exception_handler(404)
    async def _not_found(request: Request, exc: Exception) -> Response:
        return error_page(request, 404, "页面不存在。")

    return app
