"""`yuqing index status|rebuild|replay`, `yuqing search`, `yuqing kibana export|import`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress

from yuqing.commands.common import CONFIG_OPTION, get_config
from yuqing.config import Config

console = Console()
DEFAULT_NDJSON = Path("kibana-saved-objects.ndjson")


def _open(cfg: Config, tolerate_down: bool = False) -> tuple[Any, Any]:
    """The store and the configured index, with the analysis area's segmenter when present.
    ``tolerate_down``: an unreachable index is reported by the command, not raised here."""
    from alerting.index import open_index_from_config
    from alerting.store import Store

    tokenize = None
    try:
        from analysis.segment import Segmenter  # type: ignore[import-not-found]

        tokenize = Segmenter.from_config(cfg).cut
    except ImportError:
        pass  # alerting.index.tokens.WordCutter, the same jieba words
    from alerting.index import IndexUnavailable

    index = open_index_from_config(cfg, tokenize=tokenize)
    try:
        index.ensure()
    except IndexUnavailable:
        if not tolerate_down:
            raise
    return Store.from_config(cfg), index


def register(app: typer.Typer) -> None:
    index_app = typer.Typer(help="搜索索引(SQLite FTS5 或 Elasticsearch)", no_args_is_help=True)
    kibana_app = typer.Typer(help="Kibana 已保存对象(数据视图、已保存搜索、仪表板)", no_args_is_help=True)

    @index_app.command("status")
    def status_cmd(config: Path | None = CONFIG_OPTION) -> None:
        """显示索引中的文档数、数据库中的帖子数和待写入索引的积压。"""
        from alerting.index.service import status

        st = status(*_open(get_config(config), tolerate_down=True))
        from yuqing.commands.index_render import print_status

        print_status(console, st)

    @index_app.command("rebuild")
    def rebuild_cmd(config: Path | None = CONFIG_OPTION,
                    yes: bool = typer.Option(False, "--yes", "-y", help="不再确认")) -> None:
        """删除索引并从数据库重建全部文档。"""
        from alerting.index.service import rebuild

        store, index = _open(get_config(config))
        if not yes:
            typer.confirm(f"将删除并重建索引 {index.url},继续吗?", abort=True)
        with Progress(console=console) as bar:
            task = bar.add_task("重建索引", total=None)
            report = rebuild(store, index, progress=lambda done, total: bar.update(task, completed=done, total=total))
        console.print(f"已写入 {report.indexed} 条文档,失败 {len(report.failed)} 条;"
                      f"积压队列已清理 {report.outbox_delivered} 条。")
        for f in report.failed[:20]:
            console.print(f"  [red]{f.id}[/red]: {f.reason}")

    @index_app.command("replay")
    def replay_cmd(config: Path | None = CONFIG_OPTION,
                   force: bool = typer.Option(False, "--force", help="不等待退避时间,立即重试")) -> None:
        """把积压队列(outbox)中待写入的文档和状态变更送入索引。"""
        from alerting.index.outbox import replay

        r = replay(*_open(get_config(config), tolerate_down=True), limit=10**9, force=force)
        console.print(f"已送达 {r.delivered} 条,写入 {r.documents} 个文档,"
                      f"被拒 {len(r.failed)} 条,仍在等待 {r.waiting} 条。")
        if r.unavailable:
            console.print(f"[yellow]索引暂时不可用,稍后自动重试:{r.error}[/yellow]")
            raise typer.Exit(3)

    @app.command("search")
    def search_cmd(
        query: Annotated[str, typer.Argument(help='检索式:词之间为“且”,OR 表示“或”,-词 排除,"短语"')] = "",
        school: Annotated[list[str] | None, typer.Option("--school", help="学校 id(可重复)")] = None,
        category: Annotated[list[str] | None, typer.Option("--category", help="类别,如 inquiry、incident")] = None,
        severity: Annotated[list[str] | None, typer.Option("--severity", help="级别:IV/III/II/I")] = None,
        status: Annotated[list[str] | None, typer.Option("--status", help="预警状态,如 new;无预警为 none")] = None,
        site: Annotated[list[str] | None, typer.Option("--site", help="站点域名")] = None,
        since: Annotated[str | None, typer.Option("--since", help="起始日期,如 2026-03-01")] = None,
        until: Annotated[str | None, typer.Option("--until", help="截止日期(含当天)")] = None,
        sort: Annotated[str, typer.Option("--sort", help="relevance/newest/oldest/sensitivity")] = "relevance",
        page: Annotated[int, typer.Option("--page", help="页码")] = 1,
        size: Annotated[int, typer.Option("--size", help="每页条数")] = 20,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """全文检索帖子,并按天、学校、类别、级别统计。"""
        from alerting.index.service import build_query
        from yuqing.commands.index_render import print_result

        cfg = get_config(config)
        q = build_query(query, schools=school or [], categories=category or [], severities=severity or [],
                        statuses=status or [], sites=site or [], since=since, until=until, sort=sort, page=page,
                        size=size, aggregations=["day", "school", "category", "severity"], tz=cfg.timezone)
        print_result(console, cfg, q, _open(cfg)[1].search(q), as_json)

    @kibana_app.command("export")
    def kibana_export(out: Annotated[Path, typer.Option("--out", help="输出文件")] = DEFAULT_NDJSON,
                      config: Path | None = CONFIG_OPTION) -> None:
        """导出 Kibana 已保存对象(NDJSON),可在 Kibana 的“已保存对象”页面导入。"""
        from alerting.index.kibana import export_ndjson

        count = export_ndjson(get_config(config), out)
        console.print(f"已写入 {count} 个已保存对象到 {out}")

    @kibana_app.command("import")
    def kibana_import(url: str = typer.Option(..., "--url", help="Kibana 地址,如 https://kibana.example:5601"),
                      api_key_env: str = typer.Option("KIBANA_API_KEY", "--api-key-env",
                                                      help="存放 Kibana API key 的环境变量名(未设置则不认证)"),
                      space: str = typer.Option("", "--space", help="Kibana 空间 id(默认空间留空)"),
                      config: Path | None = CONFIG_OPTION) -> None:
        """把已保存对象导入 Kibana(覆盖同 id 的对象)。"""
        from alerting.index.kibana import import_to_kibana

        result = import_to_kibana(get_config(config), url, api_key=os.environ.get(api_key_env) or None, space=space)
        console.print(f"Kibana 已导入 {result.imported} 个对象。")

    app.add_typer(index_app, name="index")
    app.add_typer(kibana_app, name="kibana")
