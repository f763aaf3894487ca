"""Session fixtures live in tests/plugins/, one module per area (real servers on port 0)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# Every module in tests/plugins/ is a plugin, so each area adds its fixtures without editing this file.
pytest_plugins = sorted(
    f"tests.plugins.{p.stem}" for p in (Path(__file__).parent / "plugins").glob("*.py") if p.stem != "__init__"
)


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip with a clear reason on a user's clone that lacks it.

    Never a skip under `.ci/run` (which sets YUQING_REQUIRE_SHARED) or a CI runner (CI): there ../shared is
    part of the checkout, so its absence fails the tests that need it."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        if os.environ.get("CI") or os.environ.get("YUQING_REQUIRE_SHARED"):
            raise FileNotFoundError(f"CI must have ../shared beside the project, missing: {p}")
        pytest.skip(f"../shared is not beside this clone ({p} missing); these tests run in CI")
    return p
