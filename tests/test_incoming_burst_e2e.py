"""A burst of messages is loaded a few at a time, in the order said, and every one answered;
the messages waiting for their turn are ids in a queue, not a task each (a task is ~2 KB: a
burst of 2,000 left megabytes of RSS behind, docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
from collections import Counter
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
    queue = running.bot.connection._incoming
    real_add = queue.add
    loaded: list[str] = []
    in_flight = [0]
    most_in_flight = arrived = 0
    tasks_when_all_waited: Counter[str] = Counter()  # each task's coroutine, by name
    limit_reached, burst_arrived = asyncio.Event(), asyncio.Event()

    def watched_add(message_id: str) -> None:
        nonlocal arrived, tasks_when_all_waited
        real_add(message_id)
        arrived += 1
        if arrived == BURST:  # none is answered yet, so no echo is among them
            tasks_when_all_waited = Counter(
                getattr(task.get_coro(), "__qualname__", "?") for task in asyncio.all_tasks())
            burst_arrived.set()

    async def watched_load(message_id: str) -> Any:
        nonlocal most_in_flight
        loaded.append(message_id)
        in_flight[0] += 1
        most_in_flight = max(most_in_flight, in_flight[0])
        if in_flight[0] == MESSAGES_LOADED_AT_ONCE:
            limit_reached.set()
        try:
            # The first loads are held until as many run as may (faster than the messages
            # come, they would never reach the limit) and the whole burst has reached the bot,
            # so that the rest of it is waiting when the tasks are counted.
            await limit_reached.wait()
            await burst_arrived.wait()
            return await real_load(message_id)
        finally:
            in_flight[0] -= 1

    puppet.message_payload = watched_load  # type: ignore[method-assign]
    queue.add = watched_add  # type: ignore[method-assign]
    tasks_before = len(asyncio.all_tasks())
    said = [await simulator.say(MEMBER, f"电话？{n}") for n in range(BURST)]  # privately
    answers = [await simulator.wait_for_sent(timeout=15) for _ in range(BURST)]

    assert {answer.text for answer in answers} == {"电话/传真：0351-8224667"}
    # Each once, in the order said. The echoes of the bot's answers come as message events
    # too, sometimes before their send is answered: those are loaded, found the bot's own, and
    # dropped (none was answered, above).
    assert [message_id for message_id in loaded if message_id in said] == said
    assert most_in_flight == MESSAGES_LOADED_AT_ONCE
    # The 184 messages waiting are ids in the queue: the only new tasks are the 16 loaders.
    assert tasks_when_all_waited["LoadingQueue._loader"] == MESSAGES_LOADED_AT_ONCE
    assert sum(tasks_when_all_waited.values()) <= tasks_before + MESSAGES_LOADED_AT_ONCE + 2, \
        tasks_when_all_waited  # printed should it fail


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
