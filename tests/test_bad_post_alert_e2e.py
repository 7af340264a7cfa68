"""A post file broken on disk: the admins are told whether the post still runs or not."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, RunningBot, settings_for, write_post

ADMIN = "wxid_admin_wang"
SECRETARY = "wxid_secretary_liu"


def to(chat: str) -> Any:
    return lambda sent: sent.conversation_id == chat


async def reloaded(running: RunningBot, loads: int) -> None:
    library = running.bot.library
    async with asyncio.timeout(10), library.reloaded:
        await library.reloaded.wait_for(lambda: library.loads > loads)


async def test_a_broken_edit_keeps_the_old_version_and_a_broken_new_file_is_not_loaded(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    meeting = write_post(tmp_path, "meeting", 'title = "理事会通知"', "周五下午三点开理事会。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    loads = running.bot.library.loads

    meeting.write_text(meeting.read_text(encoding="utf-8").replace(
        'title = "理事会通知"', 'title = "理事会通知"\nschedule = "每周八"'), encoding="utf-8")
    await reloaded(running, loads)
    edited = await simulator.wait_for_sent(to(ADMIN))
    assert edited.text.startswith("公告文件有误，修改未生效（旧版本照常执行），请改正文件："
                                  f"{meeting}, line 3, field 'schedule'")
    await simulator.say(SECRETARY, "#发布 meeting")  # the old version is still there to send
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == "理事会通知\n\n周五下午三点开理事会。"

    loads = running.bot.library.loads
    new = write_post(tmp_path, "gala", 'title = "联谊会"\nschedule = "每周八"', "正文")
    await reloaded(running, loads)
    added = await simulator.wait_for_sent(to(ADMIN))
    assert added.text.startswith("公告文件有误，这条公告未载入（改正文件前不会发送），请改正文件："
                                 f"{new}, line 3, field 'schedule'")
    assert "gala" not in running.bot.library.posts
