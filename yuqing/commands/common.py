"""Helpers every command module shares: the --config option and loading it with a clean error."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from yuqing.config import Config, load_config

CONFIG_OPTION = typer.Option(
    None, "--config", "-c", help="配置目录(默认: 环境变量 YUQING_CONFIG 或 ./config)"
)


def config_dir(path: Path | None) -> Path:
    return path or Path(os.environ.get("YUQING_CONFIG", "config"))


def get_config(path: Path | None) -> Config:
    """Load the configuration; a ConfigError propagates to cli.main, which prints it in Chinese."""
    return load_config(config_dir(path))
