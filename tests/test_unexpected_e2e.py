"""What nobody expected: each reaches the log with its traceback and the admins once per
incident, and the bot goes on answering (a handler's crash: test_bot_faq_e2e.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.errors import report_if_failed
from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, RunningBot

ADMIN = "wxid_admin_wang"
POSTCODE_ANSWER = "邮政编码：030006"


def to(chat: str) -> object:
    return lambda sent: sent.conversation_id == chat


async def still_answers(simulator: Simulator) -> None:
    await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
    sent = await simulator.wait_for_sent(to(PRESIDENTS), timeout=5)
    assert sent.text.endswith(POSTCODE_ANSWER)


async def test_a_scheduled_job_that_raises_is_alerted_once_and_the_bot_goes_on(
    simulator: Simulator, running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    runs = 0
    ran = asyncio.Condition()

    async def broken() -> None:
        nonlocal runs
        async with ran:
            runs += 1
            ran.notify_all()
        raise ValueError("job bug")

    with caplog.at_level(logging.ERROR, logger="bot.ops.unexpected"):
        running_bot.bot.scheduler.every(0.2, broken, "broken-job")
        alert = await simulator.wait_for_sent(to(ADMIN), timeout=5)
        async with asyncio.timeout(5), ran:
            await ran.wait_for(lambda: runs >= 3)  # it keeps failing, every 0.2 s
        await still_answers(simulator)
    assert alert.text == ("机器人内部出错（scheduled job broken-job）：ValueError: job bug。"
                          "详情已写入日志，机器人继续运行。")
    assert [s.conversation_id for s in simulator.sent].count(ADMIN) == 1  # once per incident
    logged = [r for r in caplog.records if "scheduled job broken-job" in r.getMessage()]
    assert len(logged) >= 3 and logged[0].exc_info is not None


async def test_a_background_task_that_dies_is_alerted(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    async def dies() -> None:
        raise KeyError("lost")

    report_if_failed(asyncio.ensure_future(dies()), "task resume", running_bot.bot.report_unexpected)
    alert = await simulator.wait_for_sent(to(ADMIN), timeout=5)
    assert alert.text.startswith("机器人内部出错（task resume）：KeyError: 'lost'")
    await still_answers(simulator)
