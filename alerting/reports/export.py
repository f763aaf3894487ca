"""Export one warning's 登记表 to .docx or .xlsx, audited (who exported what, when)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from alerting import audit
from alerting.accounts import Actor
from alerting.queue import get_warning
from alerting.reports.form import build_form
from yuqing.config import Config
from yuqing.errors import InputError

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_form(session: Session, cfg: Config, actor: Actor, warning_id: int, fmt: str) -> tuple[bytes, str]:
    """The file's bytes and its download name (ASCII-safe name beside the Chinese one)."""
    if fmt not in FORMATS:
        raise InputError(f"不支持的格式 {fmt!r},可选 docx 或 xlsx", "format")
    w = get_warning(session, actor, warning_id)
    form = build_form(session, cfg, w, actor.name)
    # python-docx and openpyxl (with NumPy) are imported on the first export, not with the web UI: about
    # 20 MB that the long-running service would otherwise hold from start (docs/deployment.md, Memory).
    if fmt == "docx":
        from alerting.reports.docx_form import render_docx as render
    else:
        from alerting.reports.xlsx_form import render_xlsx as render
    data = render(form, cfg.county.name)
    audit.record(session, actor.username, "export_form", warning_id=w.id, from_state=w.status, to_state=w.status,
                 details={"format": fmt, "bytes": len(data)})
    return data, f"{form.values['number']}.{fmt}"
