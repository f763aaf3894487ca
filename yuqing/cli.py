"""The `yuqing` command line: a thin edge. Each area registers its commands from yuqing/commands/."""

from __future__ import annotations

import importlib
import sys

import typer

from yuqing.errors import YuqingError

app = typer.Typer(
    name="yuqing",
    help="示例县教育局舆情监测系统:采集、分析、预警、研判处置。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines `register(app: typer.Typer) -> None`. Order is the order of `yuqing --help`.
COMMAND_MODULES = (
    "yuqing.commands.config_cmd",
    "yuqing.commands.demo_cmd",
    "yuqing.commands.analysis_cmd",
    "yuqing.commands.model_cmd",
    "yuqing.commands.crawl_cmd",
    "yuqing.commands.parse_cmd",
    "yuqing.commands.index_cmd",
    "yuqing.commands.queue_cmd",
    "yuqing.commands.service_cmd",
)

for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:
        if _exc.name != _name:
            raise
        continue  # an area whose commands have not landed yet
    _mod.register(app)


def main() -> None:
    try:
        app()
    except YuqingError as exc:
        typer.secho(f"错误: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
