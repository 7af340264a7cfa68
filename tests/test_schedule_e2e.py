"""Scheduling as the secretariat writes it, end to end: the #定时 reply with its next runs,
工作日 by China's official calendar (and the admins told once when a year is unknown), and the
admins' receipt after a scheduled post goes out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

from bot.app import ChamberBot
from bot.core.chinese_time import day_and_time
from bot.core.config import Settings
from bot.simulator import SentMessage, Simulator
from tests.conftest import PRESIDENTS, RunningBot, settings_for, write_post
from tests.webhook_receiver import WebhookReceiver

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = "wxid_admin_wang"
MEETING = ('title = "12月1日会长办公会通知"', "各位会长：\n\n定于12月1日上午9点召开会长办公会。")
WORKDAY_NOTE = "（注意：按国家法定节假日和调休安排：放假的日子不发，调休上班的周末照发）"


def to(chat: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.conversation_id == chat


async def ask(simulator: Simulator, text: str) -> str:
    """The admin says `text` privately; the bot's next private message to the admin."""
    await simulator.say(ADMIN, text)
    return (await simulator.wait_for_sent(to(ADMIN))).text


def to_admin(simulator: Simulator, starting: str) -> list[str]:
    return [sent.text for sent in simulator.sent
            if sent.conversation_id == ADMIN and sent.text.startswith(starting)]


async def everything_before_is_sent(simulator: Simulator) -> None:
    """The outbox sends in order: once this reply arrives, what was queued before it has too."""
    await simulator.say(ADMIN, "#我的ID")
    await simulator.wait_for_sent(lambda sent: sent.text.startswith(f"您的微信ID：{ADMIN}"))


@asynccontextmanager
async def bot_at(settings: Settings, clock: Callable[[], datetime]) -> AsyncIterator[ChamberBot]:
    """A bot whose clock is `clock` (APScheduler's own timer keeps the real time)."""
    bot = ChamberBot(settings, clock=clock)
    task = asyncio.create_task(bot.run())
    try:
        async with asyncio.timeout(15):
            await bot.connection.logged_in.wait()
        yield bot
    finally:
        await bot.stop()
        async with asyncio.timeout(10):
            await task


# --- #定时: the reply names the runs ----------------------------------------------------------

async def test_a_bare_time_or_a_weekday_is_once_and_the_reply_names_the_day(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    path = write_post(tmp_path, "meeting", *MEETING)
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    now = datetime.now(SHANGHAI)
    # An hour ago's time of day: today's has passed, so it is tomorrow's.
    earlier = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
    expected = earlier + timedelta(days=1)
    reply = await ask(simulator, f"#定时 meeting {earlier.hour}:{earlier.minute:02d}")
    assert reply == f"已定时“12月1日会长办公会通知”：{day_and_time(expected)}，只发一次。"
    assert f'schedule = "{expected:%Y-%m-%d %H:%M}"' in path.read_text(encoding="utf-8")
    assert running.bot.scheduler.next_run("meeting") == expected

    next_monday = (now + timedelta(days=7 - now.weekday())).replace(
        hour=9, minute=0, second=0, microsecond=0)
    reply = await ask(simulator, "#定时 meeting 下周一 9点")
    assert reply == f"已定时“12月1日会长办公会通知”：{day_and_time(next_monday)}，只发一次。"
    assert running.bot.scheduler.next_run("meeting") == next_monday


async def test_workdays_reply_with_the_next_three_runs_past_the_national_day(
    tmp_path: Path, simulator: Simulator
) -> None:
    write_post(tmp_path, "meeting", *MEETING)
    settings = settings_for(simulator.endpoint, home=tmp_path)
    async with bot_at(settings, lambda: datetime(2026, 9, 30, 12, 0, tzinfo=SHANGHAI)):
        # 1-7 October off, Saturday 10 October worked (调休)
        assert await ask(simulator, "#定时 meeting 工作日 9点") == (
            "已定时“12月1日会长办公会通知”：工作日 09:00。下次：2026-10-08 周四 09:00，"
            "之后：2026-10-09 周五 09:00、2026-10-10 周六 09:00" + WORKDAY_NOTE)
        assert await ask(simulator, "#定时 meeting 每周一 9点") == (
            "已定时“12月1日会长办公会通知”：每周一 09:00。下次：2026-10-05 周一 09:00，"
            "之后：2026-10-12 周一 09:00、2026-10-19 周一 09:00")


async def test_a_year_without_an_official_calendar_is_told_to_the_admins_once(
    tmp_path: Path, simulator: Simulator
) -> None:
    write_post(tmp_path, "meeting", *MEETING)
    settings = settings_for(simulator.endpoint, home=tmp_path)
    clock = lambda: datetime(2099, 12, 29, 10, 0, tzinfo=SHANGHAI)  # noqa: E731
    unknown = "chinesecalendar 还没有 "
    async with bot_at(settings, clock):
        assert await ask(simulator, "#定时 meeting 工作日 9点") == (
            "已定时“12月1日会长办公会通知”：工作日 09:00。下次：2099-12-30 周三 09:00，"
            "之后：2099-12-31 周四 09:00、2100-01-01 周五 09:00" + WORKDAY_NOTE)
        told = [(await simulator.wait_for_sent(lambda s: s.text.startswith(unknown))).text
                for _ in range(2)]
        assert sorted(told) == [
            f"chinesecalendar 还没有 {year} 年的法定节假日和调休安排（只收录到 2026 年），"
            f"{year} 年的“工作日”定时暂按周一至周五发送。国务院公布安排后，"
            "请运维人员升级 chinesecalendar（pip install -U chinesecalendar）并重启机器人。"
            for year in (2099, 2100)]
        # more runs and look-aheads in those years: nothing more
        assert "下次：2099-12-30 周三 10:00" in await ask(simulator, "#定时 meeting 工作日 10点")
        await everything_before_is_sent(simulator)
        assert len(to_admin(simulator, unknown)) == 2
    async with bot_at(settings, clock):  # nor after a restart
        assert "下次：2099-12-30 周三 09:00" in await ask(simulator, "#定时 meeting 工作日 9点")
        await everything_before_is_sent(simulator)
        assert len(to_admin(simulator, unknown)) == 2


# --- receipts ------------------------------------------------------------------------------

@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    yield server
    await server.stop()


async def schedule_seconds_ahead(simulator: Simulator, running: RunningBot, post_id: str,
                                 title: str) -> tuple[datetime, asyncio.Event]:
    """The admin schedules the post three seconds ahead; the event is set once its run ends."""
    ended = asyncio.Event()

    def on_executed(event: JobExecutionEvent) -> None:
        if event.job_id == f"post:{post_id}":
            ended.set()

    running.bot.scheduler.aps.add_listener(on_executed, EVENT_JOB_EXECUTED)
    due = (datetime.now(SHANGHAI) + timedelta(seconds=3)).replace(microsecond=0)
    reply = await ask(simulator, f"#定时 {post_id} {due:%Y-%m-%d %H:%M:%S}")
    assert reply == f"已定时“{title}”：{day_and_time(due)}，只发一次。"
    return due, ended


@pytest.mark.parametrize("receipts", [True, False])
async def test_a_scheduled_post_gives_the_admins_one_receipt_and_the_webhook_nothing(
    tmp_path: Path, simulator: Simulator, start_bot: Any, receiver: WebhookReceiver,
    receipts: bool,
) -> None:
    write_post(tmp_path, "ontime", 'title = "准点公告"', "九点整发出。")
    running: RunningBot = await start_bot(settings_for(
        simulator.endpoint, home=tmp_path, announcements={"receipts": receipts},
        alerts={"webhook_url": receiver.url, "format": "json"}))
    due, ended = await schedule_seconds_ahead(simulator, running, "ontime", "准点公告")

    assert (await simulator.wait_for_sent(to(PRESIDENTS), timeout=15)).text == "准点公告\n\n九点整发出。"
    async with asyncio.timeout(10):
        await ended.wait()
    await everything_before_is_sent(simulator)
    expected = [f"定时公告已发出：“准点公告”（ontime），{day_and_time(due)}，1 条发到 1 个群。"]
    assert to_admin(simulator, "定时公告") == (expected if receipts else [])

    await simulator.say(ADMIN, "#发布 ontime 再次")  # a manual run answers the sender only
    await simulator.wait_for_sent(lambda sent: sent.text.startswith("已发布“准点公告”到 1 个群"))
    await everything_before_is_sent(simulator)
    assert to_admin(simulator, "定时公告") == (expected if receipts else [])
    await running.bot.stop()  # the webhook's queue is flushed before it returns
    await running.task
    assert receiver.attempts == 0


async def test_a_partly_failed_run_says_so_in_its_receipt(
    tmp_path: Path, simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    # The bot does not own the group: the group announcement (the run's second part) fails.
    write_post(tmp_path, "notice", 'title = "群公告：春节放假安排"\nset_announcement = true',
               "秘书处1月26日至2月4日放假。")
    simulator.world.rooms[PRESIDENTS].owner_id = "wxid_president_yi"
    running: RunningBot = await start_bot(settings_for(
        simulator.endpoint, home=tmp_path, alerts={"webhook_url": receiver.url, "format": "json"}))
    due, ended = await schedule_seconds_ahead(simulator, running, "notice", "群公告：春节放假安排")
    async with asyncio.timeout(15):
        await ended.wait()
    await everything_before_is_sent(simulator)
    assert to_admin(simulator, "定时公告") == [
        f"定时公告未发全：“群公告：春节放假安排”（notice），{day_and_time(due)}，1 个群共 2 条，"
        "1 条已发出，1 条未能发出：机器人不是“山西省山东商会会长官方群”的群主，不能设置群公告"
        " (the bot does not own the group, so it cannot set its announcement)"]
    await running.bot.stop()
    await running.task
    assert [body["event"] for body in receiver.bodies] == ["send_failed"]  # the alert, not the receipt
