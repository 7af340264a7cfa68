"""The simulator hands a test a message the bot sent only once the bot has its answer.

A test that kills the gateway as soon as it sees a message (the fault and alert tests do) must
find that message sent, not cut off: on Python 3.12 and later a waiter wakes before the RPC's
answer is written, which 3.11's slower wait_for hid.
"""

from __future__ import annotations

from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, RunningBot

POSTCODE_ANSWER = "@朱会长\u2005邮政编码：030006"


async def test_killing_the_gateway_right_after_seeing_a_message_does_not_cut_its_send(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
    seen = await simulator.wait_for_sent(timeout=5)
    await simulator.stop()
    assert seen.text == POSTCODE_ANSWER
    assert list(running_bot.bot.outbox.failures) == []  # not 'outcome unknown'
