"""`yuqing demo` and `yuqing run --once`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from yuqing.commands.common import CONFIG_OPTION, config_dir, get_config
from yuqing.model import CATEGORY_LABELS, SEVERITY_LABELS, Category, Severity


def _summary_table(summary: object, console: Console) -> None:
    from yuqing.cycle import CycleSummary

    assert isinstance(summary, CycleSummary)
    posts = Table(title="各来源采集情况")
    for col in ("来源", "名称", "本次状态", "本次新帖", "累计帖子"):
        posts.add_column(col)
    for sid, (name, total, new, status) in summary.posts_by_source.items():
        posts.add_row(sid, name, status, str(new), str(total))
    console.print(posts)
    warn = Table(title=f"预警(共 {summary.warnings_total} 条)")
    warn.add_column("舆情类别")
    warn.add_column("数量")
    for cat in Category:
        if summary.warnings_by_category.get(cat.value):
            warn.add_row(CATEGORY_LABELS[cat], str(summary.warnings_by_category[cat.value]))
    for sev in Severity:
        if summary.warnings_by_severity.get(sev.value):
            warn.add_row(f"等级 {SEVERITY_LABELS[sev]}", str(summary.warnings_by_severity[sev.value]))
    console.print(warn)
    p = summary.pipeline
    if p is not None:
        console.print(f"本次分析 {p.analysed} 条,涉及本县学校 {p.relevant} 条,敏感 {p.sensitive} 条,"
                      f"新事件 {p.new_events} 个。")
    console.print(
        f"本次发送邮件 {summary.mails_sent_now} 封(累计 {summary.mails_total} 封,待发 {summary.mails_waiting} 封)"
    )
    console.print(f"数据库: {summary.database}")
    console.print(f"检索索引: {summary.index_url}")
    console.print(f"邮件目录: {summary.mail_dir}")
    console.print("耗时: " + ",".join(f"{k} {v:.1f} 秒" for k, v in summary.timings.items()))


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        config: Path | None = CONFIG_OPTION,
        serve: bool = typer.Option(False, "--serve", help="完成后继续运行网页端,供浏览器演示"),
        port: int = typer.Option(8000, "--port", help="网页端端口(与 --serve 一起使用)"),
    ) -> None:
        """离线演示:启动演示网站和本地邮件服务,完整运行一轮采集、分析、预警、发邮件。"""
        from yuqing.cycle import run_cycle
        from yuqing.demo.run import demo_environment, ensure_accounts, serve_ui

        console = Console()
        root = config_dir(config)
        with demo_environment(root, console.print) as (cfg, _sites, _sink):
            summary = run_cycle(cfg, root, console.print)
            summary.accounts = ensure_accounts(cfg)
            _summary_table(summary, console)
            if summary.accounts:
                console.print("演示账号: " + ",".join(f"{u} / {pw}" for u, pw in summary.accounts.items()))
            if serve:
                serve_ui(cfg, port, console.print)

    @app.command("run")
    def run(
        config: Path | None = CONFIG_OPTION,
        once: bool = typer.Option(True, "--once/--no-once", help="运行一轮后退出(持续运行请用 yuqing serve)"),
    ) -> None:
        """运行一轮:采集所有已启用来源 → 分析 → 预警 → 发送邮件。"""
        from yuqing.cycle import run_cycle

        console = Console()
        cfg = get_config(config)
        summary = run_cycle(cfg, config_dir(config), console.print)
        _summary_table(summary, console)
