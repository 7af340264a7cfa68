"""The secretary's #祝贺统计: when it was counted, when the window closes, why the kinds add up
to more than the messages, and who has not congratulated (never the secretariat or the bot)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.chinese_time import minute
from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, collector_of, decided
from tests.test_congrats_e2e import (
    RED_ENVELOPE,
    SECRETARY,
    TITLE,
    publish,
    start_award_bot,
    to,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
STREAM = [  # five messages, seven kinds
    ("wxid_vp_001", "恭喜恭喜！实至名归[强]", 7),  # 点赞 and 文字
    ("wxid_vp_002", "🌹", 7),
    ("wxid_vp_003", "[鼓掌]", 7),
    ("wxid_vp_004", "", RED_ENVELOPE),
    ("wxid_president_yi", "熱烈祝賀！🎉", 7),  # 表情 and 文字
]


def at(moment: float) -> str:
    return minute(datetime.fromtimestamp(moment, SHANGHAI))


async def test_the_report_ten_minutes_after_the_post_says_when_it_counted_and_who_is_missing(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start_award_bot(tmp_path, simulator, start_bot)
    await publish(simulator)
    collector = collector_of(running)
    for number, (talker, text, kind) in enumerate(STREAM, start=1):
        await simulator.say(talker, text, room_id=PRESIDENTS, message_type=kind)
        await decided(collector, number)
    # Ten minutes pass: the post and its congratulations move ten minutes into the past.
    db = running.bot.store.db
    db.execute("UPDATE collections SET opened_at = opened_at - 600, closes_at = closes_at - 600")
    db.execute("UPDATE congratulations SET at = at - 600")
    opened, closes = db.execute("SELECT opened_at, closes_at FROM collections").fetchone()

    before = time.time()
    await simulator.say(SECRETARY, "#祝贺统计 award 未祝贺")
    report = (await simulator.wait_for_sent(to(SECRETARY))).text.splitlines()
    after = time.time()

    assert report[0] == f"“{TITLE}”祝贺统计"
    assert report[1] == f"发出时间：{at(opened)}"
    assert report[2] in {f"统计时间：{at(moment)}（发出后 10 分钟）" for moment in (before, after)}
    assert report[3] == f"征集截止：{at(closes)}（还有 2 天 23 小时）"  # of the 72-hour window
    assert report[4] == "共 5 位会长祝贺，合计 5 条消息。"
    assert report[5] == "按类型：鲜花 1 · 掌声 1 · 点赞 1 · 红包 1 · 表情 1 · 文字 2"
    assert report[6] == ("一条消息可同时计入几种类型（如“恭喜[强]”既算文字也算点赞），"
                         "所以各类相加是 7，多于 5 条消息。")
    assert report[7] == "按祝贺先后：朱会长、黄会长、周会长、张会长、伊会长"
    # Not the bot (商会小助手), the secretary (刘秘书长) or the admin (王管理员).
    assert report[8] == "尚未祝贺（1 位）：李会长"
    assert report[9] == "统计图随后发来，可直接转发到群里。"
    assert len(report) == 10
    picture = await simulator.wait_for_sent(to(SECRETARY))
    assert picture.kind == "file" and picture.text == "[文件] 祝贺统计-award.png"


async def test_after_the_window_closed_the_report_says_so_and_without_missing_asks_nothing(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start_award_bot(tmp_path, simulator, start_bot)
    await publish(simulator)
    await simulator.say("wxid_vp_002", "👏", room_id=PRESIDENTS)
    await decided(collector_of(running), 1)
    db = running.bot.store.db
    db.execute("UPDATE collections SET opened_at = opened_at - 3 * 86400,"
               " closes_at = opened_at - 3 * 86400 + 72 * 3600")
    closes = db.execute("SELECT closes_at FROM collections").fetchone()[0]

    await simulator.say(SECRETARY, "#祝贺统计")  # the latest collecting post, no 未祝贺
    report = (await simulator.wait_for_sent(to(SECRETARY))).text.splitlines()
    assert report[2].startswith("统计时间：") and report[2].endswith("（发出后 3 天）")
    assert report[3] == f"征集截止：{at(closes)}（已截止，之后的祝贺不再计入）"
    assert report[4:] == ["共 1 位会长祝贺，合计 1 条消息。",
                          "按类型：鲜花 0 · 掌声 1 · 点赞 0 · 红包 0 · 表情 0 · 文字 0",
                          "按祝贺先后：黄会长",
                          "统计图随后发来，可直接转发到群里。"]
