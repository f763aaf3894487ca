"""Render the configuration reference (docs/configuration.md) from the pydantic models.

Every setting is declared once, with its description, in yuqing/config.py; this turns the
declarations into the document, and a test keeps the committed document in step.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from yuqing.config import _FILE_MODELS


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " / ".join(repr(a) for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        return "" if field.default is None else f"`{field.default!r}`"
    if field.default_factory is not None:
        try:
            value = field.default_factory()
        except TypeError:
            return ""
        return f"`{value!r}`" if not isinstance(value, BaseModel) else ""
    return "**required**"


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for a in typing.get_args(annotation):
        out.extend(_nested(a))
    return out


def _model_section(model: type[BaseModel], title: str, seen: set[type[BaseModel]]) -> list[str]:
    heading = "##" if "→" not in title else "###"
    lines = [f"{heading} {title}", "", "| key | type | default | description |", "|---|---|---|---|"]
    children: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        desc = (field.description or "").replace("|", "\\|")
        kind = _type_name(field.annotation).replace("|", "\\|")
        lines.append(f"| `{name}` | {kind} | {_default(field)} | {desc} |")
        for child in _nested(field.annotation):
            if child not in seen:
                seen.add(child)
                children.append((f"{title} → {name}", child))
    lines.append("")
    for child_title, child in children:
        lines.extend(_model_section(child, child_title, seen))
    return lines


def render_reference() -> str:
    out = [
        "# Configuration reference",
        "",
        "Generated from yuqing/config.py by `yuqing config reference`; do not edit by hand.",
        "Values may read the environment with `${VAR}` or `${VAR:-default}`. Secrets are never written",
        "in YAML: name the environment variable (`*_env`) or the file (`*_file`) that holds them.",
        "",
    ]
    seen: set[type[BaseModel]] = set()
    for fname, model in _FILE_MODELS.items():
        out.extend(_model_section(model, fname, seen))
    return "\n".join(out).rstrip() + "\n"
