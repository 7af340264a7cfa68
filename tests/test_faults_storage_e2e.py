"""Fault suite, the database: locked by another program, and the disk full, for a while, in the
middle of a post and of congratulations. Timings scaled as in tests/faults.py (the outage's
two minutes are 6 s), the database's own too (scale_database_timings).

Stand-ins. "Locked": a second connection holds SQLite's write lock (BEGIN IMMEDIATE), as a
sqlite3 shell in the middle of a transaction would. "Disk full": `PRAGMA max_page_count` set to
the database's size on the bot's own connection, so every write that needs a new page fails
with SQLITE_FULL ("database or disk is full"), the error a full disk gives; writes that fit in
pages already there still succeed, which a full disk may also allow or refuse (the WAL).
What it proves: a write refused with that error loses no congratulation, sends no part twice,
and alerts the admins, who hear of the recovery too; it does not exercise the file system.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, RunningBot, write_post
from tests.faults import (
    GRACE_MINUTES,
    SCALE,
    group_lines,
    ledger_rows,
    scale_database_timings,
    scaled,
)
from tests.test_announcements_e2e import ADMIN, MEMBER, SECRETARY, to
from tests.webhook_receiver import WebhookReceiver

OUTAGE = 120 / SCALE  # "two minutes"
POSTCODE = "@朱会长\u2005邮政编码：030006"
PARTS = ["四段公告（1/4）", "（2/4）", "（3/4）", "（4/4）"]
CONGRATULATING = ["wxid_vp_001", "wxid_vp_002", "wxid_vp_003", "wxid_vp_004", "wxid_vp_005",
                  "wxid_president_yi"]
FULL = "database or disk is full"


@pytest.fixture(autouse=True)
def database_timings_scaled(monkeypatch: pytest.MonkeyPatch) -> None:
    scale_database_timings(monkeypatch)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    yield server
    await server.stop()


def four_part_post(home: Path, front: str = "") -> None:
    paragraphs = [f"第{n}部分：" + "商会工作稳步推进，会员企业积极参与。" * 22 for n in range(1, 5)]
    write_post(home, "series", f'title = "四段公告"\ngrace_minutes = {GRACE_MINUTES}\n{front}',
               "\n\n".join(paragraphs))


def events(receiver: WebhookReceiver) -> list[tuple[str, str]]:
    return [(body["event"], body["state"]) for body in receiver.bodies]


def records_of(running: RunningBot, post_id: str) -> list[str]:
    return [r.message_id for r in running.bot.congratulations.records.congratulations(post_id)]


class Lock:
    """Another program holding the database's write lock, from now for `seconds` (its own
    thread: the bot's event loop does not release it)."""

    def __init__(self, database: Path, seconds: float) -> None:
        self.released = threading.Event()
        self.released_at = float("inf")  # time.monotonic()
        self._db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        self._db.execute("BEGIN IMMEDIATE")
        self._timer = threading.Timer(seconds, self.release)
        self._timer.start()

    def release(self) -> None:
        if not self.released.is_set():
            self._db.execute("COMMIT")
            self._db.close()
            self.released_at = time.monotonic()
            self.released.set()

    def cancel(self) -> None:
        self._timer.cancel()
        self.release()


async def test_database_locked_for_two_minutes_mid_post_and_congratulations(
    tmp_path: Path, simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    four_part_post(tmp_path, "collect_congratulations = true")
    running: RunningBot = await start_bot(scaled(simulator, tmp_path, receiver.url))
    await simulator.say(SECRETARY, "#发布 series")
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text.startswith(PARTS[0])
    lock = Lock(tmp_path / "data" / "bot.sqlite3", OUTAGE)  # part 2 is 3 s (scaled) away
    try:
        said = [await simulator.say(member, "恭喜恭喜🌹", room_id=PRESIDENTS)
                for member in CONGRATULATING[:3]]
        await receiver.wait_for(lambda bodies: ("storage", "alert") in events(receiver))
        assert not lock.released.is_set()
        rest = [await simulator.wait_for_sent(to(PRESIDENTS), timeout=20) for _ in range(3)]
        assert rest[0].at >= lock.released_at  # part 2 waited for the database
    finally:
        lock.cancel()
    answer = await simulator.wait_for_sent(to(SECRETARY), timeout=10)
    await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)  # after it, the outbox is empty
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == POSTCODE
    await receiver.wait_for(lambda bodies: ("storage", "recovered") in events(receiver))
    await simulator.say(SECRETARY, "#祝贺统计 series")
    report = (await simulator.wait_for_sent(to(SECRETARY))).text.splitlines()

    assert group_lines(simulator) == [*PARTS, POSTCODE]  # each part once, in order
    assert ledger_rows(tmp_path, "series") == [(1, "sent"), (2, "sent"), (3, "sent"), (4, "sent")]
    assert answer.text == "已发布“四段公告”到 1 个群，共 4 条。"
    assert sorted(records_of(running, "series")) == sorted(said)  # none lost, none twice
    assert report[4] == "共 3 位会长祝贺，合计 3 条消息。"
    assert events(receiver) == [("storage", "alert"), ("storage", "recovered")]
    alert = receiver.bodies[0]["message"]
    assert alert.startswith("数据库出错：OperationalError: database is locked（")
    assert "另一个程序锁住了数据库：请关掉正在用它的程序（如 sqlite3 窗口）。" in alert
    to_admin = [s.text for s in simulator.sent if s.conversation_id == ADMIN]
    assert to_admin == [f"【告警】{alert}", "【已恢复】数据库恢复正常。"]


async def test_disk_full_for_two_minutes_during_a_congratulation_burst(
    tmp_path: Path, simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    write_post(tmp_path, "award", 'title = "喜讯"\ncollect_congratulations = true', "我会获评四好商会。")
    running: RunningBot = await start_bot(scaled(simulator, tmp_path, receiver.url))
    await simulator.say(SECRETARY, "#发布 award")
    await simulator.wait_for_sent(to(PRESIDENTS))
    await simulator.wait_for_sent(to(SECRETARY))  # "已发布…": the window is open
    db = running.bot.store.db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from now ...
    freed = asyncio.get_running_loop().call_later(  # ... for the outage's length
        OUTAGE, lambda: db.execute("PRAGMA max_page_count = 1073741823"))
    try:
        said = [await simulator.say(member, f"第{n}轮：恭喜恭喜！" + "实至名归" * 80,
                                    room_id=PRESIDENTS)
                for n in range(6) for member in CONGRATULATING]
        await receiver.wait_for(lambda bodies: ("storage", "alert") in events(receiver))
        written_while_full = len(records_of(running, "award"))
        asked = time.monotonic()
        await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)  # still answered meanwhile
        answer = await simulator.wait_for_sent(to(PRESIDENTS))
        assert answer.text == POSTCODE and answer.at - asked < 1
        await receiver.wait_for(lambda bodies: ("storage", "recovered") in events(receiver),
                                timeout=OUTAGE + 10)
    finally:
        freed.cancel()
    await simulator.say(SECRETARY, "#祝贺统计 award")
    report = (await simulator.wait_for_sent(to(SECRETARY))).text.splitlines()

    assert written_while_full < len(said)  # the rest were held in memory, then written
    assert sorted(records_of(running, "award")) == sorted(said)  # none lost, none twice
    assert report[4] == f"共 {len(CONGRATULATING)} 位会长祝贺，合计 {len(said)} 条消息。"
    assert events(receiver) == [("storage", "alert"), ("storage", "recovered")]
    alert = receiver.bodies[0]["message"]
    assert alert.startswith(f"数据库出错：OperationalError: {FULL}（")
    assert "请检查磁盘空间和文件权限。" in alert and "收到的祝贺先记在内存里，恢复后写入" in alert
    to_admin = [s.text for s in simulator.sent if s.conversation_id == ADMIN]
    assert to_admin == [f"【告警】{alert}", "【已恢复】数据库恢复正常。"]
