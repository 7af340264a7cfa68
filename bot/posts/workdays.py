"""工作日 as China's official calendar has them: holidays off, the 调休 weekends on.

The State Council publishes each year's holidays and make-up working days (调休) late in the
year before; the `chinesecalendar` package carries them, one release per year. APScheduler's
CronTrigger knows only weekdays, so `WorkdayTrigger` wraps a daily CronTrigger and skips the
days the calendar says are off. For a year the package does not know yet it falls back to
Monday–Friday and calls `on_unknown_year` (the scheduler tells the admins, once a year).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, tzinfo

import chinese_calendar
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

# The longest run of days off is the Spring Festival's 8–9; a month means the data is wrong.
_MOST_DAYS_OFF = 31
NOTE = "按国家法定节假日和调休安排：放假的日子不发，调休上班的周末照发"


def last_known_year() -> int:
    known: set[date] = set(chinese_calendar.holidays)
    return max(day.year for day in known)


def official_workday(day: date) -> bool | None:
    """Whether people work on `day` in China; None for a year chinesecalendar does not know."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # "no available data for year 2027"
        return None


def unknown_year_notice(year: int) -> str:
    return (f"chinesecalendar 还没有 {year} 年的法定节假日和调休安排（只收录到 {last_known_year()} 年），"
            f"{year} 年的“工作日”定时暂按周一至周五发送。国务院公布安排后，"
            "请运维人员升级 chinesecalendar（pip install -U chinesecalendar）并重启机器人。")


class WorkdayTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler has no type hints
    """Every official workday at hour:minute in `timezone`, up to `end_date` if given."""

    def __init__(self, hour: int, minute: int, timezone: tzinfo,
                 end_date: datetime | None = None) -> None:
        self.hour, self.minute = hour, minute
        self.timezone = timezone
        self.daily = CronTrigger(hour=hour, minute=minute, timezone=timezone, end_date=end_date)
        # Called with a year the calendar does not know, each time one of its days is judged.
        self.on_unknown_year: Callable[[int], None] | None = None

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        fire: datetime | None = self.daily.get_next_fire_time(previous_fire_time, now)
        for _ in range(_MOST_DAYS_OFF):
            if fire is None or self.is_workday(fire.date()):
                return fire
            fire = self.daily.get_next_fire_time(fire, fire)  # the day after
        raise RuntimeError(f"no workday in the {_MOST_DAYS_OFF} days before {fire}")

    def is_workday(self, day: date) -> bool:
        official = official_workday(day)
        if official is not None:
            return official
        log.debug("no official calendar for %s: taken as Monday to Friday", day.year)
        if self.on_unknown_year is not None:
            self.on_unknown_year(day.year)
        return day.weekday() < 5

    def __str__(self) -> str:
        return f"workdays[{self.hour:02d}:{self.minute:02d}]"

    def __repr__(self) -> str:
        return f"<WorkdayTrigger {self.hour:02d}:{self.minute:02d} ({self.timezone})>"
