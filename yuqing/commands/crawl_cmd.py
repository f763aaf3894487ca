"""`yuqing crawl [SOURCE_ID...] [--all]`: crawl sources now and print how each went."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from yuqing.commands.common import CONFIG_OPTION, config_dir, get_config
from yuqing.errors import InputError

STATUS_ZH = {"ok": "正常", "degraded": "异常(疑似改版)", "failed": "失败", "blocked": "被拦截",
             "login_expired": "登录失效", "killed": "超时终止", "interrupted": "已中断(服务停止)"}
STATUS_STYLE = {"ok": "green", "degraded": "yellow", "failed": "red", "blocked": "red", "login_expired": "red",
                "killed": "red", "interrupted": "yellow"}


def register(app: typer.Typer) -> None:
    @app.command("crawl")
    def crawl(
        sources: Annotated[list[str] | None, typer.Argument(help="要采集的来源编号(可多个)")] = None,
        all_sources: bool = typer.Option(False, "--all", help="采集所有已启用的来源"),
        timeout: float = typer.Option(1800, "--timeout", help="每个来源的时限(秒),超时即终止"),
        parallel: int = typer.Option(3, "--parallel", min=1, max=8, help="同时采集的来源数"),
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """立即采集指定来源(或 --all 全部已启用来源),并打印每个来源的结果。"""
        from crawler.runner import crawl_sources

        cfg = get_config(config)
        if not sources and not all_sources:
            raise InputError("请指定来源编号,或使用 --all 采集全部已启用来源")
        known = {s.id for s in cfg.sources}
        unknown = [s for s in sources or [] if s not in known]
        if unknown:
            raise InputError(f"未知的来源编号: {', '.join(unknown)}(已配置: {', '.join(sorted(known))})")
        console = Console()
        console.print(f"正在采集 {len(sources) if sources else len([s for s in cfg.sources if s.enabled])} 个来源……")
        results = crawl_sources(
            cfg, config_dir(config), list(sources) if sources else None, timeout_s=timeout, parallel=parallel,
            on_done=lambda r: console.print(f"  {r.source_id}: {STATUS_ZH.get(r.status, r.status)}"),
        )
        table = Table(title="采集结果")
        for col in ("来源", "状态", "页面", "帖子", "新增", "错误", "耗时(秒)", "说明"):
            table.add_column(col, overflow="fold")
        for r in results:
            style = STATUS_STYLE.get(r.status, "")
            table.add_row(r.source_id, f"[{style}]{STATUS_ZH.get(r.status, r.status)}[/]", str(r.pages), str(r.posts),
                          str(r.new_posts), str(r.errors), f"{r.duration_s:.1f}", r.message)
        console.print(table)
        bad = [r for r in results if r.status != "ok"]
        if bad:
            console.print(f"{len(bad)} 个来源未正常完成,详情见上表和采集日志 {cfg.data_dir / 'logs' / 'crawl'}")
            raise typer.Exit(1)
