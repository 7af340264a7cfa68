"""The calendar's days: the coming runs of every scheduled post in a range of days, and China's
public holidays and make-up working days (调休上班), for the 日历 page.

Runs are expanded per schedule rule, not per post: posts with the same rule (its canonical
text, e.g. "每天 08:30") share their times, and a rule's times in a range are cached. A month
of 1,000 posts costs as many APScheduler look-ups as there are different rules, once.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from apscheduler.triggers.base import BaseTrigger

from bot.core.cache import BoundedCache
from bot.posts.files import Post
from bot.posts.schedule_rules import ScheduleRule, fire_times
from bot.posts.workdays import WorkdayTrigger

# The package names its holidays in English and Chinese: Holiday("National Day").chinese.
HOLIDAY_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}
CACHED_RANGES = 4096  # (rule, range) pairs: a few hundred bytes each


@dataclass(frozen=True)
class Run:
    at: datetime
    post: Post


@dataclass(frozen=True)
class Day:
    day: date
    in_range: bool  # False for the days of the months before and after that fill the weeks
    today: bool
    holiday: str  # the holiday's name on a day off for it ("元旦"), else ""
    makeup: str  # the holiday a weekend day is worked for (调休上班), else ""
    runs: list[Run]  # the first ones of the day, in order of time
    more: int  # runs of the day not in `runs`

    @property
    def weekend(self) -> bool:
        return self.day.weekday() >= 5

    @property
    def anchor(self) -> str:
        return f"day-{self.day.isoformat()}"

    @property
    def css(self) -> str:
        """Classes for the day's cell; a phone shows only the days that have something."""
        flags = {"outside": not self.in_range, "today": self.today, "weekend": self.weekend,
                 "holiday": bool(self.holiday), "makeup": bool(self.makeup),
                 "has-runs": bool(self.runs)}
        return " ".join(["day", *(name for name, on in flags.items() if on)])


def official_day(day: date) -> tuple[str, str] | None:
    """(holiday, make-up) names for `day`; None for a year chinesecalendar does not know."""
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # "no available data for year 2028"
        return None
    if name is None:
        return "", ""
    chinese = HOLIDAY_NAMES.get(name, name)
    return (chinese, "") if off else ("", chinese)


def _quiet(trigger: BaseTrigger) -> BaseTrigger:
    """The trigger without the scheduler's notice for a year the official calendar does not
    know: looking ahead in the calendar must not message the admins."""
    if isinstance(trigger, WorkdayTrigger) and trigger.on_unknown_year is not None:
        trigger = copy.copy(trigger)
        trigger.on_unknown_year = None
    return trigger


class RunCalendar:
    """The coming runs of posts, day by day, with a cache of each rule's times."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._times: BoundedCache[tuple[str, date, date], list[datetime]] = BoundedCache(
            CACHED_RANGES)

    def rule_times(self, rule: ScheduleRule, first: date, last: date) -> list[datetime]:
        """Every run of `rule` from the start of `first` to the end of `last`."""
        key = (rule.text, first, last)
        times = self._times.get(key)
        if times is None:
            start = datetime.combine(first, time(), self.tz)
            end = datetime.combine(last + timedelta(days=1), time(), self.tz)
            times = [when.astimezone(self.tz) for when in fire_times(
                _quiet(rule.trigger), start - timedelta(seconds=1), until=end) if when < end]
            self._times.put(key, times)
        return times

    def days(self, posts: list[Post], dates: list[date], in_range: tuple[date, date],
             now: datetime, shown_per_day: int) -> list[Day]:
        """`dates` (consecutive) with the runs after `now` of the scheduled, unpaused,
        reviewed posts, at most `shown_per_day` listed on each day."""
        by_rule: dict[str, tuple[ScheduleRule, list[Post]]] = {}
        for post in posts:  # in the list's order: a day's runs at one time keep it
            if post.rule is not None and not post.meta.paused and not post.meta.review:
                by_rule.setdefault(post.rule.text, (post.rule, []))[1].append(post)
        by_day: dict[date, list[tuple[datetime, list[Post]]]] = defaultdict(list)
        first, last = dates[0], dates[-1]
        if datetime.combine(last + timedelta(days=1), time(), self.tz) > now:
            for rule, rule_posts in by_rule.values():
                for when in self.rule_times(rule, first, last):
                    if when > now:
                        by_day[when.date()].append((when, rule_posts))
        today = now.astimezone(self.tz).date()
        return [self._day(day, by_day.get(day, []), in_range, today, shown_per_day)
                for day in dates]

    def _day(self, day: date, timed: list[tuple[datetime, list[Post]]],
             in_range: tuple[date, date], today: date, shown: int) -> Day:
        timed.sort(key=lambda pair: pair[0])
        runs: list[Run] = []
        total = 0
        for when, posts in timed:
            total += len(posts)
            runs.extend(Run(when, post) for post in posts[: shown - len(runs)])
        holiday, makeup = official_day(day) or ("", "")
        return Day(day, in_range[0] <= day <= in_range[1], day == today, holiday, makeup, runs,
                   total - len(runs))


def unknown_years(dates: list[date]) -> list[int]:
    """The years among `dates` whose holidays chinesecalendar does not know yet."""
    return sorted({day.year for day in dates if official_day(day) is None})
