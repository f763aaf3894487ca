"""Severity (the four levels of Chinese emergency plans) from what we know about a post or an event.

Points, then levels — so that a monitor can follow the reasoning:

- sensitivity: ≥ 0.9 → 2 points, ≥ 0.7 → 1;
- category: incident and fabrication (harm spreads, facts or the law are at stake) → 1;
- reach (Metrics.reach: reposts weigh 10, comments 3, likes 1, views 1/100): ≥ 1,000 → 1, ≥ 10,000 → 2,
  ≥ 100,000 → 3;
- spread: on ≥ 3 sites → 1, on ≥ 10 sites → 2;
- growth (posts now / posts at the last update): ≥ 2 → 1, ≥ 5 → 2;
- a red-line term (死亡, 性侵, 食物中毒, …) → 2 points and never below III.

0–1 point → IV 一般, 2–3 → III 较大, 4–5 → II 重大, 6 or more → I 特别重大. A suggestion is never more
than IV: it asks for adoption, not an emergency response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from yuqing.model import Category, Severity

# Below this sensitivity nothing has a severity, for callers without a configuration; the Analyzer
# passes the lowest configured alert bar (alerts.yaml, the sensitive-period one) and rules compare
# against the bar of the moment.
MIN_SENSITIVITY = 0.35

_LEVELS = ((6, Severity.I), (4, Severity.II), (2, Severity.III), (0, Severity.IV))


def _sensitivity_points(sensitivity: float) -> int:
    return 2 if sensitivity >= 0.9 else 1 if sensitivity >= 0.7 else 0


def _reach_points(reach: int) -> int:
    return 3 if reach >= 100_000 else 2 if reach >= 10_000 else 1 if reach >= 1_000 else 0


def severity_points(
    sensitivity: float, category: Category, reach: int, site_count: int, growth: float, red_line_hit: bool
) -> int:
    points = 0
    points += _sensitivity_points(sensitivity)
    points += 1 if category in (Category.incident, Category.fabrication) else 0
    points += _reach_points(reach)
    points += 2 if site_count >= 10 else 1 if site_count >= 3 else 0
    points += 2 if growth >= 5 else 1 if growth >= 2 else 0
    points += 2 if red_line_hit else 0
    return points


def event_severity(
    sensitivity: float,
    category: Category,
    reach: int,
    site_count: int,
    growth: float,
    red_line_hit: bool,
    *,
    threshold: float = MIN_SENSITIVITY,
) -> Severity | None:
    """The level of an event (or a post); None when it is not sensitive or below ``threshold``."""
    category = Category(category)
    if category is Category.none or sensitivity < threshold:
        return None
    points = severity_points(sensitivity, category, reach, site_count, growth, red_line_hit)
    level = next(level for floor, level in _LEVELS if points >= floor)
    if category is Category.suggestion:
        return Severity.IV
    if red_line_hit and level.rank < Severity.III.rank:
        level = Severity.III
    return level


def post_severity(
    sensitivity: float, category: Category, reach: int, red_line_hit: bool, *, threshold: float = MIN_SENSITIVITY
) -> Severity | None:
    """A single post's level: an event of one post on one site, not growing."""
    return event_severity(sensitivity, category, reach, 1, 1.0, red_line_hit, threshold=threshold)


def post_severities(
    sensitivity: Sequence[float],
    category: Sequence[Category],
    reach: Callable[[int], int],
    red_line_hit: Callable[[int], bool],
    *,
    threshold: float = MIN_SENSITIVITY,
) -> list[Severity | None]:
    """``post_severity`` for a batch. ``reach(i)`` and ``red_line_hit(i)`` are asked only for the posts that
    can have a level (sensitive, at or above ``threshold``): most posts are not, and need neither.

    A post's level depends on its sensitivity and reach only through their points: each combination of
    points, category and red line is worked out once per batch (by ``post_severity`` itself), not per post."""
    none = Category.none
    levels: dict[tuple[int, Category, int, bool], Severity | None] = {}
    out: list[Severity | None] = []
    for i, (s, c) in enumerate(zip(sensitivity, category, strict=True)):
        if c is none or s < threshold:
            out.append(None)
            continue
        r, hit = reach(i), red_line_hit(i)
        key = (_sensitivity_points(s), c, _reach_points(r), hit)
        level = levels.get(key, _UNKNOWN)
        if level is _UNKNOWN:
            level = levels[key] = post_severity(s, c, r, hit, threshold=threshold)
        out.append(level)  # type: ignore[arg-type]
    return out


_UNKNOWN = object()


def red_line_terms(text: str, red_lines: list[str]) -> list[str]:
    return [t for t in red_lines if t and t in text]
