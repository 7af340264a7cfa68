"""Schedules that would never run, or run more often than hourly, are refused: in #定时 with a
sentence and an example, and in a post file with the admins told (issue 9, item 9)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.simulator import SentMessage, Simulator
from tests.conftest import RunningBot, settings_for, write_post

ADMIN = "wxid_admin_wang"
MEETING = ('title = "会长办公会通知"', "各位会长：\n\n定于12月1日上午9点召开会长办公会。")


def to(chat: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.conversation_id == chat


async def ask(simulator: Simulator, text: str) -> str:
    """The admin says `text` privately; the bot's next private message to the admin."""
    await simulator.say(ADMIN, text)
    return (await simulator.wait_for_sent(to(ADMIN))).text


async def test_schedule_every_minute_or_on_30_february_is_refused_and_nothing_changes(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    path = write_post(tmp_path, "meeting", *MEETING)
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    before = path.read_text(encoding="utf-8")

    assert await ask(simulator, "#定时 meeting cron: * * * * *") == (
        "“cron: * * * * *”一小时内发 60 次（最短相隔 1 分钟），定时最多每小时发一次，以免刷屏。"
        "例如：cron: 0 9-17 * * 1-5（周一至周五 9点到17点，每小时整点一次）")
    assert await ask(simulator, "#定时 meeting cron: 0 9 30 2 *") == (
        "“cron: 0 9 30 2 *”永远不会发送：没有哪一天符合这些日期（例如 2月没有30日，4、6、9、11月没有31日）。"
        "例如：cron: 0 9 * * 1（分 时 日 月 星期，即每周一 9:00）")
    assert path.read_text(encoding="utf-8") == before
    assert running.bot.scheduler.next_run("meeting") is None

    # the example offered works, and hourly is allowed
    reply = await ask(simulator, "#定时 meeting cron: 0 9-17 * * 1-5")
    assert reply.startswith("已定时“会长办公会通知”：cron: 0 9-17 * * 1-5。下次：")
    assert 'schedule = "cron: 0 9-17 * * 1-5"' in path.read_text(encoding="utf-8")


async def test_a_post_file_scheduled_every_ten_minutes_is_not_loaded_and_the_admins_are_told(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    path = write_post(tmp_path, "spam", 'title = "刷屏"\nschedule = "cron: */10 * * * *"', "正文")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    told = await simulator.wait_for_sent(to(ADMIN))
    assert told.text == (
        "公告文件有误，这条公告未载入（改正文件前不会发送），请改正文件："
        f"{path}, line 3, field 'schedule': “cron: */10 * * * *”一小时内发 6 次（最短相隔 10 分钟），"
        "定时最多每小时发一次，以免刷屏。例如：cron: 0 9-17 * * 1-5（周一至周五 9点到17点，每小时整点一次）")
    assert "spam" not in running.bot.library.posts
