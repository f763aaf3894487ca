"""The audit log: one row per thing a person did (transitions, edits, exports, evidence views)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.store.tables import AuditRow
from yuqing.model import utcnow

ACTION_LABELS: dict[str, str] = {
    "confirm": "确认预警",
    "dismiss": "排除误报",
    "assign": "指派",
    "report": "上报",
    "handle": "处置措施",
    "draft_response": "拟写回复",
    "approve_response": "审核回复",
    "track": "开始跟踪",
    "track_note": "跟踪记录",
    "close": "办结",
    "reopen": "重新打开",
    "note": "备注",
    "edit_form": "修改登记表",
    "export_form": "导出登记表",
    "export_period": "导出舆情报告",
    "view_evidence": "查看证据原文",
    "user_add": "新建账号",
    "user_passwd": "重设密码",
    "user_disable": "停用账号",
    "user_enable": "启用账号",
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    # the system's own steps (actor "system")
    "raise": "生成预警",
    "re_alert": "事态升级再次提醒",
    "escalated": "逾期/未确认,提醒下一值班人",
    "source_recovered": "来源恢复正常",
}


def record(
    session: Session, actor: str, action: str, *, warning_id: int | None = None, from_state: str | None = None,
    to_state: str | None = None, reason: str = "", details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditRow:
    row = AuditRow(
        at=at or utcnow(), actor=actor, action=action, warning_id=warning_id, from_state=from_state,
        to_state=to_state, reason=reason, details=details or {},
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    warning_id: int | None = None
    page: int = 1
    size: int = 50


def entries(session: Session, f: AuditFilter) -> tuple[list[AuditRow], int]:
    """Newest first, with the total for paging."""
    stmt = select(AuditRow)
    if f.actor:
        stmt = stmt.where(AuditRow.actor == f.actor)
    if f.action:
        stmt = stmt.where(AuditRow.action == f.action)
    if f.warning_id is not None:
        stmt = stmt.where(AuditRow.warning_id == f.warning_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(AuditRow.at.desc(), AuditRow.id.desc()).offset((max(f.page, 1) - 1) * f.size).limit(f.size)
    )
    return list(rows), int(total)


def history(session: Session, warning_id: int) -> list[AuditRow]:
    """A warning's own story, oldest first."""
    return list(
        session.scalars(
            select(AuditRow).where(AuditRow.warning_id == warning_id).order_by(AuditRow.at, AuditRow.id)
        )
    )
