"""The phrases a secretary writes for a schedule, one table row each: pattern -> builder.

A builder turns a match into the canonical text and either CronTrigger fields (recurring),
`Workdays` (China's official workdays, bot/posts/workdays.py) or one run time. A one-off's
canonical text is its date and time, so a phrase relative to today ("周五 15:00") is written
back as the day it meant. Mistakes raise `ScheduleError`, a Chinese sentence with examples
that work. bot/posts/schedule_rules.py turns a row's result into a `ScheduleRule`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.core.chinese_time import WEEKDAYS
from bot.core.errors import UserError

_CRON_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CRONTAB_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab: 0 = Sunday
_MORNING = {"凌晨", "早上", "早晨", "上午"}
_AFTERNOON = {"下午", "傍晚", "晚上"}
EXAMPLE = "每周一 09:00、明天 9:00、12月1日 9:00"
_TIME_EXAMPLE = "明天 9:00、明天 下午3点半、每天 18:30"
_WEEK_EXAMPLE = "每周一 09:00、每周一三五 9:00、每周一至五 9:00"
_MONTH_EXAMPLE = "每月1日 9:00、每月15号 上午10点、每月最后一天 9:00"
CRON_EXAMPLE = "cron: 0 9 * * 1（分 时 日 月 星期，即每周一 9:00）"
HOURLY_EXAMPLE = "cron: 0 9-17 * * 1-5（周一至周五 9点到17点，每小时整点一次）"


class ScheduleError(UserError, ValueError):
    """What was wrong, in Chinese, followed by examples of what would work."""

    def __init__(self, problem: str, example: str = EXAMPLE) -> None:
        super().__init__(f"{problem}。例如：{example}")
        self.problem = problem
        self.example = example


# --- the pieces the patterns are made of ---------------------------------------------------

_TIME = (r"(?P<time>(?P<period>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)?\s*(?P<hour>\d{1,2})\s*"
         r"(?::\s*(?P<minute>\d{2})|[点时]\s*(?:(?P<half>半)|整|(?P<minutes>\d{1,2})\s*分?)?))")
_WEEKDAY = r"(?P<weekday>[一二三四五六日天])的?\s*"
_DATE = r"(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})"
END = re.compile(r"(?P<body>.+?)\s*[,，]?\s*(?:至|到|截至|截止到?|直到)\s*" + _DATE
                  + r"\s*[日号]?\s*(?:为止|止)?")


def _clock(match: re.Match[str]) -> tuple[int, int]:
    """(hour, minute) on the 24-hour clock: 下午3点 -> 15:00, 中午1点 -> 13:00."""
    hour, period = int(match["hour"]), match["period"]
    minute = 30 if match["half"] else int(match["minute"] or match["minutes"] or 0)
    if (period in _AFTERNOON and hour < 12) or (period == "中午" and hour < 3):
        hour += 12
    problem = ("半夜12点是第二天的 00:00，请写清日期" if period == "晚上" and hour == 12
               else f"{period}只到12点" if period in _MORNING and hour >= 12
               else "小时在 0–23 之间、分钟在 0–59 之间" if hour > 23 or minute > 59 else "")
    if problem:
        raise ScheduleError(f"“{match['time']}”不是有效的时间：{problem}", _TIME_EXAMPLE)
    return hour, minute


def _at(match: re.Match[str]) -> tuple[str, dict[str, str]]:
    """Canonical " 09:00" and the matching CronTrigger fields."""
    hour, minute = _clock(match)
    return f" {hour:02d}:{minute:02d}", {"hour": str(hour), "minute": str(minute)}


def valid_date(year: int | None, month: int, day: int, example: str) -> date:
    """The date, or an error naming it; without a year, any year (2月29日 is fine)."""
    try:
        return date(2000 if year is None else year, month, day)  # 2000 is a leap year
    except ValueError:
        where = "" if year is None else f"{year}年"
        raise ScheduleError(f"{where}没有{month}月{day}日这一天", example) from None


def examples(now: datetime) -> str:
    first_of_next_month = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    return f"每周一 09:00、明天 9:00、{first_of_next_month:%Y-%m-%d} 09:00"


def _on(day: date, hour: int, minute: int, now: datetime) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=now.tzinfo)


# --- one builder per kind of schedule: (match, now) -> (canonical text, what to trigger) ----

@dataclass(frozen=True)
class Workdays:
    """Every official workday (holidays off, 调休 weekends on) at hour:minute."""

    hour: int
    minute: int


Built = tuple[str, dict[str, str] | Workdays | datetime]


def _daily(match: re.Match[str], now: datetime) -> Built:
    time, fields = _at(match)
    return "每天" + time, fields


def _workdays(match: re.Match[str], now: datetime) -> Built:
    hour, minute = _clock(match)
    return f"工作日 {hour:02d}:{minute:02d}", Workdays(hour, minute)


def _weekly(match: re.Match[str], now: datetime) -> Built:
    spec = re.sub(r"周|星期|礼拜|\s", "", match["days"]).replace("天", "日").replace("末", "六至日")
    if not spec:
        raise ScheduleError("“每周”后面要写星期几", _WEEK_EXAMPLE)
    days: set[int] = set()
    for part in re.split(r"[、,/和及与]+", spec):
        span = re.fullmatch(r"([一二三四五六日])[至到~-]([一二三四五六日])", part)
        first, last = (WEEKDAYS.index(span[1]), WEEKDAYS.index(span[2])) if span else (1, 0)
        if first <= last:  # a range: 一至五
            days.update(range(first, last + 1))
        elif re.fullmatch(r"[一二三四五六日]+", part):  # one day or several: 一三五
            days.update(WEEKDAYS.index(day) for day in part)
        else:
            raise ScheduleError(f"“{part or match['days']}”不是星期几：星期只有一到六和日（天）",
                                _WEEK_EXAMPLE)
    time, fields = _at(match)
    names = ",".join(_CRON_NAMES[day] for day in sorted(days))
    return f"每周{_day_runs(sorted(days))}{time}", {**fields, "day_of_week": names}


def _day_runs(days: list[int]) -> str:
    """[0, 1, 2, 3, 4, 6] -> "一至五、日": three or more days in a row read as a range."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return "、".join(WEEKDAYS[run[0]] + "至" + WEEKDAYS[run[-1]] if len(run) >= 3
                    else "、".join(WEEKDAYS[day] for day in run) for run in runs)


def _monthly(match: re.Match[str], now: datetime) -> Built:
    days: list[str] = []
    for part in re.split(r"[、,和及与]+", re.sub(r"\s", "", match["days"])):
        part = part.rstrip("日号")
        if part in ("最后一天", "月底", "月末"):
            days.append("last")
        elif part.isdecimal() and 1 <= int(part) <= 31:  # isdigit() takes 𐩀, int() does not
            days.append(str(int(part)))
        else:
            raise ScheduleError(f"“{part or match['days']}”不是每月的哪一天：请写1到31日，"
                                "或“最后一天”", _MONTH_EXAMPLE)
    days = sorted(set(days), key=lambda day: 32 if day == "last" else int(day))
    time, fields = _at(match)
    text = "每月" + "、".join("最后一天" if day == "last" else f"{day}日" for day in days)
    return text + time, {**fields, "day": ",".join(days)}


def _yearly(match: re.Match[str], now: datetime) -> Built:
    month, day = int(match["month"]), int(match["day"])
    valid_date(None, month, day, "每年6月1日 9:00")
    time, fields = _at(match)
    return f"每年{month}月{day}日{time}", {**fields, "month": str(month), "day": str(day)}


def _cron(match: re.Match[str], now: datetime) -> Built:
    values = match["cron"].split()
    if len(values) != 5:
        raise ScheduleError(f"cron 表达式要写 5 段（分 时 日 月 星期），这里有 {len(values)} 段",
                            CRON_EXAMPLE)
    minute, hour, day, month, day_of_week = values
    fields = {"minute": minute, "hour": hour, "day": day, "month": month,
              "day_of_week": _crontab_weekdays(day_of_week)}
    return "cron: " + " ".join(values), fields


def _crontab_weekdays(field: str) -> str:
    """Crontab's day of week (0 or 7 = Sunday) as names: APScheduler 3.x counts 0 = Monday."""
    if not re.search(r"\d", field):
        return field  # "*", "mon-fri": the same in both
    days: set[int] = set()
    for item in field.split(","):
        part = re.fullmatch(r"(\*|[0-7])(?:-([0-7]))?(?:/([1-9]\d*))?", item)
        first, last = 1, 0  # an empty range: rejected below
        if part and not (part[1] == "*" and part[2]):
            first = 0 if part[1] == "*" else int(part[1])
            last = 7 if part[1] == "*" or (part[3] and not part[2]) else int(part[2] or part[1])
        if first > last:
            raise ScheduleError(f"cron 的星期一段“{field}”看不懂：请用 0–7（0 和 7 是周日）",
                                CRON_EXAMPLE)
        days.update(day % 7 for day in range(first, last + 1, int(part[3] or 1) if part else 1))
    return ",".join(_CRONTAB_NAMES[day] for day in sorted(days))


def _on_date(match: re.Match[str], now: datetime) -> Built:
    hour, minute = _clock(match)
    day = valid_date(int(match["year"]), int(match["month"]), int(match["day"]), examples(now))
    run = datetime(day.year, day.month, day.day, hour, minute, tzinfo=now.tzinfo)
    return f"{run:%Y-%m-%d %H:%M}", run


def _to_the_second(match: re.Match[str], now: datetime) -> Built:
    """"2026-12-01 09:00:30": a post file may name the second (tests and benchmarks do)."""
    day = valid_date(int(match["year"]), int(match["month"]), int(match["day"]), examples(now))
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"])
    if hour > 23 or minute > 59 or second > 59:
        raise ScheduleError(f"“{match[0]}”不是有效的时间", _TIME_EXAMPLE)
    run = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=now.tzinfo)
    return f"{run:%Y-%m-%d %H:%M:%S}", run


def _on_month_day(match: re.Match[str], now: datetime) -> Built:
    """"12月1日 9:00": this year, or next year once this year's has passed."""
    hour, minute = _clock(match)
    month, day = int(match["month"]), int(match["day"])
    valid_date(None, month, day, examples(now))
    for year in range(now.year, now.year + 9):  # 2月29日 waits for a leap year
        with suppress(ValueError):
            run = datetime(year, month, day, hour, minute, tzinfo=now.tzinfo)
            if run > now:
                break
    return f"{run:%Y-%m-%d %H:%M}", run


def _relative(match: re.Match[str], now: datetime) -> Built:
    hour, minute = _clock(match)
    day = now.date() + timedelta(days=("今天", "明天", "后天", "大后天").index(match["rel"]))
    run = _on(day, hour, minute, now)
    return f"{run:%Y-%m-%d %H:%M}", run


def _coming_weekday(match: re.Match[str], now: datetime) -> Built:
    """"周五 15:00": the coming Friday at 15:00, within the next seven days. On a Friday that
    is today while 15:00 is still ahead (what a secretary means on a Friday morning), and
    next Friday once it has passed: the #定时 reply shows the date it chose."""
    hour, minute = _clock(match)
    ahead = (WEEKDAYS.index(match["weekday"].replace("天", "日")) - now.weekday()) % 7
    run = _on(now.date() + timedelta(days=ahead), hour, minute, now)
    if run <= now:
        run = _on(run.date() + timedelta(days=7), hour, minute, now)
    return f"{run:%Y-%m-%d %H:%M}", run


def _weekday_of_week(match: re.Match[str], now: datetime) -> Built:
    """"这周五"/"本周五": the Friday of this week (Monday to Sunday), an error once past;
    "下周五": the Friday of next week, whatever day today is."""
    hour, minute = _clock(match)
    monday = now.date() - timedelta(days=now.weekday())
    weeks = 1 if match["which"] == "下" else 0
    day = monday + timedelta(days=7 * weeks + WEEKDAYS.index(match["weekday"].replace("天", "日")))
    run = _on(day, hour, minute, now)
    return f"{run:%Y-%m-%d %H:%M}", run


def _next_at(match: re.Match[str], now: datetime) -> Built:
    """"5:24": once, at the next 5:24: today if still ahead, else tomorrow."""
    hour, minute = _clock(match)
    run = _on(now.date(), hour, minute, now)
    if run <= now:
        run = _on(now.date() + timedelta(days=1), hour, minute, now)
    return f"{run:%Y-%m-%d %H:%M}", run


RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str], datetime], Built]]] = [
    (re.compile(pattern, re.IGNORECASE), build) for pattern, build in [
        (r"cron:\s*(?P<cron>.*)", _cron),
        (r"(?:每天|每日|天天)的?\s*" + _TIME, _daily),
        # China's official workdays: holidays off, 调休 weekends on (bot/posts/workdays.py)
        (r"(?:每个?)?工作日(?:每天)?的?\s*" + _TIME, _workdays),
        (r"每个?(?:周|星期|礼拜)(?P<days>.+?)的?\s*" + _TIME, _weekly),
        (r"每个?月的?(?P<days>.*?[日号天底末])的?\s*" + _TIME, _monthly),
        (r"每年的?\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]的?\s*" + _TIME, _yearly),
        (_DATE + r"[ T](?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})", _to_the_second),
        (_DATE + r"(?:\s*[日号]\s*|\s+)" + _TIME, _on_date),
        (r"(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]\s*" + _TIME, _on_month_day),
        (r"(?P<rel>今天|明天|后天|大后天)的?\s*" + _TIME, _relative),
        # 周五 15:00 (the coming one); 这周五 / 本周五 / 下周五 15:00 (this or next week's)
        (r"(?:周|星期|礼拜)" + _WEEKDAY + _TIME, _coming_weekday),
        (r"(?P<which>这|本|下)个?(?:周|星期|礼拜)" + _WEEKDAY + _TIME, _weekday_of_week),
        (_TIME, _next_at),  # a bare "5:24": once, today if still ahead, else tomorrow
    ]
]
