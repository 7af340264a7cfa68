"""Every command x every kind of person x every place, against the README's table.

Who: a stranger (not in any group the bot serves), a member, a member writing in a group the
bot does not serve, a secretary, an admin. Where: the served group, a private chat. A command
is either run, or refused with one sentence (the role, or the place), or, in a group the bot
does not serve, not answered at all.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.commands import CommandSpec
from bot.core.router import Place, Role
from bot.simulator import Contact, Simulator, World
from handlers import command_table
from tests.conftest import PRESIDENTS, REPO, TEA, TOKEN, settings_for, write_post

STRANGER = "wxid_stranger"
PEOPLE = {  # who -> (WeChat id, role, the group they write in)
    "stranger": (STRANGER, Role.MEMBER, None),
    "member": ("wxid_vp_003", Role.MEMBER, PRESIDENTS),
    "member of an unserved group": ("wxid_vp_001", Role.MEMBER, TEA),
    "secretary": ("wxid_secretary_liu", Role.SECRETARY, PRESIDENTS),
    "admin": ("wxid_admin_wang", Role.ADMIN, PRESIDENTS),
}
ROLE_WORDS = {"everyone": Role.MEMBER, "secretaries": Role.SECRETARY, "admins": Role.ADMIN}
PLACE_WORDS = {"anywhere": Place.ANYWHERE, "private chat": Place.PRIVATE}


def readme_table() -> dict[str, tuple[Role, Place]]:
    """README's 'Chat commands' table: command -> (who may, where)."""
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## Chat commands")[1]
    table: dict[str, tuple[Role, Place]] = {}
    for who, where, commands in re.findall(r"^\| (\w[\w ]*?) \| ([\w ]+?) \| (.+) \|$",
                                           section.split("\n## ")[0], re.MULTILINE):
        if who in ROLE_WORDS:
            for name in re.findall(r"`#([^\s`]+)", commands):
                table[name] = (ROLE_WORDS[who], PLACE_WORDS[where])
    return table


def test_the_readme_table_names_every_command_with_its_role_and_place() -> None:
    assert readme_table() == {spec.name: (spec.role, spec.place) for spec in command_table()}


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    world = World.presidents_group()
    world.contacts[STRANGER] = Contact(STRANGER, "陌生人")
    sim = Simulator(world, token=TOKEN)
    await sim.start()
    yield sim
    await sim.stop()


def expected(spec: CommandSpec, role: Role, place: Place, served: bool) -> str | None:
    """The refusal the person gets, '' when the command runs, None when nothing answers."""
    if not served:
        return None
    if role < spec.role:
        return f"抱歉，#{spec.name} 仅限{'秘书处' if spec.role is Role.SECRETARY else '管理员'}使用。"
    if not spec.place & place:
        return f"#{spec.name} 请在私聊机器人时使用，例如：{spec.example}"
    return ""


async def test_every_command_for_every_person_in_every_place(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "meeting", 'title = "会长办公会通知"', "请准时参加。")
    await start_bot(settings_for(simulator.endpoint, home=tmp_path, sending={
        "member_replies_per_minute": 1000, "all_member_replies_per_minute": 1000}))
    checked = 0
    for who, (person, role, group) in PEOPLE.items():
        places = [(Place.PRIVATE, None)] + ([(Place.GROUP, group)] if group else [])
        for place, room in places:
            for spec in command_table():
                text = spec.example.replace("award-2019-2020-sihao", "meeting").split("\n")[0]
                if spec.name == "删除":
                    text = "#删除 meeting"  # asks for the confirmation: changes nothing
                await simulator.say(person, text, room_id=room)
                await simulator.say(person, "#标记")  # a marker: its answer closes the case
                answers: list[str] = []
                while not (answers and answers[-1].startswith("没有“#标记”这个命令")):
                    answers.append((await simulator.wait_for_sent(
                        lambda s, p=person: s.conversation_id == p, timeout=10)).text)
                refusal = expected(spec, role, place, served=room != TEA)
                case = f"{who}, {place.name}, {text!r}: {answers[:-1]}"
                if refusal is None:
                    assert answers[:-1] == [], case
                elif refusal:
                    assert answers[:-1] == [refusal], case
                else:
                    assert not any("仅限" in a or "请在私聊" in a for a in answers[:-1]), case
                checked += 1
    assert checked == len(command_table()) * 9
    # Only the secretary's #发布 reached a group; the admin's the same day was refused.
    assert [s.text for s in simulator.sent if s.conversation_id in (PRESIDENTS, TEA)] == [
        "会长办公会通知\n\n请准时参加。"]
