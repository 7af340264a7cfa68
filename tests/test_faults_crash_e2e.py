"""Fault suite, the bot killed with -9: while a post's part is in the gateway's hands, and in the
middle of a burst of congratulations. The bot runs as a process (tests/bot_process.py) and is
restarted on the same data directory; what survives is what was committed to SQLite.

(Killed between two parts, each part exactly once: test_announcements_e2e.py's kill -9 test.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.core.store import Store
from bot.simulator import Simulator
from tests.bot_process import QUICK_PARTS, BotProcess, write_config
from tests.conftest import PRESIDENTS, TOKEN, RunningBot, collector_of, decided, settings_for
from tests.faults import four_part_post, group_lines, ledger_rows
from tests.test_announcements_e2e import ADMIN, MEMBER, SECRETARY, to
from tests.test_congrats_e2e import TITLE, write_post

POSTCODE = "@朱会长\u2005邮政编码：030006"


async def test_kill_9_while_a_part_is_in_the_gateways_hands_never_sends_it_twice(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    four_part_post(tmp_path, grace_minutes=10)
    first = BotProcess(write_config(tmp_path, simulator.endpoint, TOKEN, QUICK_PARTS), TOKEN)
    await first.start_logged_in()
    await simulator.say(SECRETARY, "#发布 series")
    assert (await simulator.wait_for_sent(to(PRESIDENTS), timeout=10)).text.startswith("四段公告（1/4）")
    simulator.hang()  # part 2, half a second later, is taken and held
    await simulator.requests.wait_for("MessageSendText", 2)
    first.kill_9()
    assert await first.wait() == -9
    # What the crash left: part 2 marked 'sending' before it was handed over, 3 and 4 planned.
    assert ledger_rows(tmp_path, "series") == [(1, "sent"), (2, "sending"), (3, "pending"),
                                               (4, "pending")]
    await simulator.wait_disconnected()  # what the gateway held died with the connection
    simulator.resume()

    await start_bot(settings_for(simulator.endpoint, home=tmp_path, sending={"max_text_length": 500}))
    report = await simulator.wait_for_sent(to(ADMIN))
    rest = [await simulator.wait_for_sent(to(PRESIDENTS)) for _ in range(2)]
    await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)  # after it, the outbox is empty
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == POSTCODE

    assert report.text.startswith("上次停机时这部分正在发送，是否已发出不明，未重发：series → "
                                  "presidents@chatroom @ manual:")
    assert report.text.endswith("part 2/4。请到群里看看，缺了就用 #预览 取原文手动补上")
    assert [part.text.split("\n")[0] for part in rest] == ["（3/4）", "（4/4）"]
    # Part 2 never reached this group (the gateway held it, then lost it) and was not resent.
    assert group_lines(simulator) == ["四段公告（1/4）", "（3/4）", "（4/4）", POSTCODE]
    assert ledger_rows(tmp_path, "series") == [(1, "sent"), (2, "unknown"), (3, "sent"),
                                               (4, "sent")]
    assert [s.text for s in simulator.sent if s.conversation_id == ADMIN] == [report.text]


MEMBERS = ["wxid_vp_001", "wxid_vp_002", "wxid_vp_003", "wxid_vp_004", "wxid_vp_005",
           "wxid_president_yi"]
WORDS = ["恭喜恭喜", "🌹🌹", "[强][强]", "热烈祝贺！", "👏", "实至名归[玫瑰]"]
ROUNDS = 6


def records_in(home: Path) -> int:
    store = Store(home / "data" / "bot.sqlite3")
    try:
        return int(store.db.execute("SELECT COUNT(*) FROM congratulations").fetchone()[0])
    finally:
        store.close()


async def test_kill_9_mid_congratulation_burst_counts_each_once_after_the_replay(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "award", f'title = "{TITLE}"\ncollect_congratulations = true',
               "全国工商联认定我会为2019-2020年度全国“四好”商会。")
    first = BotProcess(write_config(tmp_path, simulator.endpoint, TOKEN, {}), TOKEN)
    await first.start_logged_in()
    await simulator.say(SECRETARY, "#发布 award")
    await simulator.wait_for_sent(to(PRESIDENTS), timeout=10)
    await simulator.wait_for_sent(to(SECRETARY), timeout=10)  # "已发布…": the window is open
    burst = [(member, WORDS[(n + round_) % len(WORDS)])
             for round_ in range(ROUNDS) for n, member in enumerate(MEMBERS)]
    half = len(burst) // 2
    said = [await simulator.say(member, text, room_id=PRESIDENTS) for member, text in burst[:half]]
    await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)  # answered: the first half is in
    assert (await simulator.wait_for_sent(to(PRESIDENTS), timeout=10)).text == POSTCODE
    loaded = simulator.requests["MessagePayload"]
    said += [await simulator.say(member, text, room_id=PRESIDENTS) for member, text in burst[half:]]
    await simulator.requests.wait_for("MessagePayload", loaded + half // 2)
    first.kill_9()  # a quarter of the burst being read by the bot, the rest on its way
    assert await first.wait() == -9
    recorded_when_killed = records_in(tmp_path)
    assert 0 < recorded_when_killed < len(said), recorded_when_killed

    restarted: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    for message_id in said:  # the gateway replays the burst after the reconnect
        await simulator.emit_raw_event(2, json.dumps({"messageId": message_id}))
    await decided(collector_of(restarted), len(said))
    records = restarted.bot.congratulations.records.congratulations("award")
    assert sorted(r.message_id for r in records) == sorted(said)  # none lost, none twice

    await simulator.say(SECRETARY, "#祝贺统计 award")
    report = (await simulator.wait_for_sent(to(SECRETARY))).text.splitlines()
    assert report[4] == f"共 {len(MEMBERS)} 位会长祝贺，合计 {len(said)} 条消息。"
    assert report[5] == "按类型：鲜花 12 · 掌声 6 · 点赞 6 · 红包 0 · 表情 0 · 文字 18"
