"""The card a secretary forwards: the whole title however long, every name however many, a
timeline only when the congratulations spread over time; checked by size and by what changes
the pixels, not pixel by pixel."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageChops

from bot.congrats.card import CONTENT, cjk_font, drawable, render_png, wrap
from bot.congrats.records import Congratulation
from bot.congrats.report import Tally, timeline
from bot.simulator import Simulator, World
from bot.simulator.world import Contact
from tests.conftest import PRESIDENTS, TOKEN, collector_of, decided, settings_for, write_post
from tests.test_congrats_e2e import SECRETARY, to

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONG_TITLE = ("喜讯：热烈祝贺我会获评2019-2020年度全国“四好”商会，山西省工商联授予我会"
              "“先进商会组织”荣誉称号，特此通报全体会长")
SURNAMES = "陈杨赵吴孙徐马胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁"
NEWCOMERS = [Contact(f"wxid_vp_{100 + n}", f"{surname}会长", role="副会长")
             for n, surname in enumerate(SURNAMES)]


@pytest.fixture
async def big_group() -> AsyncIterator[Simulator]:
    """The presidents' group with thirty more vice presidents."""
    world = World.presidents_group()
    for contact in NEWCOMERS:
        world.contacts[contact.id] = contact
        world.rooms[PRESIDENTS].member_ids.append(contact.id)
    simulator = Simulator(world, token=TOKEN)
    await simulator.start()
    yield simulator
    await simulator.stop()


def size_of(found: Tally, path: Path) -> tuple[int, int]:
    with Image.open(render_png(found, path, SHANGHAI)) as image:
        return image.size


def differs(first: Path, second: Path) -> bool:
    with Image.open(first) as one, Image.open(second) as other:
        return one.size != other.size or ImageChops.difference(
            one.convert("RGB"), other.convert("RGB")).getbbox() is not None


async def test_a_long_title_and_thirty_names_make_a_taller_card_with_nothing_cut(
    tmp_path: Path, big_group: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "short", 'title = "表彰"\ncollect_congratulations = true', "正文。")
    write_post(tmp_path, "award", f'title = "{LONG_TITLE}"\ncollect_congratulations = true',
               "正文。")
    running = await start_bot(settings_for(big_group.endpoint, home=tmp_path))
    collector, said = collector_of(running), 0
    for post, talkers in (("short", ["wxid_vp_001", "wxid_vp_002"]),
                          ("award", ["wxid_vp_001", *(c.id for c in NEWCOMERS), "wxid_vp_002"])):
        await big_group.say(SECRETARY, f"#发布 {post}")
        await big_group.wait_for_sent(to(PRESIDENTS))
        await big_group.wait_for_sent(to(SECRETARY))  # "已发布…": its window is open
        for talker in talkers:
            await big_group.say(talker, "恭喜恭喜🌹", room_id=PRESIDENTS)
            said += 1
            await decided(collector, said)
    await big_group.say(SECRETARY, "#祝贺统计 award")
    report = (await big_group.wait_for_sent(to(SECRETARY))).text
    assert f"按祝贺先后：朱会长、{'、'.join(c.name for c in NEWCOMERS)}、黄会长" in report
    assert (await big_group.wait_for_sent(to(SECRETARY))).text == "[文件] 祝贺统计-award.png"

    short = running.bot.congratulations.tally("short")
    award = running.bot.congratulations.tally("award")
    assert len(award.members) == 32
    short_size = size_of(short, tmp_path / "short.png")
    award_size = size_of(award, tmp_path / "award.png")
    assert short_size[0] == award_size[0] == 1080  # a phone's width
    assert award_size[1] > short_size[1] + 200  # the title's lines and five rows of names

    # Every name is drawn: the first five alone make a shorter card.
    five = dataclasses.replace(award, records=award.records[:5])
    assert size_of(five, tmp_path / "five.png")[1] < award_size[1]
    # The whole title is drawn: without its last characters the card is not the same.
    cut = dataclasses.replace(award, title=LONG_TITLE[:-4])
    render_png(cut, tmp_path / "cut.png", SHANGHAI)
    assert differs(tmp_path / "award.png", tmp_path / "cut.png")
    render_png(award, tmp_path / "again.png", SHANGHAI)
    assert not differs(tmp_path / "award.png", tmp_path / "again.png")  # the check can tell


def test_a_long_title_wraps_into_lines_that_fit_and_keeps_every_character() -> None:
    font = cjk_font(46)
    lines = wrap(f"“{LONG_TITLE}”", font, CONTENT)
    assert "".join(lines) == f"“{LONG_TITLE}”"
    assert len(lines) >= 3
    for line in lines:  # closing punctuation may hang past the edge, nothing else
        assert font.getlength(line.rstrip("，。”")) <= CONTENT
        assert not line.startswith(("，", "”", "。"))
    assert "2019-2020年度" in "".join(line for line in lines if "2019" in line)  # never 201|9


def test_names_drop_what_the_font_would_draw_as_boxes() -> None:
    assert drawable("张会长🌹") == "张会长"
    assert drawable("Tony 王") == "Tony 王"


def congratulations_at(opened: float, offsets: list[float]) -> Tally:
    records = [Congratulation(f"m{n}", "award", PRESIDENTS, f"wxid_{n}", f"会长{n}",
                              opened + offset, ("文字",)) for n, offset in enumerate(offsets)]
    return Tally("award", LONG_TITLE, opened, opened + 72 * 3600, opened + 4 * 86_400, records)


def test_the_timeline_buckets_fit_the_span_and_appear_only_over_time(tmp_path: Path) -> None:
    opened = 1_764_645_840.0  # 2025-12-02 11:24 in Shanghai

    burst = congratulations_at(opened, [10, 60, 120, 200])  # all before 11:30
    assert timeline(burst, SHANGHAI) is None

    first_hours = congratulations_at(opened, [10, 60, 700, 3000, 7000])
    minutes = timeline(first_hours, SHANGHAI)
    assert minutes is not None and minutes.step == 600
    assert minutes.start == opened - 240  # 11:20, on the clock
    assert sum(minutes.counts) == 5 and minutes.counts[:2] == [2, 1]

    over_days = congratulations_at(opened, [10, 60, 3 * 3600, 30 * 3600, 60 * 3600])
    hours = timeline(over_days, SHANGHAI)
    assert hours is not None and hours.step == 3600
    assert hours.start == opened - 24 * 60  # 11:00
    assert len(hours.counts) == 61 and sum(hours.counts) == 5

    # The card draws the timeline when there is one, and only then.
    same_records_at_once = dataclasses.replace(
        first_hours, records=[dataclasses.replace(r, at=opened + 10) for r in first_hours.records])
    assert size_of(first_hours, tmp_path / "spread.png")[1] > \
        size_of(same_records_at_once, tmp_path / "burst.png")[1] + 200
