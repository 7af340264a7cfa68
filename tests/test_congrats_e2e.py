"""Congratulations on a post: counted once each, attributed, reported, thanked."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from PIL import Image

from bot.simulator import Simulator
from tests.conftest import (
    BOT_ID,
    PRESIDENTS,
    REPO,
    TEA,
    TEST_CONFIG,
    RunningBot,
    collector_of,
    decided,
    settings_for,
    write_post,
)

SECRETARY, ADMIN = "wxid_secretary_liu", "wxid_admin_wang"
TITLE = "喜讯：我会获评2019-2020年度全国“四好”商会"
RED_ENVELOPE, STICKER = 12, 5


def to(chat: str) -> Any:
    return lambda sent: sent.conversation_id == chat






async def start_award_bot(tmp_path: Path, simulator: Simulator, start_bot: Any) -> RunningBot:
    write_post(tmp_path, "award", f'title = "{TITLE}"\ncollect_congratulations = true',
               "全国工商联认定我会为2019-2020年度全国“四好”商会。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    return running


async def publish(simulator: Simulator) -> None:
    await simulator.say(SECRETARY, "#发布 award")
    await simulator.wait_for_sent(to(PRESIDENTS))
    await simulator.wait_for_sent(to(SECRETARY))  # "已发布…": the window is open


async def test_a_mixed_stream_gives_exactly_the_expected_records_and_report(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start_award_bot(tmp_path, simulator, start_bot)
    collector = collector_of(running)
    await simulator.say("wxid_vp_005", "恭喜恭喜", room_id=PRESIDENTS)  # before the post
    await decided(collector, 1)
    await publish(simulator)

    stream: list[tuple[str, str, int]] = [
        ("wxid_vp_001", "恭喜恭喜！实至名归[强]", 7),
        ("wxid_vp_002", "🌹🌹🌹", 7),
        ("wxid_vp_003", "[鼓掌][鼓掌]", 7),
        ("wxid_vp_004", "", RED_ENVELOPE),
        ("wxid_vp_005", "", STICKER),
        ("wxid_president_yi", "熱烈祝賀！🎉", 7),  # traditional
        ("wxid_vp_001", "👍", 7),  # the same member again
        ("wxid_vp_002", f"「商会小助手：{TITLE}」\n- - - - - - - - - - - - - - -\n收到", 7),  # quoted reply
        ("wxid_vp_003", "祝贺什么？", 7),  # a question
        ("wxid_vp_004", "恭喜！商会电话多少？", 7),  # an FAQ request: answered, not counted
        ("wxid_vp_005", "#帮助", 7),  # a command
        ("wxid_vp_002", "今天天气不错", 7),  # conversation
    ]
    # People type seconds apart: each waits for the one before it to be looked at, so the
    # order of first congratulation is well defined.
    for number, (talker, text, kind) in enumerate(stream[:8], start=2):
        await simulator.say(talker, text, room_id=PRESIDENTS, message_type=kind)
        await decided(collector, number)
    for talker, text, kind in stream[8:]:  # none of these may congratulate
        await simulator.say(talker, text, room_id=PRESIDENTS, message_type=kind)
    await simulator.say("wxid_vp_001", "恭喜", room_id=TEA)  # a group the bot does not serve
    await simulator.wait_for_sent(lambda s: s.text.endswith("0351-8224667"))  # the FAQ answer

    store = running.bot.store
    # Seventy-two hours later (the window closes), one more arrives: not counted.
    store.db.execute("UPDATE collections SET closes_at = ?", (time.time() - 1,))
    await simulator.say("wxid_vp_003", "迟到的祝贺🌹", room_id=PRESIDENTS)
    await decided(collector, 10)

    records = [(r.member_id, r.member_name, r.kinds)
               for r in running.bot.congratulations.records.congratulations("award")]
    assert records == [
        ("wxid_vp_001", "朱会长", ("点赞", "文字")),
        ("wxid_vp_002", "黄会长", ("鲜花",)),
        ("wxid_vp_003", "周会长", ("掌声",)),
        ("wxid_vp_004", "张会长", ("红包",)),
        ("wxid_vp_005", "李会长", ("表情",)),
        ("wxid_president_yi", "伊会长", ("表情", "文字")),
        ("wxid_vp_001", "朱会长", ("点赞",)),
        ("wxid_vp_002", "黄会长", ("文字",)),
    ]

    await simulator.say(SECRETARY, "#祝贺统计 award 未祝贺")
    report = (await simulator.wait_for_sent(to(SECRETARY))).text.splitlines()
    assert report[0] == f"“{TITLE}”祝贺统计"
    assert report[1].startswith("发出时间：") and report[2].startswith("统计时间：")
    assert report[3].startswith("征集截止：") and report[3].endswith("（已截止，之后的祝贺不再计入）")
    assert report[4] == "共 6 位会长祝贺，合计 8 条消息。"
    assert report[5] == "按类型：鲜花 1 · 掌声 1 · 点赞 2 · 红包 1 · 表情 2 · 文字 3"
    assert report[6].endswith("所以各类相加是 10，多于 8 条消息。")
    assert report[7] == "按祝贺先后：朱会长、黄会长、周会长、张会长、李会长、伊会长"
    # The secretary and the admin send the posts: they are not asked to congratulate.
    assert report[8] == "尚未祝贺：无，群里的会长都已祝贺。"
    picture = await simulator.wait_for_sent(to(SECRETARY))
    assert picture.kind == "file" and picture.text.endswith(".png")


async def test_replays_and_a_restart_during_the_window_do_not_double_count(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start_award_bot(tmp_path, simulator, start_bot)
    await publish(simulator)
    flowers = await simulator.say("wxid_vp_001", "🌹", room_id=PRESIDENTS)
    await decided(collector_of(running), 1)
    await simulator.emit_raw_event(2, f'{{"messageId":"{flowers}"}}')  # the gateway replays it

    await running.bot.stop()
    await running.task
    restarted = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    await simulator.emit_raw_event(2, f'{{"messageId":"{flowers}"}}')  # replayed after restart
    await simulator.say("wxid_vp_002", "👏", room_id=PRESIDENTS)
    await decided(collector_of(restarted), 2)  # the replay and the applause
    assert [(r.member_id, r.kinds) for r in restarted.bot.congratulations.records.congratulations("award")] == [
        ("wxid_vp_001", ("鲜花",)), ("wxid_vp_002", ("掌声",))]


async def test_thanks_once_and_export(tmp_path: Path, simulator: Simulator, start_bot: Any) -> None:
    running = await start_award_bot(tmp_path, simulator, start_bot)
    await publish(simulator)
    for number, talker in enumerate(("wxid_vp_001", "wxid_vp_002", "wxid_vp_003", "wxid_vp_004",
                                     "wxid_vp_005", "wxid_president_yi"), start=1):
        await simulator.say(talker, "恭喜！", room_id=PRESIDENTS)
        await decided(collector_of(running), number)
    await simulator.say(SECRETARY, "#致谢 award")
    thanks = await simulator.wait_for_sent(to(PRESIDENTS))
    assert thanks.text == "感谢朱会长、黄会长、周会长、张会长、李会长等6位会长的祝贺与支持！"
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == f"已在群里致谢：{thanks.text}"
    await simulator.say(SECRETARY, "#致谢 award")
    assert (await simulator.wait_for_sent(to(SECRETARY))).text.endswith("的致谢已经发过了，不再重复。")
    assert [s.text for s in simulator.sent if s.conversation_id == PRESIDENTS].count(thanks.text) == 1

    await running.bot.stop()
    await running.task
    out = tmp_path / "export"
    config = tmp_path / "config.toml"
    config.write_text(TEST_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot", "congrats", "export", "award", "--out", str(out),
                           "--config", str(config)], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    raw = (out / "祝贺统计-award.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["时间（北京时间）", "微信ID", "群昵称", "类型", "内容", "群ID", "消息ID"]
    assert [row[2] for row in rows[1:]] == ["朱会长", "黄会长", "周会长", "张会长", "李会长", "伊会长"]
    with Image.open(out / "祝贺统计-award.png") as image:
        assert image.width == 1080 and image.height > 1000  # a phone's width, as tall as needed


def test_the_picture_draws_chinese_with_a_chinese_font(tmp_path: Path) -> None:
    from PIL import ImageFont

    from bot.congrats.card import cjk_font_path

    font = ImageFont.truetype(str(cjk_font_path()), 40)
    # With a font lacking Chinese, every character is the same "missing" box.
    shapes = {bytes(font.getmask(char)) for char in "鲜花掌声点赞"}
    assert len(shapes) == 6


async def test_auto_thanks_when_the_window_closes(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "award", f'title = "{TITLE}"\ncollect_congratulations = true', "正文。")
    settings = settings_for(simulator.endpoint, home=tmp_path, congratulations={"auto_thanks": True})
    running: RunningBot = await start_bot(settings)
    assert running.bot.scheduler.aps.get_job("auto-thanks") is not None
    await publish(simulator)
    await simulator.say("wxid_vp_001", "恭喜🌹", room_id=PRESIDENTS)
    await decided(collector_of(running), 1)
    await running.bot.congratulations.thank_closed_windows()  # the window is still open: nothing yet
    running.bot.store.db.execute("UPDATE collections SET closes_at = ?", (time.time() - 1,))
    await running.bot.congratulations.thank_closed_windows()  # the minute's check after it closed
    await running.bot.congratulations.thank_closed_windows()  # and the next one: not again
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == "感谢朱会长的祝贺与支持！"
    await simulator.say("wxid_vp_002", "@商会小助手\u2005邮编？", room_id=PRESIDENTS, mention_ids=(BOT_ID,))
    await simulator.wait_for_sent(lambda s: s.text.endswith("030006"))
    assert [s.text for s in simulator.sent].count("感谢朱会长的祝贺与支持！") == 1


def test_a_window_closed_because_the_post_failed_opens_again_when_the_run_resumes(
    tmp_path: Path,
) -> None:
    from bot.congrats.records import Collection, CongratulationRecords
    from bot.core.store import Store

    database = Store(tmp_path / "bot.sqlite3")
    store = CongratulationRecords(database)
    now = time.time()
    store.open_collection(Collection("award", PRESIDENTS, "manual:1", now, now + 3600))
    store.close_collection("award", PRESIDENTS, "manual:1")  # part 1 did not go out
    assert store.collection_at(PRESIDENTS, now + 1) is None
    store.open_collection(Collection("award", PRESIDENTS, "manual:1", now + 5, now + 3605))
    assert store.collection_at(PRESIDENTS, now + 6) is not None
    store.open_collection(Collection("award", PRESIDENTS, "manual:1", now + 9, now + 10))
    window = store.collection_at(PRESIDENTS, now + 20)  # an open window is never shortened
    assert window is not None and window.closes_at == now + 3605
    database.close()
