"""A group configured by name only is not served when another group has the same name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import GroupSettings
from bot.simulator import Room, SentMessage, Simulator, World
from tests.conftest import PRESIDENTS, TOKEN, RunningBot, settings_for, write_post

SECRETARY, ADMIN, MEMBER = "wxid_secretary_liu", "wxid_admin_wang", "wxid_vp_001"
TOPIC = "山西省山东商会会长官方群"
IMPOSTOR = "impostor@chatroom"


def to(chat: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.conversation_id == chat


@pytest.fixture
async def world_with_impostor() -> AsyncIterator[Simulator]:
    world = World.presidents_group()
    world.rooms[IMPOSTOR] = Room(IMPOSTOR, TOPIC, owner_id=MEMBER,
                                 member_ids=[world.bot_id, MEMBER, SECRETARY])
    simulator = Simulator(world, token=TOKEN)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_a_name_two_groups_share_serves_neither_and_the_admins_get_the_ids(
    tmp_path: Path, world_with_impostor: Simulator, start_bot: Any
) -> None:
    simulator = world_with_impostor
    settings = settings_for(simulator.endpoint, home=tmp_path)
    settings = settings.model_copy(update={"groups": [GroupSettings(topic=TOPIC)]})
    write_post(tmp_path, "notice", f'title = "通知"\ngroups = ["{TOPIC}"]', "正文。")
    running: RunningBot = await start_bot(settings)
    alert = await simulator.wait_for_sent(to(ADMIN))
    assert alert.text == (f"有 2 个群都叫“{TOPIC}”（{IMPOSTOR}、{PRESIDENTS}），无法确定是哪一个，"
                          "暂不在其中任何一个群里服务。请在 config.toml 的 [[groups]] 里写上正确的 id 后重启。")
    assert running.bot.served_rooms == set()

    await simulator.say(SECRETARY, "#发布 notice")
    assert "目标群都找不到" in (await simulator.wait_for_sent(to(SECRETARY))).text
    await simulator.say(MEMBER, "电话多少？", room_id=IMPOSTOR)
    await simulator.say(SECRETARY, "#我的ID")  # a marker: answered after the question would be
    await simulator.wait_for_sent(to(SECRETARY))
    assert not [s for s in simulator.sent if s.conversation_id in (IMPOSTOR, PRESIDENTS)]


async def test_groups_configured_by_id_are_served_whatever_shares_their_name(
    tmp_path: Path, world_with_impostor: Simulator, start_bot: Any
) -> None:
    simulator = world_with_impostor
    await start_bot(settings_for(simulator.endpoint, home=tmp_path))  # the tests' config: by id
    await simulator.say(MEMBER, "电话多少？", room_id=IMPOSTOR)
    await simulator.say(MEMBER, "邮编多少？", room_id=PRESIDENTS)
    answer = await simulator.wait_for_sent()
    assert (answer.conversation_id, answer.text) == (PRESIDENTS, "@朱会长\u2005邮政编码：030006")
    assert not [s for s in simulator.sent if s.conversation_id == IMPOSTOR]
