"""Times and durations in the words the secretariat reads: "2026-12-07 周一 09:00", "5 分钟"."""

from __future__ import annotations

from datetime import datetime

WEEKDAYS = "一二三四五六日"  # index = date.weekday() (Monday = 0), as APScheduler counts


def weekday(moment: datetime) -> str:
    return f"周{WEEKDAYS[moment.weekday()]}"


def day_and_time(moment: datetime | None, unset: str = "未定时") -> str:
    """'2026-12-07 周一 09:00', for a run of a post."""
    if moment is None:
        return unset
    return f"{moment:%Y-%m-%d} {weekday(moment)} {moment:%H:%M}"


def minute(moment: datetime) -> str:
    """'2026-12-07 09:00', where the weekday would only crowd a list."""
    return f"{moment:%Y-%m-%d %H:%M}"


def second(moment: datetime) -> str:
    """'2026-12-07 09:00:05', for the moment a state began."""
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def duration(seconds: float) -> str:
    """'45 秒', '5 分钟', '2.5 小时', '3.0 天'."""
    if seconds < 120:
        return f"{seconds:.0f} 秒"
    if seconds < 7200:
        return f"{seconds / 60:.0f} 分钟"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} 小时"
    return f"{seconds / 86_400:.1f} 天"
