"""`yuqing serve`, `yuqing status`, `yuqing notify send`: the unattended service and a look at its health."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from yuqing.commands.common import CONFIG_OPTION, config_dir, get_config

if TYPE_CHECKING:
    from yuqing.config import Config
    from yuqing.service_status import ServiceStatus


def _local(cfg: Config, when: datetime | None) -> str:
    from yuqing.service import zone

    return when.astimezone(zone(cfg)).strftime("%m-%d %H:%M:%S") if when else "—"


def _status_table(cfg: Config, st: ServiceStatus, console: Console) -> None:
    from yuqing.service_status import STATUS_ZH

    head = f"监测服务:{'运行中(进程 ' + str(st.pid) + ')' if st.running else '未运行'}"
    period = f"当前敏感时段:{st.active_period}(全天候监测)" if st.active_period else "当前不在敏感时段"
    console.print(f"{head}    {period}    时间:{_local(cfg, st.now)}(北京时间)")
    table = Table(title="各来源运行情况")
    for col in ("来源", "名称", "采集频率", "上次开始", "上次结果", "新帖/帖子", "上次成功", "下次运行", "问题"):
        table.add_column(col)
    for s in st.sources:
        result = STATUS_ZH.get(s.last_status or "", s.last_status or "未运行")
        table.add_row(s.id, s.name, s.schedule, _local(cfg, s.last_started), result, f"{s.new_posts}/{s.posts}",
                      _local(cfg, s.last_ok), _local(cfg, s.next_run) if s.enabled else "—",
                      (s.problem or "") + (f"({s.last_message})" if s.problem and s.last_message else ""))
    console.print(table)
    out = Table(title="待发队列")
    for col in ("通道", "待发", "已到重试时间", "发送失败过", "最早一条"):
        out.add_column(col)
    for name, b in (("邮件", st.mail), ("检索索引", st.index)):
        out.add_row(name, str(b.pending), str(b.due), str(b.failed), _local(cfg, b.oldest_pending))
    console.print(out)
    if st.healthy:
        console.print("[green]状态正常。[/green]")
    else:
        console.print(f"[red]发现 {len(st.problems)} 项问题:[/red]")
        for p in st.problems:
            console.print(f"  · {p}")


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        config: Path | None = CONFIG_OPTION,
        host: str = typer.Option("127.0.0.1", "--host", help="网页端监听地址(对外请放在 HTTPS 反向代理之后)"),
        port: int = typer.Option(8000, "--port", help="网页端端口"),
        web: bool = typer.Option(True, "--web/--no-web", help="同时运行网页端(研判处置界面和 /healthz)"),
    ) -> None:
        """持续运行:按配置定时采集各来源、分析、预警、发邮件,并运行网页端。SIGTERM 或 Ctrl-C 安全停止。"""
        from yuqing.serve_main import exec_serve

        # The service process runs without the CLI (same pid, far less memory held for months): see
        # yuqing/serve_main.py. A bad configuration is reported there, as it would be here.
        exec_serve(config_dir(config).resolve(), host, port, web)

    @app.command("status")
    def status(
        config: Path | None = CONFIG_OPTION,
        as_json: bool = typer.Option(False, "--json", help="输出与 /healthz 相同的 JSON"),
    ) -> None:
        """查看监测服务状态:各来源上次运行、结果、下次运行,待发邮件与索引队列,敏感时段。服务停止时也可用。"""
        from alerting.store import Store
        from yuqing.service_status import collect_status

        cfg = get_config(config)
        store = Store.from_config(cfg)
        try:
            st = collect_status(cfg, store)
        finally:
            store.dispose()
        if as_json:
            typer.echo(json.dumps(st.as_json(), ensure_ascii=False, indent=2))
        else:
            # A table of nine columns needs room even when piped (rich assumes 80 columns then).
            _status_table(cfg, st, Console(width=max(Console().width, 160)))
        raise typer.Exit(0 if st.healthy else 1)

    notify = typer.Typer(help="通知:立即发送待发邮件等。", no_args_is_help=True)

    @notify.command("send")
    def send(config: Path | None = CONFIG_OPTION) -> None:
        """立即发送所有到期的待发邮件(服务运行时每分钟也会自动重试)。"""
        from alerting.notify.sender import deliver_pending
        from alerting.store import Store

        cfg = get_config(config)
        store = Store.from_config(cfg)
        try:
            report = deliver_pending(store, cfg)
        finally:
            store.dispose()
        typer.echo(f"已发送 {report.sent} 封,失败 {report.failed} 封,仍待发 {report.waiting} 封。")
        for err in report.errors[:5]:
            typer.echo(f"  错误: {err}", err=True)
        if report.failed:
            raise typer.Exit(1)

    app.add_typer(notify, name="notify")
