"""Request dependencies: who is logged in, which roles may pass, and the CSRF check of every form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from alerting.accounts import Actor
from yuqing.errors import PermissionDeniedError
from yuqing.model import Role
from yuqing.web.render import Renderer
from yuqing.web.security import csrf_ok


class LoginRequired(Exception):
    """No valid session: pages redirect to the login page."""


class CsrfFailed(Exception):
    """A POST without the session's CSRF token."""


def current_actor(request: Request) -> Actor:
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        raise LoginRequired()
    return actor


def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a template with the app's one renderer (autoescaped)."""
    renderer: Renderer = request.app.state.renderer
    return renderer.page(request, name, ctx, status)


def require(*roles: Role) -> Any:
    def dep(request: Request) -> Actor:
        actor = current_actor(request)
        if actor.role not in roles:
            raise PermissionDeniedError("当前账号无权访问此页面")
        return actor

    return dep


async def checked_form(request: Request) -> FormData:
    """The submitted form, after checking its CSRF token against the session's."""
    form = await request.form()
    token = form.get("csrf")
    if not csrf_ok(request.state.session.csrf, token if isinstance(token, str) else None):
        raise CsrfFailed()
    return form


def form_strings(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}


CurrentActor = Annotated[Actor, Depends(current_actor)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
LeaderOrAdmin = Annotated[Actor, Depends(require(Role.leader, Role.admin))]
StaffOnly = Annotated[Actor, Depends(require(Role.officer, Role.leader, Role.admin))]
AdminOnly = Annotated[Actor, Depends(require(Role.admin))]
