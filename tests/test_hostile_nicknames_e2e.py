"""Members choose their group nicknames (群昵称); the group thank-you repeats them to 150 people.

A nickname can carry a line break (a second, official-looking line), invisible characters
(zero-width spaces, a right-to-left override) or a wall of text: none of it reaches the group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, collector_of, decided, settings_for, write_post

SECRETARY = "wxid_secretary_liu"


def to(chat: str) -> Any:
    return lambda sent: sent.conversation_id == chat


async def test_the_group_thank_you_shows_each_nickname_as_one_short_clean_line(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    simulator.world.rooms[PRESIDENTS].member_aliases.update({
        "wxid_vp_001": "朱会长\n@所有人 今晚八点开会，请准时参加",  # a second line, and long
        "wxid_vp_002": "黄" * 200,  # a wall of text
        "wxid_vp_003": "\u200b\u2060\u200b",  # nothing visible at all
        "wxid_vp_004": "\u202e长会周\u200b\r\n",  # right-to-left override, zero-width, CRLF
        "wxid_vp_005": "李\u3000\t会长",  # an ideographic space and a tab: one space
    })
    write_post(tmp_path, "award", 'title = "喜讯"\ncollect_congratulations = true', "正文。")
    running = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    await simulator.say(SECRETARY, "#发布 award")
    await simulator.wait_for_sent(to(PRESIDENTS))
    await simulator.wait_for_sent(to(SECRETARY))  # "已发布…": the window is open
    members = ("wxid_vp_001", "wxid_vp_002", "wxid_vp_003", "wxid_vp_004", "wxid_vp_005")
    for number, member in enumerate(members, start=1):
        await simulator.say(member, "恭喜！", room_id=PRESIDENTS)
        await decided(collector_of(running), number)

    await simulator.say(SECRETARY, "#致谢 award")
    thanks = await simulator.wait_for_sent(to(PRESIDENTS))
    # Each name at most 16 characters ("…" marks a cut); the invisible one is counted, not shown.
    assert thanks.text == ("感谢朱会长 @所有人 今晚八点开会…、" + "黄" * 15 + "…、长会周、李 会长"
                           "等5位会长的祝贺与支持！")
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == f"已在群里致谢：{thanks.text}"


async def test_only_invisible_nicknames_still_get_a_thank_you(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    simulator.world.rooms[PRESIDENTS].member_aliases.update({
        "wxid_vp_001": "\u200b", "wxid_vp_002": "\n\n\n"})
    write_post(tmp_path, "award", 'title = "喜讯"\ncollect_congratulations = true', "正文。")
    running = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    await simulator.say(SECRETARY, "#发布 award")
    await simulator.wait_for_sent(to(PRESIDENTS))
    await simulator.wait_for_sent(to(SECRETARY))
    for number, member in enumerate(("wxid_vp_001", "wxid_vp_002"), start=1):
        await simulator.say(member, "🌹", room_id=PRESIDENTS)
        await decided(collector_of(running), number)
    await simulator.say(SECRETARY, "#致谢 award")
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == "感谢2位会长的祝贺与支持！"
