"""Severity levels from sensitivity, category, reach, spread, growth and red-line terms."""

from __future__ import annotations

from analysis.severity import event_severity, post_severity, red_line_terms, severity_points
from yuqing.model import Category, Severity


def test_not_sensitive_has_no_severity() -> None:
    assert event_severity(0.99, Category.none, 10**6, 50, 10.0, True) is None
    assert event_severity(0.2, Category.incident, 10**6, 50, 10.0, True) is None
    assert event_severity(0.2, Category.incident, 0, 1, 1.0, False, threshold=0.1) is Severity.IV


def test_a_quiet_single_post_is_general() -> None:
    assert event_severity(0.6, Category.inquiry, 10, 1, 1.0, False) is Severity.IV


def test_levels_rise_with_reach_spread_and_growth() -> None:
    base = event_severity(0.75, Category.incident, 0, 1, 1.0, False)
    wider = event_severity(0.75, Category.incident, 5_000, 3, 1.0, False)
    viral = event_severity(0.95, Category.incident, 200_000, 12, 6.0, False)
    assert base is Severity.III  # 1 (sensitivity) + 1 (incident)
    assert wider is Severity.II  # + reach + spread
    assert viral is Severity.I
    assert base.rank < wider.rank < viral.rank


def test_red_line_is_never_below_iii() -> None:
    assert event_severity(0.5, Category.inquiry, 0, 1, 1.0, True) is Severity.III
    assert event_severity(0.5, Category.inquiry, 0, 1, 1.0, False) is Severity.IV


def test_a_suggestion_stays_general_however_wide() -> None:
    assert event_severity(0.99, Category.suggestion, 10**6, 30, 10.0, True) is Severity.IV


def test_points_are_monotonic_in_each_input() -> None:
    p = severity_points(0.6, Category.inquiry, 0, 1, 1.0, False)
    assert severity_points(0.95, Category.inquiry, 0, 1, 1.0, False) > p
    assert severity_points(0.6, Category.fabrication, 0, 1, 1.0, False) > p
    assert severity_points(0.6, Category.inquiry, 20_000, 1, 1.0, False) > p
    assert severity_points(0.6, Category.inquiry, 0, 10, 1.0, False) > p
    assert severity_points(0.6, Category.inquiry, 0, 1, 2.5, False) > p


def test_post_severity_is_an_event_of_one_post() -> None:
    assert post_severity(0.95, Category.incident, 20_000, True) == event_severity(
        0.95, Category.incident, 20_000, 1, 1.0, True
    )
    assert red_line_terms("学生食物中毒，一人死亡", ["死亡", "性侵", "食物中毒"]) == ["死亡", "食物中毒"]


def test_batch_levels_equal_single_levels_and_ask_only_for_what_they_need() -> None:
    from analysis.severity import post_severities

    sens = [0.95, 0.2, 0.8, 0.6, 0.99]
    cats = [Category.incident, Category.incident, Category.none, Category.suggestion, Category.fabrication]
    reach = [200_000, 10, 5_000, 0, 0]
    red = [False, True, True, False, True]
    asked: list[int] = []

    def reach_of(i: int) -> int:
        asked.append(i)
        return reach[i]

    got = post_severities(sens, cats, reach_of, red.__getitem__, threshold=0.35)
    assert got == [post_severity(s, c, r, h, threshold=0.35) for s, c, r, h in zip(sens, cats, reach, red, strict=True)]
    assert got == [Severity.I, None, None, Severity.IV, Severity.II]
    assert asked == [0, 3, 4]  # not the quiet post nor the one classified none
