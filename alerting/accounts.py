"""User accounts: argon2id password hashes, roles, and the school scope of monitors.

Monitors see only the schools whose ``monitors`` list in schools.yaml names them, so the scope
follows the configuration; ``UserRow.schools`` keeps extra schools given by ``yuqing user add``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import audit
from alerting.store.tables import UserRow
from yuqing.config import Config
from yuqing.errors import InputError, NotFoundError
from yuqing.model import Role, utcnow

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 8

ROLE_LABELS: dict[Role, str] = {
    Role.admin: "系统管理员",
    Role.leader: "领导组",
    Role.officer: "工作组",
    Role.monitor: "监测员",
}

# Demo passwords, one per role; printed by `yuqing demo` and listed in the README. Never used
# outside the demo: ensure_demo_users is only called by the demo.
DEMO_PASSWORDS: dict[Role, str] = {
    Role.admin: "demo-admin-2026",
    Role.leader: "demo-leader-2026",
    Role.officer: "demo-officer-2026",
    Role.monitor: "demo-monitor-2026",
}

# argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane) rather than the library's default
# (64 MiB, 3 passes, 4 lanes): every login and password change runs in the long-lived service process, and
# 64 MB for each one, beside a Chromium crawl, would take the service past its 500 MB budget (issue 7).
# Hashes made with other parameters still verify, and are re-hashed at the next login (check_needs_rehash).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so that a wrong user name costs as long as a wrong password.

    Made on first use, not at import: a hash takes argon2's memory (19 MB) for a moment, and every process
    that imports this module (the service, its analysis worker, one-shot commands) paid it on start.
    """
    return _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user (web), or an operator at the command line."""

    username: str
    role: Role
    schools: frozenset[str] = frozenset()
    display_name: str = ""

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def sees_all(self) -> bool:
        return self.role is not Role.monitor

    def may_see(self, schools: list[str] | tuple[str, ...]) -> bool:
        """Monitors see a warning only when it touches one of their schools."""
        return self.sees_all or bool(self.schools.intersection(schools))


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"密码至少需要 {MIN_PASSWORD} 个字符", "password")
    if password.strip() != password or not password.strip():
        raise InputError("密码首尾不能有空格", "password")


def monitor_schools(cfg: Config, username: str) -> list[str]:
    """School ids whose ``monitors`` name this user in schools.yaml."""
    return [s.id for s in cfg.schools if username in s.monitors]


def actor_for(cfg: Config, row: UserRow) -> Actor:
    role = Role(row.role)
    schools = set(row.schools or [])
    if role is Role.monitor:
        schools.update(monitor_schools(cfg, row.username))
    return Actor(row.username, role, frozenset(schools), row.display_name)


def _validate(cfg: Config, username: str, role: str, schools: list[str]) -> Role:
    if not USERNAME_RE.match(username):
        raise InputError("用户名只能包含字母、数字、下划线、点和短横线(2–64 个字符)", "username")
    try:
        r = Role(role)
    except ValueError:
        raise InputError(f"未知角色 {role!r},可选: {', '.join(x.value for x in Role)}", "role") from None
    known = {s.id for s in cfg.schools}
    unknown = [s for s in schools if s not in known]
    if unknown:
        raise InputError(f"配置中没有这些学校: {', '.join(unknown)}", "schools")
    return r


def add_user(
    session: Session, cfg: Config, username: str, role: str, password: str, *,
    schools: list[str] | None = None, display_name: str = "", email: str = "", by: str | None = None,
) -> UserRow:
    """Create an account; refuses a taken user name. ``by``: who did it, for the audit log."""
    r = _validate(cfg, username, role, schools or [])
    if session.get(UserRow, username) is not None:
        raise InputError(f"用户 {username} 已存在(修改密码请用 yuqing user passwd)", "username")
    row = UserRow(
        username=username, display_name=display_name or username, role=r.value,
        password_hash=hash_password(password), email=email, schools=list(schools or []), active=True,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    if by:
        audit.record(session, by, "user_add", details={"username": username, "role": r.value,
                                                        "schools": list(schools or [])})
    return row


def set_password(session: Session, username: str, password: str, by: str | None = None) -> None:
    row = session.get(UserRow, username)
    if row is None:
        raise NotFoundError(f"用户 {username} 不存在")
    row.password_hash = hash_password(password)
    if by:
        audit.record(session, by, "user_passwd", details={"username": username})


def set_active(session: Session, username: str, active: bool, by: str | None = None) -> None:
    """Disable an account (someone left the working group) or enable it again; sessions end at once."""
    row = session.get(UserRow, username)
    if row is None:
        raise NotFoundError(f"用户 {username} 不存在")
    if not active and by == username:
        raise InputError("不能停用自己正在使用的账号", "username")
    if by:
        audit.record(session, by, "user_enable" if active else "user_disable", details={"username": username})
    row.active = active


def authenticate(session: Session, username: str, password: str) -> UserRow | None:
    """The active user whose password matches, else None (same cost either way)."""
    row = session.get(UserRow, username)
    if row is None or not row.active:
        try:
            _hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return row


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.role, UserRow.username)))


def ensure_demo_users(session: Session, cfg: Config) -> dict[str, str]:
    """Create the accounts named in ``cfg.alerts.users`` with the demo password of their role.

    Returns username → password for every account whose demo password works (a user who changed
    it is left alone and not listed). Idempotent.
    """
    out: dict[str, str] = {}
    for role, names in cfg.alerts.users.items():
        password = DEMO_PASSWORDS[Role(role)]
        for name in names:
            row = session.get(UserRow, name)
            if row is None:
                # A snapshot of schools.yaml for readers of the table; the live scope is actor_for().
                schools = monitor_schools(cfg, name) if Role(role) is Role.monitor else []
                add_user(session, cfg, name, Role(role).value, password, schools=schools,
                         display_name=_demo_display(name))
                out[name] = password
            elif authenticate(session, name, password) is not None:
                out[name] = password
    return out


_SURNAMES = {"zhang": "张", "chen": "陈", "liu": "刘", "wang": "王", "li": "李", "zhao": "赵"}
_ROLE_TITLES = {"leader": "组长", "officer": "干事", "monitor": "监测员"}


def _demo_display(username: str) -> str:
    """`officer_chen` → 陈干事: readable names for the demo's audit log and forms."""
    role, _, surname = username.partition("_")
    if surname in _SURNAMES and role in _ROLE_TITLES:
        return _SURNAMES[surname] + _ROLE_TITLES[role]
    return "管理员" if username == "admin" else username
