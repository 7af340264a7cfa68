"""The console's 日历: the coming runs by month and by week, China's holidays and make-up working
days marked, paused and unreviewed posts left out. Over real HTTP to a bot on the simulator."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html

from bot.simulator import Simulator
from tests.conftest import RunningBot, settings_for, write_post
from tests.web_helpers import console_client, signed_in

SECRETARY, ADMIN = "wxid_secretary_liu", "wxid_admin_wang"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_month() -> date:
    today = datetime.now(SHANGHAI).date()
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


def days_of(month: date) -> list[date]:
    return [month.replace(day=n) for n in range(1, calendar.monthrange(month.year, month.month)[1] + 1)]


def cell(html: str, day: date) -> str:
    """What a person reads in the calendar on `day`."""
    return str(lxml.html.fromstring(html).get_element_by_id(f"day-{day.isoformat()}").text_content())


async def start(tmp_path: Path, simulator: Simulator, start_bot: Any) -> RunningBot:
    write_post(tmp_path, "weekly", 'title = "周一例会通知"\nschedule = "每周一 09:00"', "例会。")
    write_post(tmp_path, "paused", 'title = "暂停的通知"\nschedule = "每天 10:00"\npaused = true', "停。")
    write_post(tmp_path, "draft", 'title = "待核对的通知"\nschedule = "每天 11:00"\nreview = ["第二段可能缺字"]',
               "草稿。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    return running


async def test_a_weekly_post_shows_on_every_monday_of_next_month_and_paused_or_unreviewed_ones_nowhere(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    month = next_month()
    async with signed_in(running, simulator, SECRETARY) as client:
        page = await client.get(f"/calendar?month={month:%Y-%m}")
        assert page.status_code == 200
        assert f"{month.year}年{month.month}月" in page.text
        for day in days_of(month):
            shown = "09:00 周一例会通知" in cell(page.text, day)
            assert shown == (day.weekday() == 0), day
        assert 'href="/posts/weekly"' in page.text
        assert "暂停的通知" not in page.text and "待核对的通知" not in page.text

        monday = next(day for day in days_of(month) if day.weekday() == 0)
        week = await client.get(f"/calendar?view=week&day={monday + timedelta(days=2):%Y-%m-%d}")
        assert week.status_code == 200
        assert "09:00 周一例会通知" in cell(week.text, monday)
        for later in range(1, 7):
            assert "周一例会通知" not in cell(week.text, monday + timedelta(days=later))


async def test_holidays_and_make_up_working_days_are_marked_in_chinese(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        january = (await client.get("/calendar?month=2026-01")).text
        assert "元旦 休" in cell(january, date(2026, 1, 1))
        assert "调休上班" in cell(january, date(2026, 1, 4))  # a Sunday worked for 元旦
        assert "休" not in cell(january, date(2026, 1, 5)) and "调休" not in cell(january, date(2026, 1, 5))
        october = (await client.get("/calendar?month=2026-10")).text
        assert "国庆节 休" in cell(october, date(2026, 10, 1))
        assert "调休上班" in cell(october, date(2026, 10, 10))
        february = (await client.get("/calendar?view=week&day=2026-02-16")).text
        assert "春节 休" in cell(february, date(2026, 2, 17))
        unknown = (await client.get("/calendar?month=2099-01")).text
        assert "程序还没有 2099 年的法定节假日安排" in unknown
        assert "程序还没有" not in january


async def test_today_is_highlighted_and_a_full_day_says_how_many_more(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    for n in range(8):
        write_post(tmp_path, f"daily-{n}", f'title = "每日提醒{n}"\nschedule = "每天 08:{n:02d}"', "提醒。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    month = next_month()
    async with signed_in(running, simulator, SECRETARY) as client:
        page = (await client.get(f"/calendar?month={month:%Y-%m}")).text
        first = cell(page, month)
        assert "08:00 每日提醒0" in first and "08:04 每日提醒4" in first
        assert "每日提醒5" not in first and "另有 3 条" in first
        week = (await client.get(f"/calendar?view=week&day={month:%Y-%m-%d}")).text
        assert "08:07 每日提醒7" in cell(week, month)

        now = (await client.get("/calendar")).text
        today = datetime.now(SHANGHAI).date()
        highlighted = lxml.html.fromstring(now).xpath('//li[@aria-current="date"]')
        assert [element.get("id") for element in highlighted] == [f"day-{today.isoformat()}"]
        assert "今天" in cell(now, today)


async def test_a_date_the_page_cannot_read_shows_this_month_and_says_so(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        page = await client.get("/calendar?month=2026-13")
        assert page.status_code == 200
        assert "看不懂“2026-13”这个日期" in page.text
        today = datetime.now(SHANGHAI).date()
        assert f"{today.year}年{today.month}月" in page.text
    async with console_client(running) as stranger:
        refused = await stranger.get("/calendar")
        assert refused.status_code == 401 and "#后台" in refused.text and "周一例会通知" not in refused.text
