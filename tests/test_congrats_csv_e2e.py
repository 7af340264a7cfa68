"""`python -m bot congrats export`: each message's text and time (Asia/Shanghai) in the CSV, and
a database from the version before the text column still loads and keeps counting."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, REPO, TEST_CONFIG, collector_of, decided
from tests.test_congrats_e2e import RED_ENVELOPE, SECRETARY, publish, start_award_bot, to

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = ["时间（北京时间）", "微信ID", "群昵称", "类型", "内容", "群ID", "消息ID"]
# The tables as the version before the text column created them.
OLD_SCHEMA = """
CREATE TABLE collections (post_id TEXT NOT NULL, group_id TEXT NOT NULL, slot TEXT NOT NULL,
    opened_at REAL NOT NULL, closes_at REAL NOT NULL, PRIMARY KEY (post_id, group_id, slot));
CREATE TABLE congratulations (message_id TEXT PRIMARY KEY, post_id TEXT NOT NULL,
    group_id TEXT NOT NULL, member_id TEXT NOT NULL, member_name TEXT NOT NULL, at REAL NOT NULL,
    kinds TEXT NOT NULL);
CREATE INDEX congratulations_by_post ON congratulations (post_id, at);
"""


def export(home: Path) -> list[list[str]]:
    """Runs the export as an operator would and returns the CSV's rows."""
    config = home / "config.toml"
    config.write_text(TEST_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    out = home / "export"
    done = subprocess.run([sys.executable, "-m", "bot", "congrats", "export", "award", "--out",
                           str(out), "--config", str(config)], capture_output=True, text=True,
                          cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    raw = (out / "祝贺统计-award.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


async def test_the_csv_has_each_messages_text_and_its_time_in_shanghai(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start_award_bot(tmp_path, simulator, start_bot)
    await publish(simulator)
    long_wish = "恭喜" + "贺" * 600
    said = [
        ("wxid_vp_001", "恭喜恭喜！实至名归[强]", 7),
        ("wxid_vp_004", "", RED_ENVELOPE),
        ("wxid_vp_002", "+1 祝贺", 7),  # Excel would take it for a formula
        ("wxid_vp_003", long_wish, 7),
    ]
    ids = []
    for number, (talker, text, kind) in enumerate(said, start=1):
        ids.append(await simulator.say(talker, text, room_id=PRESIDENTS, message_type=kind))
        await decided(collector_of(running), number)
    await running.bot.stop()
    await running.task

    rows = export(tmp_path)
    assert rows[0] == HEADER
    sent_at = [datetime.fromtimestamp(simulator.world.messages[i].timestamp_ms / 1000, SHANGHAI)
               for i in ids]
    assert [row[0] for row in rows[1:]] == [f"{at:%Y-%m-%d %H:%M:%S}" for at in sent_at]
    assert [row[1:] for row in rows[1:]] == [
        ["wxid_vp_001", "朱会长", "点赞、文字", "恭喜恭喜！实至名归[强]", PRESIDENTS, ids[0]],
        ["wxid_vp_004", "张会长", "红包", "[红包]", PRESIDENTS, ids[1]],
        ["wxid_vp_002", "黄会长", "文字", "'+1 祝贺", PRESIDENTS, ids[2]],
        ["wxid_vp_003", "周会长", "文字", long_wish[:500], PRESIDENTS, ids[3]],
    ]


async def test_a_database_from_before_the_text_column_loads_and_keeps_counting(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    now = time.time()
    (tmp_path / "data").mkdir()
    old = sqlite3.connect(tmp_path / "data" / "bot.sqlite3")
    old.executescript(OLD_SCHEMA)
    old.execute("INSERT INTO collections VALUES ('award', ?, 'manual:old', ?, ?)",
                (PRESIDENTS, now - 60, now + 3600))
    old.execute("INSERT INTO congratulations VALUES ('old-1', 'award', ?, 'wxid_vp_005', '李会长',"
                " ?, '鲜花')", (PRESIDENTS, now - 30))
    old.commit()
    old.close()

    running = await start_award_bot(tmp_path, simulator, start_bot)  # the window is still open
    new_id = await simulator.say("wxid_vp_001", "恭喜🌹", room_id=PRESIDENTS)
    await decided(collector_of(running), 1)
    await simulator.say(SECRETARY, "#祝贺统计 award")
    report = (await simulator.wait_for_sent(to(SECRETARY))).text.splitlines()
    assert "共 2 位会长祝贺，合计 2 条消息。" in report
    assert "按祝贺先后：李会长、朱会长" in report
    await running.bot.stop()
    await running.task

    rows = export(tmp_path)
    assert [(row[1], row[4], row[6]) for row in rows[1:]] == [
        ("wxid_vp_005", "", "old-1"),  # recorded before the text was kept
        ("wxid_vp_001", "恭喜🌹", new_id),
    ]
