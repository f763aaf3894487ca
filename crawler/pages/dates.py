"""Publish times as Chinese sites show them → aware UTC (the page's wall clock is Asia/Shanghai).

The common shapes are parsed by hand (fast and exact, relative to the crawl time so that "5分钟前" and
"昨天 12:00" mean the same thing in a fixture test every day); anything else goes to dateparser with
Asia/Shanghai as the default zone.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_FULL = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]*(?P<H>\d{1,2})[:：时](?P<M>\d{1,2})(?:[:：分](?P<S>\d{1,2}))?)?"
)
_MONTH_DAY = re.compile(r"^(?P<m>\d{1,2})\s*[-/月]\s*(?P<d>\d{1,2})\s*日?(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2}))?$")
_TIME_ONLY = re.compile(r"^(?:今天\s*)?(?P<H>\d{1,2}):(?P<M>\d{2})$")
_DAY_WORDS = {"今天": 0, "昨天": 1, "前天": 2}
_DAY_WORD = re.compile(r"^(今天|昨天|前天)\s*(?P<H>\d{1,2}):(?P<M>\d{2})$")
_AGO = re.compile(r"^(?P<n>\d+)\s*(?P<unit>秒|分钟|小时|天|周|个月)\s*前$")
_UNITS = {"秒": 1, "分钟": 60, "小时": 3600, "天": 86400, "周": 7 * 86400, "个月": 30 * 86400}
_TZ_SUFFIX = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def _utc(local: datetime) -> datetime:
    if local.tzinfo is None:
        local = local.replace(tzinfo=SHANGHAI)
    return local.astimezone(timezone.utc)


def parse_datetime(raw: str | None, now: datetime | None = None) -> datetime | None:
    """Aware UTC for a time text as shown on the page, or None when it is not a time.

    ``now`` (aware) anchors relative forms ("刚刚", "5分钟前", "昨天 12:00", "01-15", "12:30").
    """
    text = re.sub(r"\s+", " ", (raw or "").replace("\xa0", " ")).strip()
    text = re.sub(r"^(发表于|发布于|发布时间[:：]?|时间[:：]|日期[:：]|更新时间[:：]?)\s*", "", text)
    if not text:
        return None
    now = (now or datetime.now(timezone.utc)).astimezone(SHANGHAI)
    try:
        return _parse_known(text, now) or _parse_fallback(text, now)
    except (ValueError, OverflowError):
        return None


def _parse_known(text: str, now: datetime) -> datetime | None:
    if text == "刚刚":
        return _utc(now)
    if m := _AGO.match(text):
        return _utc(now - timedelta(seconds=int(m["n"]) * _UNITS[m["unit"]]))
    if m := _DAY_WORD.match(text):
        day = now - timedelta(days=_DAY_WORDS[m.group(1)])
        return _utc(day.replace(hour=int(m["H"]), minute=int(m["M"]), second=0, microsecond=0))
    if m := _TIME_ONLY.match(text):
        return _utc(now.replace(hour=int(m["H"]), minute=int(m["M"]), second=0, microsecond=0))
    if m := _MONTH_DAY.match(text):
        parts = (int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0))
        when = datetime(now.year, *parts, tzinfo=SHANGHAI)
        if when > now + timedelta(days=1):  # "12-31" seen in January is last year's
            when = datetime(now.year - 1, *parts, tzinfo=SHANGHAI)
        return _utc(when)
    if re.match(r"^[A-Z][a-z]{2}[, ]", text):  # "Tue Jan 15 10:00:00 +0800 2019" (Weibo) or RFC 822
        return _english(text)
    if "T" in text and _TZ_SUFFIX.search(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    if m := _FULL.search(text):
        local = datetime(int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0))
        return _utc(local)
    return None


def _english(text: str) -> datetime | None:
    for fmt in ("%a %b %d %H:%M:%S %z %Y",):
        try:
            return datetime.strptime(text, fmt).astimezone(timezone.utc)
        except ValueError:
            pass
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return _utc(parsed) if parsed else None


def _parse_fallback(text: str, now: datetime) -> datetime | None:
    import dateparser  # slow to import; most pages never need it

    settings = {
        "TIMEZONE": "Asia/Shanghai",
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
    }
    with warnings.catch_warnings():  # dateparser trips pytz/regex deprecation warnings on some inputs
        warnings.simplefilter("ignore")
        parsed = dateparser.parse(text, languages=["zh", "en"], settings=settings)
    return parsed.astimezone(timezone.utc).replace(microsecond=0) if parsed else None
