"""Schedules as admins write them -> canonical text, APScheduler triggers and next runs."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from hypothesis import given
from hypothesis import strategies as st

from bot.posts.schedule_rules import ScheduleError, ScheduleRule, fire_times, parse_schedule
from bot.posts.workdays import WorkdayTrigger

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 22, 10, tzinfo=SHANGHAI)  # a Wednesday evening


def runs(rule: ScheduleRule, count: int, after: datetime = NOW) -> list[str]:
    return [f"{run.astimezone(SHANGHAI):%Y-%m-%d %a %H:%M}" for run in rule.next_runs(after, count)]


# input -> canonical text, the next runs after NOW (Shanghai wall clock)
CASES = [
    # one-off: DateTrigger
    ("2026-12-01 09:00", "2026-12-01 09:00", ["2026-12-01 Tue 09:00"]),
    ("2026/12/1 9:00", "2026-12-01 09:00", ["2026-12-01 Tue 09:00"]),
    ("2026年12月1日 上午9点", "2026-12-01 09:00", ["2026-12-01 Tue 09:00"]),
    ("12月1日 9:00", "2026-12-01 09:00", ["2026-12-01 Tue 09:00"]),
    ("11月1日 9:00", "2027-11-01 09:00", ["2027-11-01 Mon 09:00"]),  # passed: next year
    ("2月29日 9点", "2028-02-29 09:00", ["2028-02-29 Tue 09:00"]),  # the next leap year
    ("明天 9:00", "2026-11-26 09:00", ["2026-11-26 Thu 09:00"]),
    ("后天 上午10点", "2026-11-27 10:00", ["2026-11-27 Fri 10:00"]),
    ("後天 下午3點半", "2026-11-27 15:30", ["2026-11-27 Fri 15:30"]),
    ("今天 23:30", "2026-11-25 23:30", ["2026-11-25 Wed 23:30"]),
    ("明天 晚上8点05分", "2026-11-26 20:05", ["2026-11-26 Thu 20:05"]),
    ("明天 中午1点", "2026-11-26 13:00", ["2026-11-26 Thu 13:00"]),
    ("明天 中午12点", "2026-11-26 12:00", ["2026-11-26 Thu 12:00"]),
    ("明天　０９：３０", "2026-11-26 09:30", ["2026-11-26 Thu 09:30"]),  # full-width
    ("后天上午10点", "2026-11-27 10:00", ["2026-11-27 Fri 10:00"]),
    # a bare time: once, today if still ahead, else tomorrow
    ("5:24", "2026-11-26 05:24", ["2026-11-26 Thu 05:24"]),
    ("23:30", "2026-11-25 23:30", ["2026-11-25 Wed 23:30"]),
    ("下午3点半", "2026-11-26 15:30", ["2026-11-26 Thu 15:30"]),
    # a weekday: the coming one (today if still ahead); 这周/本周: this week's; 下周: next week's
    ("周五下午3点", "2026-11-27 15:00", ["2026-11-27 Fri 15:00"]),
    ("星期三 23:00", "2026-11-25 23:00", ["2026-11-25 Wed 23:00"]),  # today, still ahead
    ("周三 9点", "2026-12-02 09:00", ["2026-12-02 Wed 09:00"]),  # today's has passed
    ("礼拜天 上午10点", "2026-11-29 10:00", ["2026-11-29 Sun 10:00"]),
    ("這週五 9:00", "2026-11-27 09:00", ["2026-11-27 Fri 09:00"]),
    ("本周日 下午3点", "2026-11-29 15:00", ["2026-11-29 Sun 15:00"]),
    ("下周一 9点", "2026-11-30 09:00", ["2026-11-30 Mon 09:00"]),
    ("下个星期一 上午9点", "2026-11-30 09:00", ["2026-11-30 Mon 09:00"]),
    ("下周五 9点", "2026-12-04 09:00", ["2026-12-04 Fri 09:00"]),
    ("下礼拜天 晚上8点", "2026-12-06 20:00", ["2026-12-06 Sun 20:00"]),
    # recurring: CronTrigger
    ("每天 08:30", "每天 08:30",
     ["2026-11-26 Thu 08:30", "2026-11-27 Fri 08:30", "2026-11-28 Sat 08:30"]),
    ("每日早上8点半", "每天 08:30", ["2026-11-26 Thu 08:30"]),
    ("工作日 09:00", "工作日 09:00",
     ["2026-11-26 Thu 09:00", "2026-11-27 Fri 09:00", "2026-11-30 Mon 09:00"]),
    ("每个工作日 上午9点", "工作日 09:00", ["2026-11-26 Thu 09:00"]),
    ("每周一 09:00", "每周一 09:00",
     ["2026-11-30 Mon 09:00", "2026-12-07 Mon 09:00", "2026-12-14 Mon 09:00"]),
    ("每週一 ９：００", "每周一 09:00", ["2026-11-30 Mon 09:00"]),
    ("每星期一 9点", "每周一 09:00", ["2026-11-30 Mon 09:00"]),
    ("每礼拜一 9时", "每周一 09:00", ["2026-11-30 Mon 09:00"]),
    ("每周一、三、五 9:00", "每周一、三、五 09:00",
     ["2026-11-27 Fri 09:00", "2026-11-30 Mon 09:00", "2026-12-02 Wed 09:00"]),
    ("每周一三五 9:00", "每周一、三、五 09:00", ["2026-11-27 Fri 09:00"]),
    ("每周五,周一 9:00", "每周一、五 09:00", ["2026-11-27 Fri 09:00", "2026-11-30 Mon 09:00"]),
    ("每周一至周五 9:00", "每周一至五 09:00", ["2026-11-26 Thu 09:00", "2026-11-27 Fri 09:00"]),
    ("每周二到四、日 下午3点", "每周二至四、日 15:00",
     ["2026-11-26 Thu 15:00", "2026-11-29 Sun 15:00", "2026-12-01 Tue 15:00"]),
    ("每周末 10点", "每周六、日 10:00", ["2026-11-28 Sat 10:00", "2026-11-29 Sun 10:00"]),
    ("每礼拜天 晚上8点", "每周日 20:00", ["2026-11-29 Sun 20:00"]),
    ("每月1日 09:00", "每月1日 09:00",
     ["2026-12-01 Tue 09:00", "2027-01-01 Fri 09:00", "2027-02-01 Mon 09:00"]),
    ("每月15号 上午10点", "每月15日 10:00", ["2026-12-15 Tue 10:00", "2027-01-15 Fri 10:00"]),
    ("每月15號 上午10點", "每月15日 10:00", ["2026-12-15 Tue 10:00"]),
    ("每月1、15日 9点", "每月1日、15日 09:00", ["2026-12-01 Tue 09:00", "2026-12-15 Tue 09:00"]),
    ("每月最后一天 19点", "每月最后一天 19:00",
     ["2026-11-30 Mon 19:00", "2026-12-31 Thu 19:00", "2027-01-31 Sun 19:00"]),
    ("每年6月1日 9:00", "每年6月1日 09:00", ["2027-06-01 Tue 09:00", "2028-06-01 Thu 09:00"]),
    # crontab, kept as written; its day of week counts 0 (and 7) = Sunday
    ("cron: 0 9 * * 1", "cron: 0 9 * * 1", ["2026-11-30 Mon 09:00", "2026-12-07 Mon 09:00"]),
    ("CRON：0  9 * * 1-5", "cron: 0 9 * * 1-5", ["2026-11-26 Thu 09:00", "2026-11-27 Fri 09:00"]),
    ("cron: 0 9 * * 0", "cron: 0 9 * * 0", ["2026-11-29 Sun 09:00"]),
    ("cron: 0 9 * * 7", "cron: 0 9 * * 7", ["2026-11-29 Sun 09:00"]),
    ("cron: 30 8 * * */2", "cron: 30 8 * * */2",
     ["2026-11-26 Thu 08:30", "2026-11-28 Sat 08:30", "2026-11-29 Sun 08:30"]),
    ("cron: 0 9 * * mon", "cron: 0 9 * * mon", ["2026-11-30 Mon 09:00"]),
    ("cron: 0 9-10 1 * *", "cron: 0 9-10 1 * *",
     ["2026-12-01 Tue 09:00", "2026-12-01 Tue 10:00", "2027-01-01 Fri 09:00"]),
    ("cron: 0 * * * *", "cron: 0 * * * *",  # hourly: the most often a rule may run
     ["2026-11-25 Wed 23:00", "2026-11-26 Thu 00:00", "2026-11-26 Thu 01:00"]),
    ("cron: 0 9 29 2 *", "cron: 0 9 29 2 *", ["2028-02-29 Tue 09:00", "2032-02-29 Sun 09:00"]),
    # an end date: the last day is included
    ("每天 8:30 至 2026-11-27", "每天 08:30 至 2026-11-27",
     ["2026-11-26 Thu 08:30", "2026-11-27 Fri 08:30"]),
    ("每周一 9点，截止到2026年12月7日", "每周一 09:00 至 2026-12-07",
     ["2026-11-30 Mon 09:00", "2026-12-07 Mon 09:00"]),
    ("cron: 0 9 * * 0 到 2026-12-06", "cron: 0 9 * * 0 至 2026-12-06",
     ["2026-11-29 Sun 09:00", "2026-12-06 Sun 09:00"]),
]


@pytest.mark.parametrize(("text", "canonical", "expected"), CASES)
def test_parses_to_canonical_text_and_next_runs(
    text: str, canonical: str, expected: list[str]
) -> None:
    rule = parse_schedule(text, SHANGHAI, NOW)
    assert rule.text == canonical
    assert runs(rule, len(expected)) == expected
    assert rule.recurring == (not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", canonical))
    if rule.recurring:
        assert isinstance(rule.trigger, WorkdayTrigger if "工作日" in canonical else CronTrigger)
        assert rule.trigger.timezone == SHANGHAI
    else:
        assert isinstance(rule.trigger, DateTrigger)
        assert rule.trigger.run_date.tzinfo == SHANGHAI
        assert rule.next_runs(NOW, 5) == rule.next_runs(NOW, 1)  # once only


@pytest.mark.parametrize("canonical", sorted({canonical for _, canonical, _ in CASES}))
def test_canonical_text_round_trips(canonical: str) -> None:
    assert parse_schedule(canonical, SHANGHAI, NOW).text == canonical


def test_end_date_stops_the_runs() -> None:
    rule = parse_schedule("每天 8:30 至 2026-11-27", SHANGHAI, NOW)
    assert len(rule.next_runs(NOW, 10)) == 2


def test_month_days_missing_from_short_months_are_skipped_as_apscheduler_does() -> None:
    after = datetime(2027, 1, 15, tzinfo=SHANGHAI)
    rule = parse_schedule("每月31日 09:00", SHANGHAI, NOW)
    assert runs(rule, 4, after) == ["2027-01-31 Sun 09:00", "2027-03-31 Wed 09:00",
                                    "2027-05-31 Mon 09:00", "2027-07-31 Sat 09:00"]
    assert "每月最后一天" in rule.note  # and the admin is told so
    last = parse_schedule("每月最后一天 09:00", SHANGHAI, NOW)
    assert runs(last, 4, after) == ["2027-01-31 Sun 09:00", "2027-02-28 Sun 09:00",
                                    "2027-03-31 Wed 09:00", "2027-04-30 Fri 09:00"]
    assert last.note == ""
    assert runs(parse_schedule("每月30日 9:00", SHANGHAI, NOW), 2, after) == [
        "2027-01-30 Sat 09:00", "2027-03-30 Tue 09:00"]
    leap = parse_schedule("每年2月29日 9:00", SHANGHAI, NOW)
    assert runs(leap, 2) == ["2028-02-29 Tue 09:00", "2032-02-29 Sun 09:00"]
    assert leap.note == "只在闰年发送"
    assert parse_schedule("每年1月31日 9:00", SHANGHAI, NOW).note == ""


def test_allow_past_keeps_a_sent_one_off_post_loadable() -> None:
    rule = parse_schedule("2020-01-01 09:00", SHANGHAI, NOW, allow_past=True)
    assert rule.text == "2020-01-01 09:00"
    assert rule.next_runs(NOW) == []


def test_now_is_read_in_the_given_timezone() -> None:
    # 17:00 UTC on 30 Nov is already 1 Dec in Shanghai: 明天 is 2 Dec
    utc_now = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert parse_schedule("明天 9:00", SHANGHAI, utc_now).text == "2026-12-02 09:00"
    # a naive now is Shanghai wall-clock time, whatever the host's zone
    assert parse_schedule("明天 9:00", SHANGHAI, datetime(2026, 11, 30, 17, 0)).text == (
        "2026-12-01 09:00")
    rule = parse_schedule("每天 9:00", SHANGHAI, NOW)
    assert rule.next_runs(datetime(2026, 12, 1, 8, 0), 1) == [
        datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)]


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def host_tz(request: pytest.FixtureRequest) -> Iterator[str]:
    """The process's local time zone set to `param`, as on a server abroad."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_host_timezone_does_not_move_the_runs(host_tz: str) -> None:
    assert datetime(2026, 7, 1).astimezone().utcoffset() == (
        datetime(2026, 7, 1, tzinfo=ZoneInfo(host_tz)).utcoffset())  # the host TZ took effect
    # the New York host is in summer time on 1 Nov and in winter time after 2 Nov
    after = datetime(2026, 10, 25, 12, 0, tzinfo=SHANGHAI)
    for text in ("每周一 09:00", "cron: 0 9 * * 1", "工作日 9点"):
        rule = parse_schedule(text, SHANGHAI, after)
        for run in rule.next_runs(after, 3):
            assert (run.astimezone(SHANGHAI).hour, run.astimezone(SHANGHAI).minute) == (9, 0)
            assert run.astimezone(UTC).hour == 1
    once = parse_schedule("明天 9:00", SHANGHAI, datetime.now(UTC))
    assert once.next_runs(datetime.now(UTC))[0].astimezone(UTC).hour == 1
    assert runs(parse_schedule("每周一 9点", SHANGHAI, NOW), 1, NOW) == ["2026-11-30 Mon 09:00"]


def test_the_given_timezone_keeps_its_wall_clock_across_its_own_dst() -> None:
    new_york = ZoneInfo("America/New_York")
    rule = parse_schedule("每天 09:00", new_york, datetime(2027, 3, 12, 12, 0, tzinfo=new_york))
    times = rule.next_runs(datetime(2027, 3, 12, 12, 0, tzinfo=new_york), 3)
    assert [f"{run:%m-%d %H:%M}" for run in times] == ["03-13 09:00", "03-14 09:00", "03-15 09:00"]
    assert [run.astimezone(UTC).hour for run in times] == [14, 13, 13]  # EST, then EDT


FRIDAY_MORNING = datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("now", "text", "canonical"), [
    # on a Friday morning "周五下午3点" is this afternoon ...
    (FRIDAY_MORNING, "周五下午3点", "2026-11-27 15:00"),
    (FRIDAY_MORNING, "这周五 下午3点", "2026-11-27 15:00"),
    (FRIDAY_MORNING, "下周五 下午3点", "2026-12-04 15:00"),
    # ... and once 15:00 has passed, next Friday (the reply shows the date it chose)
    (FRIDAY_MORNING.replace(hour=16), "周五下午3点", "2026-12-04 15:00"),
    (FRIDAY_MORNING.replace(hour=16), "下周五 下午3点", "2026-12-04 15:00"),
    # on a Sunday, 下周 is the week starting tomorrow
    (datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI), "下周一 9点", "2026-11-30 09:00"),
    (datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI), "周一 9点", "2026-11-30 09:00"),
    (datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI), "周日 9点", "2026-12-06 09:00"),
    # a bare time just passed is tomorrow's
    (FRIDAY_MORNING, "9:00", "2026-11-28 09:00"),
    (FRIDAY_MORNING, "9:01", "2026-11-27 09:01"),
])
def test_weekdays_and_bare_times_mean_the_next_such_moment(
    now: datetime, text: str, canonical: str
) -> None:
    rule = parse_schedule(text, SHANGHAI, now)
    assert rule.text == canonical and not rule.recurring
    assert parse_schedule(canonical, SHANGHAI, now).text == canonical


def test_this_weeks_day_once_past_is_an_error_that_names_the_date() -> None:
    with pytest.raises(ScheduleError, match="2026-11-27 15:00 已经过去了（现在是 2026-11-27 16:00）"):
        parse_schedule("这周五 下午3点", SHANGHAI, FRIDAY_MORNING.replace(hour=16))


@given(
    which=st.sampled_from(["", "这", "本", "下", "下个"]),
    word=st.sampled_from(["周", "星期", "礼拜"]),
    day=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    ahead_minutes=st.integers(0, 7 * 24 * 60 - 1),
)
def test_any_weekday_phrase_lands_on_that_day_in_the_week_it_names(
    which: str, word: str, day: int, hour: int, minute: int, ahead_minutes: int
) -> None:
    now = datetime(2026, 11, 23, 0, 0, tzinfo=SHANGHAI) + timedelta(minutes=ahead_minutes)
    text = f"{which}{word}{'一二三四五六日'[day]} {hour}:{minute:02d}"
    try:
        rule = parse_schedule(text, SHANGHAI, now)
    except ScheduleError as error:  # only this week's day, once past
        assert which in ("这", "本") and "已经过去了" in str(error)
        return
    [run] = rule.next_runs(now, 3)
    assert (run.weekday(), run.hour, run.minute) == (day, hour, minute) and run > now
    this_monday = now.date() - timedelta(days=now.weekday())
    weeks_ahead = (run.date() - this_monday).days // 7
    if which:
        assert weeks_ahead == (1 if which.startswith("下") else 0)
    else:
        assert run - now <= timedelta(days=7)
    assert parse_schedule(rule.text, SHANGHAI, now).text == rule.text


@given(hour=st.integers(0, 23), minute=st.integers(0, 59), ahead_minutes=st.integers(0, 24 * 60 - 1))
def test_a_bare_time_is_once_within_the_next_day(hour: int, minute: int, ahead_minutes: int) -> None:
    now = datetime(2026, 11, 25, 0, 0, 30, tzinfo=SHANGHAI) + timedelta(minutes=ahead_minutes)
    rule = parse_schedule(f"{hour}:{minute:02d}", SHANGHAI, now)
    [run] = rule.next_runs(now, 3)
    assert (run.hour, run.minute) == (hour, minute) and timedelta(0) < run - now <= timedelta(days=1)


# --- 工作日: China's official calendar (chinesecalendar) -------------------------------------

def days(rule: ScheduleRule, count: int, after: datetime) -> list[str]:
    return [f"{run:%m-%d %a}" for run in rule.next_runs(after, count)]


def test_workdays_skip_the_2026_national_day_holiday_and_work_the_make_up_days() -> None:
    rule = parse_schedule("工作日 9点", SHANGHAI, NOW)
    # 中秋 25-27 Sep and 国庆 1-7 Oct are off; Sunday 20 Sep and Saturday 10 Oct are worked (调休)
    assert days(rule, 12, datetime(2026, 9, 18, 12, 0, tzinfo=SHANGHAI)) == [
        "09-20 Sun", "09-21 Mon", "09-22 Tue", "09-23 Wed", "09-24 Thu", "09-28 Mon",
        "09-29 Tue", "09-30 Wed", "10-08 Thu", "10-09 Fri", "10-10 Sat", "10-12 Mon"]
    assert "调休" in rule.note and rule.text == "工作日 09:00"


def test_workdays_follow_chinesecalendar_for_every_day_of_2026() -> None:
    rule = parse_schedule("工作日 08:30", SHANGHAI, NOW)
    start = datetime(2025, 12, 31, 12, 0, tzinfo=SHANGHAI)
    runs_2026 = [run.date() for run in rule.next_runs(start, 366) if run.year == 2026]
    every_day = [start.date() + timedelta(days=n) for n in range(1, 366)]
    assert runs_2026 == [day for day in every_day if chinese_calendar.is_workday(day)]
    assert len(runs_2026) < len([day for day in every_day if day.weekday() < 5])  # holidays off


def test_a_catch_up_over_the_holiday_sees_only_real_workdays() -> None:
    """The scheduler's catch-up and _fire read fire_times: the same calendar."""
    since, until = (datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI),
                    datetime(2026, 10, 12, 12, 0, tzinfo=SHANGHAI))
    rule = parse_schedule("工作日 9点 至 2026-10-10", SHANGHAI, since)
    assert [f"{run:%m-%d %H:%M}" for run in fire_times(rule.trigger, since, until=until)] == [
        "10-08 09:00", "10-09 09:00", "10-10 09:00"]  # and none after the end date
    assert parse_schedule(rule.text, SHANGHAI, since).text == "工作日 09:00 至 2026-10-10"


def test_a_year_the_calendar_does_not_know_falls_back_to_monday_to_friday() -> None:
    rule = parse_schedule("工作日 9点", SHANGHAI, NOW)
    assert isinstance(rule.trigger, WorkdayTrigger)
    told: list[int] = []
    rule.trigger.on_unknown_year = told.append
    # 2099-12-29 is a Tuesday; 1 January 2100 a Friday (a holiday, but nobody can know yet)
    assert days(rule, 5, datetime(2099, 12, 29, 12, 0, tzinfo=SHANGHAI)) == [
        "12-30 Wed", "12-31 Thu", "01-01 Fri", "01-04 Mon", "01-05 Tue"]
    assert set(told) == {2099, 2100}  # the scheduler tells the admins once per year
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # while known years stay official
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2099, 12, 30))


ERRORS = [
    ("每周八 9点", "“八”不是星期几"),
    ("每周 9点", "后面要写星期几"),
    ("每周五至一 9点", "不是星期几"),
    ("明天 25:00", "“25:00”不是有效的时间"),
    ("明天 9:60", "分钟在 0–59 之间"),
    ("明天 上午13点", "上午只到12点"),
    ("明天 晚上12点", "00:00"),
    ("下周", "看不懂“下周”"),
    ("明天", "看不懂"),
    ("周八 9点", "看不懂"),
    ("下周一", "看不懂"),
    ("这周一 9点", "2026-11-23 09:00 已经过去了"),
    ("", "没有写发送时间"),
    ("   ", "没有写发送时间"),
    ("2020-01-01 09:00", "已经过去了（现在是 2026-11-25 22:10）"),
    ("今天 9:00", "已经过去了"),
    ("2026-02-30 9:00", "2026年没有2月30日"),
    ("每年2月30日 9点", "没有2月30日"),
    ("每月32日 9点", "“32”不是每月的哪一天"),
    ("每月0日 9点", "不是每月的哪一天"),
    ("每月31点", "看不懂"),
    ("cron: 0 9 * *", "5 段"),
    ("cron: 0 9 * * 8", "星期一段“8”"),
    ("cron: 61 9 * * 1", "cron 表达式“cron: 61 9 * * 1”写得不对"),
    # never runs: no such day
    ("cron: 0 9 30 2 *", "“cron: 0 9 30 2 *”永远不会发送：没有哪一天符合这些日期"),
    ("cron: 0 9 31 4,6,9,11 *", "永远不会发送"),
    ("cron: 0 9 30,31 2 1-5", "永远不会发送"),
    ("cron: 0 9 30 2 * 至 2030-01-01", "永远不会发送"),
    ("每月31日 9:00 至 2026-12-05", "在截止日期前一次也不会发送"),  # 30 Nov, then past the end
    # more often than hourly: a group of 150 must not get a post every minute
    ("cron: * * * * *", "“cron: * * * * *”一小时内发 60 次（最短相隔 1 分钟），定时最多每小时发一次"),
    ("cron: */30 9-10 1 * *", "一小时内发 2 次（最短相隔 30 分钟）"),
    ("cron: 0,59 * * * *", "最短相隔 59 分钟"),
    ("cron: 0-1 9 1 1 *", "一小时内发 2 次"),
    ("每天 9点 至 2020-01-01", "截止日期 2020-01-01 已经过去了"),
    ("明天 9点 至 2026-12-31", "只发一次的时间不用写截止日期"),
]


@pytest.mark.parametrize(("text", "problem"), ERRORS)
def test_errors_say_what_is_wrong_in_chinese_with_working_examples(
    text: str, problem: str
) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, SHANGHAI, NOW)
    message = str(caught.value)
    assert problem in message
    assert "。例如：" in message
    assert message.endswith(caught.value.example)
    # every example offered actually works (the parenthesis explains the cron fields)
    for example in re.sub(r"（.*?）", "", caught.value.example).split("、"):
        parse_schedule(example, SHANGHAI, NOW)


def test_the_general_example_uses_a_future_date() -> None:
    with pytest.raises(ScheduleError, match="例如：每周一 09:00、明天 9:00、2026-12-01 09:00"):
        parse_schedule("下周", SHANGHAI, NOW)
    with pytest.raises(ScheduleError, match="2031-01-01 09:00"):
        parse_schedule("下周", SHANGHAI, datetime(2030, 12, 31, 23, 0, tzinfo=SHANGHAI))


# --- properties ----------------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789: ", "０１２３４５６７８９：　")


@given(
    days=st.sets(st.integers(0, 6), min_size=1),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    word=st.sampled_from(["周", "星期", "礼拜", "週", "禮拜"]),
    separator=st.sampled_from(["、", ",", "，", "和", ""]),
    repeat=st.booleans(),
    clock=st.sampled_from(["{h}:{m:02d}", "{h}点{m}分", "{h:02d}:{m:02d}"]),
    full_width=st.booleans(),
)
def test_any_weekly_rule_runs_on_its_days_at_its_time(
    days: set[int], hour: int, minute: int, word: str, separator: str, repeat: bool,
    clock: str, full_width: bool,
) -> None:
    """每周一、三 / 每星期一,星期三 / 每周一三 ... in half- or full-width, any time."""
    listed = separator.join((word if repeat else "") + "一二三四五六日"[day] for day in sorted(days))
    text = f"每{'' if repeat else word}{listed} {clock.format(h=hour, m=minute)}"
    if full_width:
        text = text.translate(FULL_WIDTH)
    rule = parse_schedule(text, SHANGHAI, NOW)
    assert parse_schedule(rule.text, SHANGHAI, NOW).text == rule.text
    upcoming = rule.next_runs(NOW, 2 * len(days))
    assert {run.weekday() for run in upcoming} == days
    assert {(run.hour, run.minute) for run in upcoming} == {(hour, minute)}
    assert upcoming == sorted(upcoming) and all(run > NOW for run in upcoming)
    assert all(run.tzinfo == SHANGHAI for run in upcoming)


@given(minutes=st.integers(1, 5 * 366 * 24 * 60), chinese=st.booleans())
def test_any_future_moment_is_one_run_at_that_moment(minutes: int, chinese: bool) -> None:
    moment = NOW + timedelta(minutes=minutes)
    text = (f"{moment.year}年{moment.month}月{moment.day}日 {moment.hour}点{moment.minute}分"
            if chinese else f"{moment:%Y/%m/%d %H:%M}")
    rule = parse_schedule(text, SHANGHAI, NOW)
    assert rule.text == f"{moment:%Y-%m-%d %H:%M}"
    assert rule.next_runs(NOW, 3) == [moment]


@given(st.text(alphabet="每周月年天日号点时半:：0123456789 一二三五七八至、下午晚上明后今cron*-/,", max_size=24))
def test_any_text_gives_a_rule_that_round_trips_or_a_schedule_error(text: str) -> None:
    try:
        rule = parse_schedule(text, SHANGHAI, NOW)
    except ScheduleError as error:
        assert "例如：" in str(error)
    else:
        assert parse_schedule(rule.text, SHANGHAI, NOW).text == rule.text
        assert all(run > NOW for run in rule.next_runs(NOW, 2))


# --- schedules that never run, or run too often -------------------------------------------

def test_a_schedule_that_never_runs_is_refused_without_a_long_search() -> None:
    """APScheduler alone searched to the year 9999 (0.2-0.7 s of blocked loop per reload)."""
    started = time.process_time()
    for _ in range(5):
        with pytest.raises(ScheduleError, match="永远不会发送"):
            parse_schedule("cron: 0 9 31 2,4,6,9,11 *", SHANGHAI, NOW)
    assert (time.process_time() - started) / 5 < 0.05


def test_a_post_file_that_once_ran_too_often_or_never_still_says_why() -> None:
    """Post files are read with allow_past: the limits hold there too."""
    for text, problem in (("cron: */5 * * * *", "最短相隔 5 分钟"), ("cron: 0 9 30 2 *", "永远不会")):
        with pytest.raises(ScheduleError, match=problem):
            parse_schedule(text, SHANGHAI, NOW, allow_past=True)
    # an end date already past is a finished series, not a mistake
    done = parse_schedule("每天 8:30 至 2020-01-01", SHANGHAI, NOW, allow_past=True)
    assert done.next_runs(NOW) == []


MINUTE_FIELDS = st.sampled_from(["*", "0", "30", "59", "*/15", "*/30", "*/59", "0,30", "0,59",
                                 "5-6", "0-59/45", "7"])
HOUR_FIELDS = st.sampled_from(["*", "9", "9-10", "8,20", "*/2", "23", "0,23", "*/7"])


@given(minute=MINUTE_FIELDS, hour=HOUR_FIELDS, month_day=st.sampled_from(["*", "1", "31", "1,15"]))
def test_any_cron_rule_accepted_runs_at_most_hourly(minute: str, hour: str, month_day: str) -> None:
    text = f"cron: {minute} {hour} {month_day} * *"
    trigger = CronTrigger(minute=minute, hour=hour, day=month_day, timezone=SHANGHAI)
    upcoming = fire_times(trigger, NOW, count=60)
    shortest = min(b - a for a, b in pairwise(upcoming))
    try:
        rule = parse_schedule(text, SHANGHAI, NOW)
    except ScheduleError as error:
        assert "定时最多每小时发一次" in str(error)
        assert shortest < timedelta(hours=1)
    else:
        assert rule.next_runs(NOW, 60) == upcoming
        assert shortest >= timedelta(hours=1)


@given(day=st.integers(1, 31), month=st.integers(1, 12))
def test_a_cron_day_is_refused_exactly_when_no_year_has_it(day: int, month: int) -> None:
    try:
        rule = parse_schedule(f"cron: 0 9 {day} {month} *", SHANGHAI, NOW)
    except ScheduleError as error:
        assert "永远不会发送" in str(error)
        with pytest.raises(ValueError):
            date(2000, month, day)  # 2000 is a leap year: 2月29日 exists
    else:
        [run] = rule.next_runs(NOW, 1)
        assert (run.month, run.day) == (month, day)
