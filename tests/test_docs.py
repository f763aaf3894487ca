"""Every setting and every command is documented (style.md habit 10)."""

from __future__ import annotations

import inspect
from pathlib import Path

from pydantic import BaseModel

import yuqing.config as config_module
from yuqing.cli import app
from yuqing.config_reference import render_reference

ROOT = Path(__file__).resolve().parent.parent


def test_every_config_field_has_a_description() -> None:
    missing = [
        f"{name}.{field}"
        for name, model in vars(config_module).items()
        if inspect.isclass(model) and issubclass(model, BaseModel)
        and model.__module__ == config_module.__name__ and name != "Config"
        for field, info in model.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert not missing, f"config fields without a description: {missing}"


def test_configuration_reference_is_current() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render_reference(), "run: yuqing config reference > docs/configuration.md"


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert names
    missing = [n for n in names if n and f"yuqing {n}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"
