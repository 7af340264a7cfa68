"""Schedules written the way a secretary writes them ("每周一 9点", "明天下午3点") -> triggers.

`parse_schedule` turns a chat message or a post file's `schedule = "..."` into a ScheduleRule:
a canonical text (written back to the post file), an APScheduler trigger and, for some rules,
a note for the admin. Every trigger is built with `timezone=tz`, so the host's TZ never
matters, and a naive `now` is read as a time in `tz`. Dates are left to APScheduler: a rule is a table row
(pattern -> CronTrigger fields, official workdays or one run date, in
bot/posts/schedule_phrases.py), nothing here walks a calendar itself; 工作日 follows China's
official calendar (bot/posts/workdays.py). A rule that would never run (cron on 30 February)
or could run twice within an hour (`cron: * * * * *`) is refused with a ScheduleError.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.core.textnorm import to_simplified
from bot.posts.schedule_phrases import (
    CRON_EXAMPLE,
    END,
    HOURLY_EXAMPLE,
    RULES,
    ScheduleError,
    Workdays,
    examples,
    valid_date,
)
from bot.posts.workdays import NOTE as WORKDAYS_NOTE
from bot.posts.workdays import WorkdayTrigger

__all__ = ["ScheduleError", "ScheduleRule", "fire_times", "parse_schedule"]

# A group of 150 must not get a post every minute: two runs of a rule are at least this apart.
MIN_GAP = timedelta(hours=1)
# Dates and weekdays repeat every 28 years from 1901 to 2099: a rule with no run in that
# horizon never runs (2月30日). The search stops there in about 2 ms; APScheduler's own,
# unbounded, goes on to the year 9999 and blocked the loop 0.2-0.7 s at every reload.
NEVER_HORIZON = timedelta(days=28 * 366)


@dataclass(frozen=True)
class ScheduleRule:
    text: str  # canonical, e.g. "每周一 09:00"; parse_schedule(text) gives the same rule back
    trigger: BaseTrigger  # CronTrigger, WorkdayTrigger or DateTrigger, timezone set explicitly
    recurring: bool
    note: str = ""  # a caveat for the admin, e.g. that 每月31日 skips shorter months

    @property
    def timezone(self) -> tzinfo:
        if isinstance(self.trigger, DateTrigger):
            zone: tzinfo = self.trigger.run_date.tzinfo
            return zone
        cron_zone: tzinfo = self.trigger.timezone
        return cron_zone

    def next_runs(self, after: datetime, count: int = 3) -> list[datetime]:
        """The next `count` runs strictly after `after` (naive = in the rule's timezone)."""
        if after.tzinfo is None:
            after = after.replace(tzinfo=self.timezone)
        return fire_times(self.trigger, after, count=count)


def fire_times(trigger: BaseTrigger, after: datetime, until: datetime | None = None,
               count: int | None = None) -> list[datetime]:
    """The trigger's fire times after `after` and up to `until`, at most `count`, in order."""
    assert until is not None or count is not None, "a recurring trigger never runs out"
    times: list[datetime] = []
    previous: datetime | None = None  # a one-off trigger needs it to say "no more"
    moment = after
    while count is None or len(times) < count:
        fire: datetime | None = trigger.get_next_fire_time(previous, moment)
        if fire is None or (until is not None and fire > until):
            break
        if fire > after:
            times.append(fire)
        previous = moment = fire
    return times


def _normalize(text: str) -> str:
    """Half-width, simplified, single spaces: ｢每週一　９：００｣ -> "每周一 9:00"."""
    return re.sub(r"\s+", " ", to_simplified(unicodedata.normalize("NFKC", text))).strip()


def parse_schedule(
    text: str, tz: ZoneInfo, now: datetime, *, allow_past: bool = False
) -> ScheduleRule:
    """The rule `text` describes, in `tz`; a ScheduleError (Chinese, with examples) if none.

    A one-off time must be after `now` unless `allow_past` (post files keep sent posts).
    """
    now = now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)
    cleaned = _normalize(text)
    if not cleaned:
        raise ScheduleError("没有写发送时间", examples(now))
    ending = END.fullmatch(cleaned)
    body = ending["body"] if ending else cleaned
    for pattern, build in RULES:
        if match := pattern.fullmatch(body):
            canonical, when = build(match, now)
            break
    else:
        raise ScheduleError(f"看不懂“{text.strip()}”这个时间，请写清哪天、几点", examples(now))

    if isinstance(when, datetime):
        if ending:
            raise ScheduleError("只发一次的时间不用写截止日期", examples(now))
        if when <= now and not allow_past:
            raise ScheduleError(f"{canonical} 已经过去了（现在是 {now:%Y-%m-%d %H:%M}），"
                                "请写一个以后的时间", examples(now))
        return ScheduleRule(canonical, DateTrigger(when, timezone=tz), recurring=False)

    end = None
    if ending:
        last = valid_date(int(ending["year"]), int(ending["month"]), int(ending["day"]),
                     f"每天 8:30 至 {now.year}-12-31")
        end = datetime(last.year, last.month, last.day, 23, 59, 59, tzinfo=tz)
        if end <= now and not allow_past:
            raise ScheduleError(f"截止日期 {last} 已经过去了（现在是 {now:%Y-%m-%d %H:%M}）",
                                f"每天 8:30 至 {now.year + 1}-12-31")
        canonical += f" 至 {last}"
    if isinstance(when, Workdays):
        rule = ScheduleRule(canonical, WorkdayTrigger(when.hour, when.minute, tz, end_date=end),
                            recurring=True, note=WORKDAYS_NOTE)
    else:
        try:
            trigger = CronTrigger(**when, timezone=tz, end_date=end)
        except ValueError as error:
            raise ScheduleError(f"cron 表达式“{body}”写得不对（{error}）",
                                CRON_EXAMPLE) from None
        _refuse_too_often(trigger, canonical)
        _refuse_never(CronTrigger(**when, timezone=tz, end_date=now + NEVER_HORIZON),
                      canonical, now)
        rule = ScheduleRule(canonical, trigger, recurring=True, note=_caveat(when))
    if end is not None and not allow_past and not rule.next_runs(now, 1):
        raise ScheduleError(f"“{canonical}”在截止日期前一次也不会发送，请改时间或截止日期",
                            f"每天 8:30 至 {now.year + 1}-12-31")
    return rule


def _refuse_too_often(trigger: CronTrigger, canonical: str) -> None:
    """Runs closer than MIN_GAP come from several minutes matched in one hour (a rule has
    one second, 0): `*/30 9 * * *` runs 09:00 and 09:30. One minute an hour is hourly at most."""
    minute_field = next(field for field in trigger.fields if field.name == "minute")
    minutes = [minute for minute in range(60)
               if minute_field.get_next_value(datetime(2000, 1, 1, 0, minute)) == minute]
    gap = min((b - a for a, b in pairwise(minutes)), default=60)
    if timedelta(minutes=gap) < MIN_GAP:
        raise ScheduleError(f"“{canonical}”一小时内发 {len(minutes)} 次（最短相隔 {gap} 分钟），"
                            "定时最多每小时发一次，以免刷屏", HOURLY_EXAMPLE)


def _refuse_never(probe: CronTrigger, canonical: str, now: datetime) -> None:
    """`probe` is the rule's trigger ending NEVER_HORIZON from now, so the search is short."""
    if probe.get_next_fire_time(None, now) is None:
        raise ScheduleError(f"“{canonical}”永远不会发送：没有哪一天符合这些日期"
                            "（例如 2月没有30日，4、6、9、11月没有31日）", CRON_EXAMPLE)


def _caveat(fields: dict[str, str]) -> str:
    """APScheduler skips a month without the day (31日 in April), as it should: say so."""
    if fields.get("month") == "2" and fields.get("day") == "29":
        return "只在闰年发送"
    if fields.get("month", "*") == "*" and any(
        int(day) >= 29 for day in re.findall(r"\d+", fields.get("day", ""))
    ):
        return "没有这一天的月份不发，月底请写“每月最后一天”"
    return ""
