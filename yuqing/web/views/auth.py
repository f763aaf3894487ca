"""Log in (argon2, rate limited per IP and user name) and log out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from alerting import audit
from alerting.accounts import authenticate
from yuqing.web.deps import CheckedForm, render
from yuqing.web.security import new_csrf, password_fingerprint

router = APIRouter()


def _next(target: str | None) -> str:
    # Only local paths: an open redirect would turn our login page into a phishing helper.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", {"next": _next(next), "error": ""})


@router.post("/login")
def login(request: Request, form: CheckedForm) -> Response:
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")
    target = _next(str(form.get("next") or ""))
    ip = request.client.host if request.client else "?"
    limiter = request.app.state.limiter
    wait = limiter.retry_after(ip, username)
    if wait:
        return render(request, "login.html", {"next": target, "username": username,
                                            "error": f"登录失败次数过多,请 {max(wait // 60, 1)} 分钟后再试。"}, 429)
    with request.app.state.store.session() as s:
        row = authenticate(s, username, password)
        if row is None:
            audit.record(s, username or "(空)", "login_failed", details={"ip": ip})
        else:
            audit.record(s, row.username, "login", details={"ip": ip})
            fingerprint = password_fingerprint(row.password_hash)
    if row is None:
        limiter.failed(ip, username)
        return render(request, "login.html", {"next": target, "username": username,
                                            "error": "用户名或密码不正确。"}, 401)
    limiter.succeeded(ip, username)
    sess = request.state.session
    sess.username, sess.fingerprint, sess.csrf = row.username, fingerprint, new_csrf()  # new token: no fixation
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, form: CheckedForm) -> Response:
    sess = request.state.session
    if sess.username:
        with request.app.state.store.session() as s:
            audit.record(s, sess.username, "logout")
    sess.username, sess.fingerprint, sess.csrf = None, "", new_csrf()
    return RedirectResponse("/login", status_code=303)
