"""Fixtures every area uses: the sample configuration copied to a temp folder with its own data dir."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from yuqing.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A writable copy of config/ whose storage points into tmp_path."""
    dst = tmp_path / "config"
    shutil.copytree(ROOT / "config", dst)
    (dst / "storage.yaml").write_text(f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    return dst


@pytest.fixture
def cfg(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    yield load_config(config_dir)
