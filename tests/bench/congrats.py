"""Congratulations figure: 5,000 congratulations from 500 members within 10 seconds.

Every one must be recorded, the tally by kind exact; reported: the time from the last
message to its record being committed (read from the bot's SQLite, as an export would).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.simulator import Simulator

MESSAGES, MEMBERS, SECONDS = 5_000, 500, 10
SAMPLES = [("恭喜恭喜🌹", ("鲜花", "文字")), ("👍", ("点赞",)), ("[鼓掌][鼓掌]", ("掌声",)),
           ("热烈祝贺！", ("文字",)), ("🎉🎉", ("表情",)), ("[红包]", ("红包",))]


async def figures(sim: Simulator, config_text: str, token: str, repo: Path, group: str,
                  report: Callable[[str], None]) -> None:
    home = Path(tempfile.mkdtemp(prefix="bench-congrats-"))
    (home / "config.toml").write_text(config_text, encoding="utf-8")
    due = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(seconds=4)).replace(microsecond=0)
    (home / "announcements").mkdir()
    (home / "announcements" / "award.md").write_text(
        f'+++\ntitle = "喜讯：我会获评全国“四好”商会"\nschedule = "{due:%Y-%m-%d %H:%M:%S}"\n'
        'collect_congratulations = true\n+++\n详见秘书处通知。\n', encoding="utf-8")
    env = {**os.environ, "WECHATY_PUPPET_SERVICE_ENDPOINT": sim.endpoint,
           "WECHATY_PUPPET_SERVICE_TOKEN": token, "PYTHONPATH": str(repo)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(home / "config.toml"), env=env,
        cwd=home, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        await sim.wait_for_sent(lambda s: s.text.startswith("喜讯"), timeout=30)
        expected: Counter[str] = Counter()
        started = time.monotonic()
        for n in range(MESSAGES):
            delay = started + n * SECONDS / MESSAGES - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            text, kinds = SAMPLES[n % len(SAMPLES)]
            expected.update(kinds)
            await sim.say(f"wxid_m{n % MEMBERS:03d}", text, room_id=group)
        last_said = time.monotonic()
        database = sqlite3.connect(f"file:{home / 'data' / 'bot.sqlite3'}?mode=ro", uri=True)
        async with asyncio.timeout(60):
            while database.execute("SELECT COUNT(*) FROM congratulations").fetchone()[0] < MESSAGES:
                await asyncio.sleep(0.01)  # a benchmark reading the store, not a test
        committed = time.monotonic()
        rows = database.execute("SELECT kinds, member_id FROM congratulations").fetchall()
        database.close()
    finally:
        process.terminate()
        await process.wait()
    tallied = Counter(kind for kinds, _ in rows for kind in kinds.split(","))
    members = len({member for _, member in rows})
    report(f"{MESSAGES:,} congratulations from {MEMBERS} members in {last_said - started:.1f} s: "
           f"{len(rows):,} recorded from {members} members, tally "
           f"{'exact' if tallied == expected else f'WRONG {dict(tallied)} != {dict(expected)}'}; "
           f"last record committed {(committed - last_said) * 1000:.0f} ms after the last message")
