"""A noisy group cannot hold up the secretariat: announcements and staff go first, members'
answers are limited and dropped when stale (pacing on, at test speed)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import SentMessage, Simulator
from tests.conftest import PRESIDENTS, RunningBot, settings_for, write_post

SECRETARY = "wxid_secretary_liu"
MEMBERS = [f"wxid_vp_{n:03d}" for n in range(1, 6)]


def to(chat: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.conversation_id == chat


def paced(endpoint: str, home: Path, **sending: Any) -> Any:
    """The shipped pacing's shape (one at a time, spaced), ten times faster."""
    return settings_for(endpoint, home=home, sending={
        "rate_limit": True, "messages_per_minute": 400, "per_chat_interval_seconds": 0,
        "jitter_seconds": 0, **sending})


async def test_the_secretarys_post_overtakes_a_members_flood(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "notice", 'title = "会长办公会通知"', "请准时参加。")
    await start_bot(paced(simulator.endpoint, tmp_path))
    for member in MEMBERS:  # 5 members x 6 commands: 30 answers queued, 0.15 s apart
        for _ in range(6):
            await simulator.say(member, "#我的ID", room_id=PRESIDENTS)
    await simulator.wait_for_sent(to(MEMBERS[0]))  # the flood is being answered
    await simulator.say(SECRETARY, "#发布 notice")
    post = await simulator.wait_for_sent(to(PRESIDENTS), timeout=10)
    answers_before = [s for s in simulator.sent[: simulator.sent.index(post)]
                      if s.conversation_id in MEMBERS]
    assert post.text == "会长办公会通知\n\n请准时参加。"
    assert len(answers_before) <= 4  # not behind the 30 answers, only those already under way
    done = await simulator.wait_for_sent(to(SECRETARY), timeout=10)
    assert done.text == "已发布“会长办公会通知”到 1 个群，共 1 条。"
    for member in MEMBERS:  # the members are all answered after that, none lost
        for _ in range(5 if member == MEMBERS[0] else 6):  # one was awaited above
            await simulator.wait_for_sent(to(member), timeout=15)


async def test_one_member_gets_at_most_the_limit_per_minute(
    tmp_path: Path, simulator: Simulator, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    with caplog.at_level(logging.INFO, logger="bot.core.replies"):
        for _ in range(15):
            await simulator.say(MEMBERS[0], "#我的ID", room_id=PRESIDENTS)
        await simulator.say(MEMBERS[1], "#我的ID", room_id=PRESIDENTS)  # another member still is
        await simulator.wait_for_sent(to(MEMBERS[1]))
        await simulator.say(SECRETARY, "#我的ID")  # and the staff always are
        await simulator.wait_for_sent(to(SECRETARY))
    assert len([s for s in simulator.sent if s.conversation_id == MEMBERS[0]]) == 10
    assert sum("over the members' reply limits" in r.getMessage() for r in caplog.records) == 5


async def test_a_members_answer_that_waited_too_long_is_dropped_not_sent_late(
    tmp_path: Path, simulator: Simulator, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    running: RunningBot = await start_bot(paced(
        simulator.endpoint, tmp_path, messages_per_minute=60, member_reply_expires_seconds=0.5))
    with caplog.at_level(logging.INFO, logger="bot.core.outbox"):
        for question in ("电话？", "邮编？", "地址？", "邮箱？"):  # privately: no cooldown
            await simulator.say(MEMBERS[0], question)
        first = await simulator.wait_for_sent(to(MEMBERS[0]))
        await simulator.say(SECRETARY, "电话？")  # no expiry for the staff: answered, 1 s later
        await simulator.wait_for_sent(to(SECRETARY), timeout=5)
    assert first.text == "电话/传真：0351-8224667"
    assert [s.text for s in simulator.sent if s.conversation_id == MEMBERS[0]] == [first.text]
    assert sum("dropped a reply" in r.getMessage() for r in caplog.records) == 3
    assert running.bot.outbox.depth == 0


async def test_a_post_overtakes_a_members_answer_already_waiting_for_its_pause(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    """The outbox has taken the member's next answer and waits out its pause (2 s between
    sends in one chat) when the secretary publishes: the post goes first, the answer after it,
    in its place (the shipped pacing's 3 s made a flood's answers go before the post)."""
    write_post(tmp_path, "notice", 'title = "会长办公会通知"', "请准时参加。")
    running: RunningBot = await start_bot(paced(
        simulator.endpoint, tmp_path, messages_per_minute=600, per_chat_interval_seconds=2))
    member = MEMBERS[0]
    for question in ("电话？", "邮编？", "地址？"):  # privately: no FAQ cooldown
        await simulator.say(member, question)
    first = await simulator.wait_for_sent(to(member))
    assert first.text == "电话/传真：0351-8224667"
    assert running.bot.outbox.depth == 1  # 邮编 taken, waiting for its pause; 地址 queued
    await simulator.say(SECRETARY, "#发布 notice")
    post = await simulator.wait_for_sent(to(PRESIDENTS), timeout=10)
    answers = [await simulator.wait_for_sent(to(member), timeout=10) for _ in range(2)]
    assert post.text == "会长办公会通知\n\n请准时参加。"
    order = [sent.conversation_id for sent in simulator.sent if sent.conversation_id != SECRETARY]
    assert order == [member, PRESIDENTS, member, member]  # the post before the taken answer
    assert [answer.text for answer in answers] == [  # in their order, each once
        "邮政编码：030006", "联系地址：山西省太原市长治路306号火炬创业大厦C座15层"]
    done = await simulator.wait_for_sent(to(SECRETARY), timeout=10)
    assert done.text == "已发布“会长办公会通知”到 1 个群，共 1 条。"
