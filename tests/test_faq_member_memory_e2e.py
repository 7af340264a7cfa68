"""The members' limits remember only who was answered within their windows (the FAQ's 10
minutes, the replies' minute), a few floats each: 5,000 askers must not cost megabytes for
months (docs/benchmarks.md, the stress variant's RSS)."""

from __future__ import annotations

import time

from bot.simulator import Simulator
from handlers.faq import MEMBER_WINDOW_SECONDS
from tests.conftest import BOT_ID, PRESIDENTS, RunningBot
from tests.test_bot_faq_e2e import faq_responder

ASKERS = ["wxid_vp_001", "wxid_vp_002", "wxid_vp_003"]


async def ask(simulator: Simulator, member: str) -> str:
    await simulator.say(member, "@商会小助手 邮编？", room_id=PRESIDENTS, mention_ids=(BOT_ID,))
    return (await simulator.wait_for_sent(timeout=5)).text


async def test_members_whose_windows_have_passed_are_forgotten(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    responder = faq_responder(running_bot)
    replies = responder.replies
    for member in ASKERS:
        await ask(simulator, member)
    assert len(responder._answered_member) == len(replies._each) == len(ASKERS)

    # Ten minutes on (the clocks moved, nothing else): the next asker is the only one kept.
    later = time.monotonic() + MEMBER_WINDOW_SECONDS + 1
    responder.clock = replies.clock = lambda: later
    assert (await ask(simulator, "wxid_vp_004")).startswith("@")
    assert len(responder._answered_member) == len(replies._each) == 1
    # And a forgotten member starts again from a clean window: answered, as the first time.
    assert (await ask(simulator, ASKERS[0])).startswith("@")
    assert responder._answered_member.within(ASKERS[0], later) == (later,)
