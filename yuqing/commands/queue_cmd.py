"""`yuqing queue`, `yuqing user …`, `yuqing report form|period`, `yuqing web`."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from yuqing.commands.common import CONFIG_OPTION, get_config
from yuqing.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from yuqing.config import Config

SCHOOLS_OPTION = typer.Option([], "--schools", help="监测员负责的学校 id(可多次给出)")
OUT_OPTION = typer.Option(..., "--out", help="输出文件路径")
CLI_ACTOR = "cli"  # audit name of whoever runs the command line (an operator with shell access)


@contextmanager
def _session(config: Path | None) -> Iterator[tuple[Config, Session]]:
    """The configuration and one unit of work on its database (committed at the end)."""
    from alerting.store import Store

    cfg = get_config(config)
    store = Store.from_config(cfg)
    try:
        with store.session() as s:
            yield cfg, s
    finally:
        store.dispose()


def _password() -> str:
    first = getpass.getpass("密码: ")
    if getpass.getpass("再次输入密码: ") != first:
        raise InputError("两次输入的密码不一致", "password")
    return first


def _write(out: Path, data: bytes, what: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    typer.echo(f"已导出{what}: {out}({len(data)} 字节)")


def _set_active(config: Path | None, username: str, active: bool) -> None:
    from alerting.accounts import set_active

    with _session(config) as (_cfg, s):
        set_active(s, username, active, by=CLI_ACTOR)
    typer.echo(f"已{'启用' if active else '停用'}账号 {username}。")


def register(app: typer.Typer) -> None:
    @app.command("queue")
    def queue(
        config: Path | None = CONFIG_OPTION,
        status: str = typer.Option("open", help="状态: open(未办结)、new、triaged……或空字符串表示全部"),
        category: str = typer.Option("", help="类别: inquiry/incident/fabrication/suggestion/none"),
        severity: str = typer.Option("", help="等级: IV/III/II/I"),
        school: str = typer.Option("", help="学校 id"),
        overdue: bool = typer.Option(False, "--overdue", help="只看已超时的预警"),
    ) -> None:
        """按紧急程度列出预警队列(与网页端相同的排序和筛选)。"""
        from alerting.accounts import Actor
        from alerting.queue import QueueFilter, list_queue
        from yuqing.model import CATEGORY_LABELS, STATE_LABELS, Category, Role, WarningState
        from yuqing.web.render import duration_zh

        with _session(config) as (cfg, s):
            items = list_queue(s, cfg, Actor(CLI_ACTOR, Role.admin), QueueFilter(
                status=status, category=category, severity=severity, school=school, overdue=overdue))
            table = Table(title=f"预警队列(共 {len(items)} 条,按紧急程度排序)")
            for col in ("编号", "等级", "类别", "状态", "标题", "学校", "时限"):
                table.add_column(col)
            for it in items:
                w = it.warning
                left = ("[red]已超时 " if it.overdue else "剩余 ") + duration_zh(it.seconds_left)
                table.add_row(str(w.id), w.severity, CATEGORY_LABELS.get(Category(w.category), w.category),
                              STATE_LABELS[WarningState(w.status)], w.title[:40], "、".join(it.school_names), left)
        Console().print(table)

    user = typer.Typer(help="账号管理", no_args_is_help=True)

    @user.command("add")
    def user_add(
        username: str,
        role: str = typer.Option(..., "--role", help="角色: admin / leader / officer / monitor"),
        schools: list[str] = SCHOOLS_OPTION,
        display_name: str = typer.Option("", "--name", help="显示名,如 陈干事"),
        email: str = typer.Option("", "--email", help="邮箱"),
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """新建账号(密码在终端中输入,不回显)。"""
        from alerting.accounts import add_user, monitor_schools

        get_config(config)  # a bad configuration is reported before asking for a password
        password = _password()
        with _session(config) as (cfg, s):
            add_user(s, cfg, username, role, password, schools=schools, display_name=display_name, email=email,
                     by=CLI_ACTOR)
        scope = sorted(set(schools) | set(monitor_schools(cfg, username)))
        typer.echo(f"已创建账号 {username}(角色 {role})"
                   + (f",负责学校: {'、'.join(scope) or '无'}" if role == "monitor" else "") + "。")

    @user.command("passwd")
    def user_passwd(username: str, config: Path | None = CONFIG_OPTION) -> None:
        """修改账号密码(该账号已登录的会话随之失效)。"""
        from alerting.accounts import set_password

        get_config(config)  # a bad configuration is reported before asking for a password
        password = _password()
        with _session(config) as (_cfg, s):
            set_password(s, username, password, by=CLI_ACTOR)
        typer.echo(f"已修改 {username} 的密码。")

    @user.command("list")
    def user_list(config: Path | None = CONFIG_OPTION) -> None:
        """列出所有账号、角色和负责的学校。"""
        from alerting.accounts import ROLE_LABELS, actor_for, list_users
        from yuqing.model import Role

        table = Table(title="账号")
        for col in ("用户名", "显示名", "角色", "状态", "负责学校"):
            table.add_column(col)
        with _session(config) as (cfg, s):
            for row in list_users(s):
                actor = actor_for(cfg, row)
                schools = "、".join(cfg.school(i).name for i in sorted(actor.schools)) \
                    if actor.role is Role.monitor else "全部"
                table.add_row(row.username, row.display_name, ROLE_LABELS[actor.role],
                              "启用" if row.active else "停用", schools)
        Console().print(table)

    @user.command("disable")
    def user_disable(username: str, config: Path | None = CONFIG_OPTION) -> None:
        """停用账号(人员调离时),其已登录的会话立即失效。"""
        _set_active(config, username, False)

    @user.command("enable")
    def user_enable(username: str, config: Path | None = CONFIG_OPTION) -> None:
        """重新启用账号。"""
        _set_active(config, username, True)

    app.add_typer(user, name="user")

    report = typer.Typer(help="登记表与舆情报告", no_args_is_help=True)

    @report.command("form")
    def report_form(
        warning_id: int,
        fmt: str = typer.Option("docx", "--format", help="docx 或 xlsx"),
        out: Path = OUT_OPTION,
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """导出一条预警的舆情登记表(Word 或 Excel),并记入审计日志。"""
        from alerting.accounts import Actor
        from alerting.reports.export import export_form
        from yuqing.model import Role

        with _session(config) as (cfg, s):
            data, _ = export_form(s, cfg, Actor(CLI_ACTOR, Role.admin, display_name="命令行"), warning_id, fmt)
        _write(out, data, f"预警 {warning_id} 的登记表")

    @report.command("period")
    def report_period(
        since: str = typer.Option(..., "--since", help="起始日期,如 2026-11-17"),
        until: str = typer.Option("", "--until", help="截止日期(含当天),默认与起始日期相同(日报)"),
        out: Path = OUT_OPTION,
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """导出一段时间的舆情报告(日报/周报,Word),并记入审计日志。"""
        from alerting.reports.period import export_period, parse_day

        with _session(config) as (cfg, s):
            data, _ = export_period(s, cfg, CLI_ACTOR, parse_day(since, "since"), parse_day(until or since, "until"))
        _write(out, data, "舆情报告")

    app.add_typer(report, name="report")

    @app.command("web")
    def web(
        config: Path | None = CONFIG_OPTION,
        host: str = typer.Option("127.0.0.1", "--host", help="监听地址(对外服务请放在 HTTPS 反向代理之后)"),
        port: int = typer.Option(8000, "--port", help="端口"),
    ) -> None:
        """只运行网页端(研判处置界面),不运行采集调度。"""
        import uvicorn

        from alerting.store import Store
        from yuqing.web.app import create_app

        cfg = get_config(config)
        store = Store.from_config(cfg)
        typer.echo(f"网页端: http://{host}:{port}/  (按 Ctrl-C 结束)")
        uvicorn.run(create_app(cfg, store), host=host, port=port, log_level="warning", proxy_headers=True)
