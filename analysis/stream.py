"""`yuqing analyze` as a function: JSON Lines of posts in, one analysis object per valid line out.

A line that is not a JSON object with a non-empty ``id`` and ``content`` (or whose optional fields do not
fit the Post model) is reported by line number and skipped; the lines around it are still answered, in
order. The caller decides the exit code (non-zero when any line was bad).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from analysis.events import EventGrouper
from yuqing.model import Metrics, Post

if TYPE_CHECKING:
    from analysis.analyzer import Analyzer

BATCH = 500
_FIELDS = ("id", "url", "site", "source", "title", "content", "author", "published_at", "metrics")


@dataclass
class LineResult:
    line: int
    output: dict[str, Any] | None = None
    error: str | None = None


def post_from_json(obj: Any) -> Post:
    """A Post from one input object; raises ValueError with a Chinese message."""
    if not isinstance(obj, dict):
        raise ValueError("每行应为一个 JSON 对象")
    for key in ("id", "content"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise ValueError(f"缺少必填字段 {key}(非空字符串)")
    unknown = sorted(set(obj) - set(_FIELDS))
    if unknown:
        raise ValueError(f"未知字段: {', '.join(unknown)}")
    data = {k: obj[k] for k in _FIELDS if obj.get(k) is not None}
    data.setdefault("url", "")
    try:
        if "metrics" in data:
            data["metrics"] = Metrics.model_validate(data["metrics"])
        return Post.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ValueError(f"字段 {where} 无效: {err['msg']}") from None


def analyze_lines(analyzer: Analyzer, lines: Iterable[str], group_events: bool = True) -> Iterator[LineResult]:
    """One LineResult per non-blank input line, in input order, analysed in batches."""
    grouper = EventGrouper() if group_events else None
    pending: list[tuple[int, Post]] = []
    held: list[LineResult] = []  # errors waiting for the batch before them to be written

    def flush() -> Iterator[LineResult]:
        posts = [p for _, p in pending]
        analyses = analyzer.analyze_many(posts)
        if grouper is not None:
            for a, assignment in zip(analyses, grouper.assign_many(posts, analyses), strict=True):
                a.event_id = assignment.event_id
        results = [LineResult(n, a.to_interface()) for (n, _), a in zip(pending, analyses, strict=True)]
        results.extend(held)
        pending.clear()
        held.clear()
        yield from sorted(results, key=lambda r: r.line)

    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            post = post_from_json(json.loads(raw))
        except json.JSONDecodeError as exc:
            held.append(LineResult(n, error=f"不是有效的 JSON({exc.msg},第 {exc.colno} 列)"))
        except ValueError as exc:
            held.append(LineResult(n, error=str(exc)))
        else:
            pending.append((n, post))
        if len(pending) >= BATCH:
            yield from flush()
    yield from flush()
