"""日历: the coming runs of the scheduled posts by month (?month=2026-12) or by week
(?view=week&day=2026-12-07), with China's public holidays and make-up working days marked.
Secretaries and admins, as #公告列表."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.chinese_time import WEEKDAYS
from bot.web.calendar_days import RunCalendar, unknown_years
from bot.web.context import Web

SHOWN_IN_MONTH = 5  # runs listed in a day of the month; the rest are "另有 N 条"
SHOWN_IN_WEEK = 50
YEARS = range(2000, 2100)  # what the page moves between; the official calendar starts 2004
WEEKS = calendar.Calendar(firstweekday=calendar.MONDAY)


@dataclass(frozen=True)
class View:
    """What the page shows: its days, the range they belong to, and where to move next."""

    week: bool
    dates: list[date]
    first: date  # of the month or the week
    last: date
    heading: str
    previous: str  # URLs
    following: str
    current: str
    other: str  # the same time, in the other view


def month_view(month: date) -> View:
    dates = [day for week in WEEKS.monthdatescalendar(month.year, month.month) for day in week]
    last = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    before, after = month - timedelta(days=1), last + timedelta(days=1)
    return View(False, dates, month, last, f"{month.year}年{month.month}月",
                f"/calendar?month={before:%Y-%m}", f"/calendar?month={after:%Y-%m}",
                "/calendar", f"/calendar?view=week&day={month:%Y-%m-%d}")


def week_view(day: date) -> View:
    monday = day - timedelta(days=day.weekday())
    sunday = monday + timedelta(days=6)
    dates = [monday + timedelta(days=n) for n in range(7)]
    return View(True, dates, monday, sunday,
                f"{monday.year}年{monday.month}月{monday.day}日 – {sunday.month}月{sunday.day}日",
                f"/calendar?view=week&day={monday - timedelta(days=7):%Y-%m-%d}",
                f"/calendar?view=week&day={monday + timedelta(days=7):%Y-%m-%d}",
                "/calendar?view=week", f"/calendar?month={day:%Y-%m}")


def chosen_view(request: Request, today: date) -> tuple[View, str]:
    """The view the query asks for, or this month/week with a sentence saying why."""
    week = request.query_params.get("view") == "week"
    asked = request.query_params.get("day" if week else "month", "")
    if not asked:
        return (week_view(today) if week else month_view(today.replace(day=1))), ""
    try:
        chosen = date.fromisoformat(asked if week else f"{asked}-01")
        if chosen.year not in YEARS:
            raise ValueError(asked)
    except ValueError:
        unit = "周" if week else "月"
        example = f"{today:%Y-%m-%d}" if week else f"{today:%Y-%m}"
        return ((week_view(today) if week else month_view(today.replace(day=1))),
                f"看不懂“{asked[:20]}”这个日期（应写成 {example}），显示的是本{unit}。")
    return (week_view(chosen) if week else month_view(chosen)), ""


def routes(web: Web) -> list[BaseRoute]:
    runs = RunCalendar(web.tz)

    async def calendar_page(request: Request) -> Response:
        viewer = web.viewer(request)
        now = web.now().astimezone(web.tz)
        view, problem = chosen_view(request, now.date())
        days = runs.days(web.desk.posts(), view.dates, (view.first, view.last), now,
                         SHOWN_IN_WEEK if view.week else SHOWN_IN_MONTH)
        return web.page(request, "calendar.html", viewer, view=view, days=days, problem=problem,
                        weekdays=WEEKDAYS,
                        unknown_years=unknown_years([d for d in view.dates
                                                     if view.first <= d <= view.last]),
                        any_runs=any(day.runs for day in days if day.in_range))

    return [Route("/calendar", calendar_page)]
