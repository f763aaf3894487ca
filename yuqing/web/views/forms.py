"""The 登记表 page (filled in automatically, editable), its .docx/.xlsx export, and evidence copies."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from alerting import audit
from alerting.accounts import Actor
from alerting.queue import get_warning, post_in_scope
from alerting.reports.export import FORMATS, export_form
from alerting.reports.form import FIELD_KEYS, FIELDS, LONG_FIELDS, build_form, save_edits
from alerting.store.posts import evidence_body
from alerting.workflow import FormInvalid
from yuqing.errors import NotFoundError
from yuqing.web.deps import CheckedForm, CurrentActor, form_strings, render

router = APIRouter()


def _page(request: Request, actor: Actor, warning_id: int, errors: dict[str, str], submitted: dict[str, str],
          status: int = 200) -> Response:
    app = request.app
    with app.state.store.session() as s:
        w = get_warning(s, actor, warning_id)
        form = build_form(s, app.state.cfg, w, actor.name)
    values = {**form.values, **submitted}
    return render(request, "form.html", {
        "w": w, "form": form, "fields": FIELDS, "long": LONG_FIELDS, "values": values, "errors": errors,
        "saved": request.query_params.get("saved") == "1"}, status)


@router.get("/warnings/{warning_id}/form")
def form_page(request: Request, warning_id: int, actor: CurrentActor) -> Response:
    return _page(request, actor, warning_id, {}, {})


@router.post("/warnings/{warning_id}/form")
def form_save(request: Request, warning_id: int, actor: CurrentActor, form: CheckedForm) -> Response:
    submitted = {k: v for k, v in form_strings(form).items() if k in FIELD_KEYS}
    app = request.app
    try:
        with app.state.store.session() as s:
            w = get_warning(s, actor, warning_id)
            save_edits(s, app.state.cfg, w, actor.username, submitted, actor.name)
    except FormInvalid as exc:
        return _page(request, actor, warning_id, exc.errors, submitted, 400)
    return RedirectResponse(f"/warnings/{warning_id}/form?saved=1", status_code=303)


@router.get("/warnings/{warning_id}/export")
def form_export(request: Request, warning_id: int, actor: CurrentActor, format: str = "docx") -> Response:
    app = request.app
    with app.state.store.session() as s:
        data, name = export_form(s, app.state.cfg, actor, warning_id, format)
    return Response(data, media_type=FORMATS[format], headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"})


def _decode(body: bytes, content_type: str) -> str:
    """The declared charset when it decodes cleanly (GBK pages say so), else detection."""
    m = re.search(r"charset=([\w-]+)", content_type or "", re.I)
    if m:
        try:
            return body.decode(m.group(1))
        except (LookupError, UnicodeDecodeError):
            pass
    from charset_normalizer import from_bytes  # only for an undeclared charset; not held from start

    best = from_bytes(body).best()
    return str(best) if best is not None else body.decode("utf-8", "replace")


@router.get("/posts/{post_id}/evidence")
def evidence(request: Request, post_id: str, actor: CurrentActor) -> Response:
    """The raw page we saved, as plain text in a sandbox: readable, never rendered or executed."""
    with request.app.state.store.session() as s:
        post = post_in_scope(s, actor, post_id)
        found = evidence_body(s, post.raw_sha256) if post.raw_sha256 else None
        if found is None:
            raise NotFoundError(f"帖子 {post_id} 没有保存证据原文")
        row, body = found
        audit.record(s, actor.username, "view_evidence", details={"post_id": post_id, "sha256": row.sha256,
                                                                  "url": row.url})
    text = _decode(body, row.content_type)
    header = (f"证据原文 SHA-256: {row.sha256}\n原始地址: {row.url}\n"
              f"抓取时间(UTC): {row.fetched_at:%Y-%m-%d %H:%M:%S}\n"
              f"HTTP 状态: {row.status}  类型: {row.content_type}\n{'=' * 60}\n")
    return Response(header + text, media_type="text/plain; charset=utf-8", headers={
        "Content-Security-Policy": "sandbox; default-src 'none'", "X-Content-Type-Options": "nosniff"})
