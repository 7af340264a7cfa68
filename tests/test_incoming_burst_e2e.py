"""A burst of messages is loaded a few at a time, in the order said, and every one answered;
the messages waiting for their turn are ids in a queue, not a task each (a task is ~2 KB: a
burst of 2,000 left megabytes of RSS behind, docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.simulator import Simulator
from bot.wechat.connection import MESSAGES_LOADED_AT_ONCE
from tests.conftest import RunningBot, settings_for

BURST = 200
MEMBER = "wxid_vp_001"


async def test_a_burst_is_loaded_a_few_at_a_time_in_order_and_all_answered(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running: RunningBot = await start_bot(settings_for(
        simulator.endpoint, home=tmp_path,
        sending={"member_replies_per_minute": 1_000, "all_member_replies_per_minute": 1_000}))
    puppet = running.bot.connection._puppet
    assert puppet is not None
    real_load = puppet.message_payload
    loaded: list[str] = []
    in_flight = [0]
    most_in_flight = most_tasks = 0

    limit_reached = asyncio.Event()

    async def watched_load(message_id: str) -> Any:
        nonlocal most_in_flight, most_tasks
        loaded.append(message_id)
        in_flight[0] += 1
        most_in_flight = max(most_in_flight, in_flight[0])
        most_tasks = max(most_tasks, len(asyncio.all_tasks()))
        if in_flight[0] == MESSAGES_LOADED_AT_ONCE:
            limit_reached.set()
        try:
            # The first loads wait until as many run as may: faster than the messages come,
            # they would never reach the limit, and the test would not show it holds.
            await limit_reached.wait()
            return await real_load(message_id)
        finally:
            in_flight[0] -= 1

    puppet.message_payload = watched_load  # type: ignore[method-assign]
    tasks_before = len(asyncio.all_tasks())
    said = [await simulator.say(MEMBER, f"电话？{n}") for n in range(BURST)]  # privately
    answers = [await simulator.wait_for_sent(timeout=15) for _ in range(BURST)]

    assert {answer.text for answer in answers} == {"电话/传真：0351-8224667"}
    # Each once, in the order said. The echoes of the bot's answers come as message events
    # too, sometimes before their send is answered: those are loaded, found the bot's own, and
    # dropped (none was answered, above).
    assert [message_id for message_id in loaded if message_id in said] == said
    assert most_in_flight == MESSAGES_LOADED_AT_ONCE
    # The loaders and the handlers under way, never a task for each of the 200 waiting.
    assert most_tasks <= tasks_before + 2 * MESSAGES_LOADED_AT_ONCE + 8


async def test_a_message_loaded_late_is_still_handled_before_the_ones_after_it(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    puppet = running_bot.bot.connection._puppet
    assert puppet is not None
    real_load = puppet.message_payload
    second_loaded = asyncio.Event()
    first: list[str] = []

    async def first_comes_back_last(message_id: str) -> Any:
        if not first:  # the first message's payload arrives after the second's
            first.append(message_id)
            await second_loaded.wait()
            return await real_load(message_id)
        payload = await real_load(message_id)
        second_loaded.set()
        return payload

    puppet.message_payload = first_comes_back_last  # type: ignore[method-assign]
    await simulator.say(MEMBER, "电话？")
    await simulator.say(MEMBER, "邮编？")
    answers = [(await simulator.wait_for_sent(timeout=5)).text for _ in range(2)]
    assert answers == ["电话/传真：0351-8224667", "邮政编码：030006"]
