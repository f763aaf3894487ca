"""The real Elasticsearch node for the tests.

``es_url`` (session): ``YUQING_TEST_ES_URL`` when set (CI starts the node with scripts/es.sh);
otherwise this session starts its own node with scripts/es.sh in a temp home, on a free port,
and stops it at the end. Tests that need to stop and restart a node (the outage fault) use
``EsNode`` with their own home so that the shared node is never touched.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ES_SH = ROOT / "scripts" / "es.sh"


class EsNode:
    """One node driven through scripts/es.sh with its own YUQING_ES_HOME."""

    def __init__(self, home: Path, port: int = 0):
        self.home = home
        self.env = {**os.environ, "YUQING_ES_HOME": str(home), "YUQING_ES_PORT": str(port)}

    def _run(self, cmd: str) -> str:
        proc = subprocess.run(["bash", str(ES_SH), cmd], env=self.env, capture_output=True, text=True, timeout=240)
        if proc.returncode != 0:
            raise RuntimeError(f"scripts/es.sh {cmd} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return proc.stdout.strip()

    def up(self) -> str:
        return self._run("up")

    def down(self) -> None:
        self._run("down")


@pytest.fixture(scope="session")
def es_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("YUQING_TEST_ES_URL", "").strip()
    if url:
        yield url.rstrip("/")
        return
    node = EsNode(tmp_path_factory.mktemp("es-node"))
    try:
        yield node.up()
    finally:
        node.down()


@pytest.fixture
def es_prefix() -> str:
    """A fresh index prefix per test, so tests share the node without seeing each other."""
    return f"test-{uuid.uuid4().hex[:10]}"
