"""What anyone may type in the group: answered briefly, never revealing or crashing anything."""

from __future__ import annotations

from collections.abc import Callable

from bot.simulator import SentMessage, Simulator
from tests.conftest import PRESIDENTS, RunningBot

SECRETARY, MEMBER = "wxid_secretary_liu", "wxid_vp_001"


def to(chat: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.conversation_id == chat


async def test_an_unknown_command_is_echoed_briefly(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    await simulator.say(MEMBER, "#" + "天" * 100_000, room_id=PRESIDENTS)
    answer = (await simulator.wait_for_sent(to(MEMBER))).text
    assert answer == "没有“#天天天天天天天天天天天天…”这个命令。发送 #帮助 查看可用的命令。"


async def test_hints_name_only_commands_the_sender_may_use(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    await simulator.say(MEMBER, "#发部 award", room_id=PRESIDENTS)  # a typo of a secretary's command
    assert (await simulator.wait_for_sent(to(MEMBER))).text == (
        "没有“#发部”这个命令。发送 #帮助 查看可用的命令。")
    await simulator.say(SECRETARY, "#发部 award")
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == (
        "没有“#发部”这个命令。您是不是要：#发布？发送 #帮助 查看可用的命令。")
    # A zero-width space inside the word is no way around the roles, nor a way to a hint.
    await simulator.say(MEMBER, "#\u200b发布 award", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(to(MEMBER))).text == "抱歉，#发布 仅限秘书处使用。"


async def test_a_question_buried_in_a_huge_message_is_read_from_its_start(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    await simulator.say(MEMBER, "商会电话多少？" + "啊" * 100_000, room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == "@朱会长\u2005电话/传真：0351-8224667"
    await simulator.say(MEMBER, "啊" * 100_000 + "商会电话多少？", room_id=PRESIDENTS)  # past what is read
    await simulator.say("wxid_vp_002", "邮编？", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text.endswith("邮政编码：030006")


async def test_a_number_that_is_a_digit_but_not_decimal_is_just_an_unknown_post(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    await simulator.say(SECRETARY, "#预览 ²")  # str.isdigit() says yes, int() says no
    assert (await simulator.wait_for_sent(to(SECRETARY))).text.startswith("没有编号为“²”的公告。")
