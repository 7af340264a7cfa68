"""Fault suite, the gateway: killed or hung for two minutes in the middle of a four-part post.

Timings are the shipped ones divided by SCALE (tests/faults.py), the outage's two minutes too.
What is checked is what the secretariat would see: the group's messages, the ledger's rows,
the alerts (webhook, and the admins in WeChat once it is back).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.messages import State
from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, RunningBot
from tests.faults import SCALE, four_part_post, group_lines, ledger_rows, scaled
from tests.test_announcements_e2e import ADMIN, MEMBER, SECRETARY, to
from tests.webhook_receiver import WebhookReceiver

OUTAGE = 120 / SCALE  # "two minutes"
PARTS = ["四段公告（1/4）", "（2/4）", "（3/4）", "（4/4）"]
POSTCODE = "@朱会长\u2005邮政编码：030006"  # a member's answer: after it, the outbox is empty


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    yield server
    await server.stop()


async def outage_lasts(since: float) -> None:
    """The fault's own length (not a wait for the bot): until OUTAGE seconds after `since`."""
    await asyncio.sleep(max(0.0, since + OUTAGE - time.monotonic()))


async def publish_and_see_part_one(simulator: Simulator) -> None:
    await simulator.say(SECRETARY, "#发布 series")
    part_one = await simulator.wait_for_sent(to(PRESIDENTS))
    assert part_one.text.startswith("四段公告（1/4）")


def events(receiver: WebhookReceiver) -> list[tuple[str, str]]:
    return [(body["event"], body["state"]) for body in receiver.bodies]


async def test_gateway_killed_for_two_minutes_mid_post_sends_the_rest_once_back(
    tmp_path: Path, simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    four_part_post(tmp_path)
    running: RunningBot = await start_bot(scaled(simulator, tmp_path, receiver.url))
    await publish_and_see_part_one(simulator)
    killed_at = time.monotonic()
    await simulator.stop()  # part 2 is 3 s (scaled) away
    await receiver.wait_for(lambda bodies: len(bodies) == 1, timeout=10)
    await outage_lasts(killed_at)
    await simulator.start()
    await running.states.wait_for(State.LOGGED_IN, after=killed_at, timeout=10)

    rest = [await simulator.wait_for_sent(to(PRESIDENTS), timeout=10) for _ in range(3)]
    answer = await simulator.wait_for_sent(to(SECRETARY), timeout=10)
    recovered = await simulator.wait_for_sent(to(ADMIN), timeout=10)
    await receiver.wait_for(lambda bodies: len(bodies) == 2, timeout=10)
    await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)  # after it, the outbox is empty
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == POSTCODE

    assert [sent.text.split("\n")[0] for sent in rest] == PARTS[1:]
    assert group_lines(simulator) == [*PARTS, POSTCODE]
    assert ledger_rows(tmp_path, "series") == [(1, "sent"), (2, "sent"), (3, "sent"), (4, "sent")]
    assert answer.text == "已发布“四段公告”到 1 个群，共 4 条。"
    assert events(receiver) == [("gateway", "alert"), ("gateway", "recovered")]
    assert receiver.bodies[0]["message"].startswith(f"连不上微信网关 {simulator.endpoint} 已超过 3 秒")
    assert recovered.text.startswith(f"【已恢复】微信网关 {simulator.endpoint} 又能连上了，中断约 ")
    assert [s.text for s in simulator.sent if s.conversation_id == ADMIN] == [recovered.text]


async def test_gateway_hung_for_two_minutes_mid_post_never_sends_a_part_twice(
    tmp_path: Path, simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    four_part_post(tmp_path)
    running: RunningBot = await start_bot(scaled(simulator, tmp_path, receiver.url))
    await publish_and_see_part_one(simulator)
    hung_at = time.monotonic()
    simulator.hang_for(OUTAGE)
    await simulator.requests.wait_for("MessageSendText", 2)  # part 2, into the hung gateway
    await running.states.wait_for(State.LOGGED_IN, after=hung_at + OUTAGE, timeout=15)
    answer = await simulator.wait_for_sent(to(SECRETARY), timeout=15)  # the run is over
    await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)  # after it, the outbox is empty
    await simulator.wait_for_sent(lambda sent: sent.text == POSTCODE)

    # Parts handed to the hung gateway (2, and 3 if it went before the watchdog found the
    # hang) may or may not have reached WeChat: 'unknown', reported, never resent. What the
    # ledger says was sent, the group got, once each and in order, the rest after the outage.
    rows = dict(ledger_rows(tmp_path, "series"))
    unknown = [part for part, state in rows.items() if state == "unknown"]
    assert rows[1] == rows[4] == "sent" and rows[2] == "unknown"
    assert set(rows.values()) == {"sent", "unknown"}
    sent_parts = [PARTS[part - 1] for part, state in rows.items() if state == "sent"]
    assert group_lines(simulator) == [*sent_parts, POSTCODE]
    last_part = next(s for s in simulator.sent if s.text.startswith("（4/4）"))
    assert last_part.at > hung_at + OUTAGE  # waited for the gateway: nothing lost to the hang
    assert answer.text.startswith(f"“四段公告”有 {len(unknown)} 条未能发出：")

    # The admins: the outage (webhook; WeChat was down) and, in WeChat too, each part to check.
    await receiver.wait_for(lambda bodies: len(bodies) == 2 + len(unknown))
    assert sorted(events(receiver)) == sorted(
        [("gateway", "alert"), ("gateway", "recovered")] + [("send_failed", "alert")] * len(unknown))
    to_admin = [s.text for s in simulator.sent if s.conversation_id == ADMIN]
    assert len(to_admin) == 1 + len(unknown)
    assert [text for text in to_admin if text.startswith("【已恢复】微信网关 ")] != []
    reports = sorted(text for text in to_admin if text.startswith("发送失败"))
    for part, report in zip(unknown, reports, strict=True):
        assert report.startswith("发送失败（outcome unknown）：series → presidents@chatroom @ manual:")
        assert f"part {part}/4；" in report and report.endswith("缺了就用 #预览 取原文手动补上")
