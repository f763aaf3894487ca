"""`yuqing config check`."""

from __future__ import annotations

from pathlib import Path

import typer

from yuqing.commands.common import CONFIG_OPTION, config_dir
from yuqing.config import load_config
from yuqing.errors import ConfigError


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="配置文件检查", no_args_is_help=True)

    @group.command("check")
    def check(config: Path | None = CONFIG_OPTION) -> None:
        """检查配置目录中的所有 YAML 文件,列出每个问题(文件:行号)。"""
        root = config_dir(config)
        try:
            cfg = load_config(root)
        except ConfigError as exc:
            for p in exc.problems:
                typer.echo(str(p), err=True)
            typer.secho(f"配置有 {len(exc.problems)} 个问题。", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        typer.echo(
            f"配置正确: {cfg.county.name},{len(cfg.schools)} 所学校,{len(cfg.sources)} 个来源,"
            f"{len(cfg.topics)} 个专题。"
        )

    @group.command("reference")
    def reference() -> None:
        """打印配置项说明(Markdown,即 docs/configuration.md)。"""
        from yuqing.config_reference import render_reference

        typer.echo(render_reference(), nl=False)

    app.add_typer(group, name="config")
