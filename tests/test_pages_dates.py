"""Publish times as Chinese sites show them → aware UTC, relative forms anchored at the crawl time."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawler.pages.dates import parse_datetime

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 11:00 in Shanghai


@pytest.mark.parametrize(
    ("shown", "utc"),
    [
        ("2019-10-12 10:30", "2019-10-12T02:30:00"),
        ("2019年06月15日08:18", "2019-06-15T00:18:00"),
        ("2019年10月12日 10:30:22", "2019-10-12T02:30:22"),
        ("发表于 2026-11-4 09:05", "2026-11-04T01:05:00"),  # Discuz! omits leading zeros
        ("发布时间：2026-11-29 16:10", "2026-11-29T08:10:00"),
        ("2018/03/05", "2018-03-04T16:00:00"),  # a bare date is midnight in Shanghai
        ("刚刚", "2026-11-30T03:00:00"),
        ("5分钟前", "2026-11-30T02:55:00"),
        ("3 小时前", "2026-11-30T00:00:00"),
        ("今天 08:01", "2026-11-30T00:01:00"),
        ("昨天 12:00", "2026-11-29T04:00:00"),
        ("前天 21:51", "2026-11-28T13:51:00"),
        ("09:30", "2026-11-30T01:30:00"),
        ("11-29 20:15", "2026-11-29T12:15:00"),
        ("01-15", "2026-01-14T16:00:00"),
        ("12-31", "2025-12-30T16:00:00"),  # a later month seen now is last year's
        ("Tue Jan 15 10:00:00 +0800 2019", "2019-01-15T02:00:00"),  # Weibo's full form
        ("Mon, 30 Nov 2026 10:00:00 +0800", "2026-11-30T02:00:00"),  # RSS
        ("2026-11-29T10:00:00+08:00", "2026-11-29T02:00:00"),  # Atom, <time datetime>
        ("2020-04-10T01:07:36Z", "2020-04-10T01:07:36"),
    ],
)
def test_shown_times(shown: str, utc: str) -> None:
    parsed = parse_datetime(shown, NOW)
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed == datetime.fromisoformat(utc).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("shown", ["", "   ", "楼主", "garbage text", None])
def test_not_a_time(shown: str | None) -> None:
    assert parse_datetime(shown, NOW) is None


def test_impossible_dates_are_none_not_errors() -> None:
    assert parse_datetime("2019-02-30 10:00", NOW) is None
    assert parse_datetime("02-30", NOW) is None
