"""Account administration for admins: add accounts, reset passwords, disable and enable (all audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from alerting.accounts import ROLE_LABELS, actor_for, add_user, list_users, set_active, set_password
from yuqing.errors import InputError
from yuqing.web.deps import AdminOnly, CheckedForm, render

router = APIRouter()


def _page(request: Request, errors: dict[str, str], values: dict[str, Any], status: int = 200) -> Response:
    cfg = request.app.state.cfg
    with request.app.state.store.session() as s:
        users = [(u, actor_for(cfg, u)) for u in list_users(s)]
    return render(request, "users.html", {"users": users, "roles": ROLE_LABELS, "errors": errors, "values": values,
                                          "done": request.query_params.get("done", "")}, status)


@router.get("/admin/users")
def users_page(request: Request, actor: AdminOnly) -> Response:
    return _page(request, {}, {})


@router.post("/admin/users")
def user_add(request: Request, actor: AdminOnly, form: CheckedForm) -> Response:
    values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in ("username", "display_name", "role", "email")}
    values["schools"] = [v for v in form.getlist("schools") if isinstance(v, str)]
    password = str(form.get("password") or "")
    try:
        if password != str(form.get("password2") or ""):
            raise InputError("两次输入的密码不一致", "password")
        with request.app.state.store.session() as s:
            add_user(s, request.app.state.cfg, values["username"], values["role"], password,
                     schools=values["schools"], display_name=values["display_name"], email=values["email"],
                     by=actor.username)
    except InputError as exc:
        return _page(request, {exc.where or "username": str(exc).removeprefix(f"{exc.where}: ")}, values, 400)
    return RedirectResponse(f"/admin/users?done=添加账号 {values['username']}", status_code=303)


@router.post("/admin/users/{username}/password")
def user_password(request: Request, username: str, actor: AdminOnly, form: CheckedForm) -> Response:
    try:
        with request.app.state.store.session() as s:
            set_password(s, username, str(form.get("password") or ""), by=actor.username)
    except InputError as exc:
        return _page(request, {f"pw-{username}": str(exc).removeprefix(f"{exc.where}: ")}, {}, 400)
    return RedirectResponse(f"/admin/users?done=重设 {username} 的密码", status_code=303)


@router.post("/admin/users/{username}/active")
def user_active(request: Request, username: str, actor: AdminOnly, form: CheckedForm) -> Response:
    active = form.get("active") == "1"
    try:
        with request.app.state.store.session() as s:
            set_active(s, username, active, by=actor.username)
    except InputError as exc:
        return _page(request, {f"active-{username}": str(exc).removeprefix(f"{exc.where}: ")}, {}, 400)
    return RedirectResponse(f"/admin/users?done={'启用' if active else '停用'} {username}", status_code=303)
