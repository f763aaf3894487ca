"""`yuqing analyze`: JSON Lines of posts on stdin, one analysis per line on stdout (design.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from yuqing.commands.common import CONFIG_OPTION, get_config
from yuqing.errors import InputError

MODEL_OPTION = typer.Option(None, "--model", help="模型文件(默认: 随项目发布的已训练模型)")
NO_EVENTS_OPTION = typer.Option(False, "--no-events", help="不做事件归并(event_id 为空)")

def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze(
        model: Path | None = MODEL_OPTION,
        no_events: bool = NO_EVENTS_OPTION,
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """从标准输入读取 JSON Lines 格式的帖子,每行输出一条分析结果(顺序与 id 不变)。

        必填字段 id、content;可选 url、site、source、title、author、published_at、metrics。
        格式错误的行在标准错误输出中按行号报告并跳过,其余行照常输出;有错误行时退出码为 1。
        """
        from analysis.analyzer import Analyzer
        from analysis.stream import analyze_lines

        cfg = get_config(config)
        try:
            analyzer = Analyzer.from_config(cfg, model_path=model)
        except FileNotFoundError as exc:
            raise InputError(f"找不到模型文件: {exc}") from None
        bad = 0
        for result in analyze_lines(analyzer, sys.stdin, group_events=not no_events):
            if result.error is not None:
                bad += 1
                typer.echo(f"第 {result.line} 行: {result.error}", err=True)
            else:
                sys.stdout.write(json.dumps(result.output, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        if bad:
            typer.secho(f"共 {bad} 行有错误,已跳过。", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
