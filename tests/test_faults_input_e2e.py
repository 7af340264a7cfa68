"""Fault suite, what the gateway hands over: events and message types nobody expected, fields
missing, a 1 MB text. The bot stays connected (a dropped event stream loses every message sent
meanwhile), answers what it should, counts what it should, and raises no alert: nothing here
needs the operator."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.core.messages import State
from bot.simulator import ChatMessage, SentMessage, Simulator
from bot.simulator.world import TEXT, new_message_id
from tests.conftest import BOT_ID, PRESIDENTS, RunningBot, collector_of, decided
from tests.test_announcements_e2e import ADMIN, MEMBER, to
from tests.test_congrats_e2e import publish, start_award_bot

POSTCODE = "@朱会长\u2005邮政编码：030006"
MEGABYTE = 1_000_000

# Events a gateway may send that python-wechaty could not decode: each ended the event stream.
MALFORMED_EVENTS = [
    (0, ""), (99, "garbage"), (2, "not json"), (2, "[]"), (2, "null"), (2, "{}"),
    (2, '{"messageId": null}'), (1, "{}"), (22, "{}"), (22, '{"status": 99}'), (25, "{}"),
    (17, "{}"), (18, "{}"), (19, "{}"), (20, "{}"), (21, "{}"),
]
# Events of types it does not know, or with fields it does not know: never a problem.
UNKNOWN_EVENTS = [
    (27, '{"payloadType": 1, "payloadId": "wxid_vp_001"}'), (24, "{}"), (99, "{}"),
    (3, '{"data": "x", "extra": 1}'), (23, '{"data": "r", "extra": 1}'),
    (16, '{"gerror": "x", "extra": 1}'),
]


# Of the malformed ones, these only lack a field with a harmless default: decoded, not dropped.
DEFAULTED = [(1, "{}"), (22, "{}"), (22, '{"status": 99}')]


def after(moment: float, text_end: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.at >= moment and sent.text.endswith(text_end)


async def test_malformed_and_unknown_events_neither_end_the_stream_nor_alert(
    simulator: Simulator, running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    since = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="bot.wechat.connection"):
        for event_type, payload in MALFORMED_EVENTS + UNKNOWN_EVENTS:
            await simulator.emit_raw_event(event_type, payload)
        await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)
        assert (await simulator.wait_for_sent(after(since, "030006"))).text == POSTCODE
    assert [state for state, _, at in running_bot.states.seen if at >= since] == []
    assert simulator.rpc_counts["Event"] == 1  # one event stream all along: no reconnect
    ignored = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ignored")]
    assert len(ignored) == len(MALFORMED_EVENTS) - len(DEFAULTED)
    assert "ignored a gateway event of type 2: it has no 'messageId' (payload '{}')" in ignored
    assert not [s for s in simulator.sent if s.conversation_id == ADMIN]

    # A logout without its `data` is still a logout: the bot sees it, and the login after.
    await simulator.emit_raw_event(26, f'{{"contactId": "{BOT_ID}"}}')
    await running_bot.states.wait_for(State.LOGGED_OUT, after=since)
    await simulator.emit_raw_event(25, f'{{"contactId": "{BOT_ID}"}}')
    await running_bot.states.wait_for(State.LOGGED_IN, after=since)
    again = time.monotonic()
    await simulator.say("wxid_vp_002", "电话？", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(after(again, "0351-8224667"))).text == (
        "@黄会长\u2005电话/传真：0351-8224667")


def message(talker_id: str, text: str, **fields: Any) -> ChatMessage:
    return ChatMessage(**{"id": new_message_id(), "talker_id": talker_id, "text": text,
                          "room_id": PRESIDENTS, **fields})


async def test_unknown_message_types_and_missing_fields_are_ignored_or_read_safely(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    since = time.monotonic()
    for wire_type in [t for t in [*range(0, 22), 49, 10_000] if t != TEXT]:
        # Pictures, voice, files, mini programs, the 1.x gateway's "Post" (16) ...: no question.
        simulator.deliver(message("wxid_vp_003", "邮箱？", type=wire_type))
    simulator.deliver(message("", ""))  # no talker, no text
    simulator.deliver(message("wxid_stranger", "邮箱？", room_id="nowhere@chatroom"))
    simulator.deliver(message("wxid_vp_005", "邮编？", timestamp_ms=0))  # no time
    simulator.deliver(message("wxid_president_yi", "电话？", timestamp_ms=2**62))  # a broken one
    simulator.deliver(message("wxid_vp_004", "地址？", mention_ids=("", "x" * 1000)))
    await simulator.say(MEMBER, "#我的ID")  # answered privately after all of them
    assert (await simulator.wait_for_sent(to(MEMBER))).text.startswith(f"您的微信ID：{MEMBER}")

    assert sorted(s.text for s in simulator.sent if s.conversation_id == PRESIDENTS) == sorted([
        "@李会长\u2005邮政编码：030006", "@伊会长\u2005电话/传真：0351-8224667",
        "@张会长\u2005联系地址：山西省太原市长治路306号火炬创业大厦C座15层"])
    assert [state for state, _, at in running_bot.states.seen if at >= since] == []
    assert not [s for s in simulator.sent if s.conversation_id == ADMIN]  # no alert


async def test_a_one_megabyte_text_is_read_by_its_start_and_counted_once(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start_award_bot(tmp_path, simulator, start_bot)
    await publish(simulator)
    collector = collector_of(running)
    since = time.monotonic()
    await simulator.say(MEMBER, "邮编？" + "啊" * MEGABYTE, room_id=PRESIDENTS)  # 3 MB as UTF-8
    assert (await simulator.wait_for_sent(after(since, "030006"))).text == POSTCODE
    answered_in = time.monotonic() - since
    await simulator.say("wxid_vp_002", "#" + "天" * MEGABYTE)  # privately, an unknown command
    assert (await simulator.wait_for_sent(to("wxid_vp_002"))).text.startswith("没有“#天天天")
    flowers = await simulator.say("wxid_vp_003", "恭喜恭喜🌹" + "贺" * MEGABYTE, room_id=PRESIDENTS)
    await decided(collector, 1)
    await simulator.emit_raw_event(2, f'{{"messageId": "{flowers}"}}')  # replayed
    await simulator.say("wxid_vp_004", "👍", room_id=PRESIDENTS)
    await decided(collector, 2)

    records = running.bot.congratulations.records.congratulations("award")
    assert [(r.message_id, r.member_id, r.kinds) for r in records][:1] == [
        (flowers, "wxid_vp_003", ("鲜花", "文字"))]
    assert [r.member_id for r in records] == ["wxid_vp_003", "wxid_vp_004"]
    assert len(records[0].text) == 500  # what is kept of it
    assert answered_in < 5, answered_in
    assert not [s for s in simulator.sent if s.conversation_id == ADMIN]
