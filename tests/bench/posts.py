"""Announcement figures for the benchmark: scheduling lag, and start-up with 1,000 post files.

1. 100 one-off posts, four per second from 10 s after start-up: the lag from each scheduled
   second to the first part on the wire (the simulator's receipt), rate limit off.
2. Start-up: from process start to the first answered question, with 0 and with 1,000 post
   files (daily, weekly, monthly, one-off and cron schedules, some paused).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.simulator import SentMessage, Simulator

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCHEDULES = ["每天 08:30", "每周一 09:00", "每月1日 09:00", "工作日 18:00", "cron: 0 9 * * 1-5",
             "2099-01-01 09:00"]


def write_posts(directory: Path, count: int, schedule: Callable[[int], str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (directory / f"post-{n:04d}.md").write_text(
            f'+++\ntitle = "第{n}号公告"\nschedule = "{schedule(n)}"\npaused = {str(n % 7 == 0).lower()}\n'
            f'+++\n各位会长：第{n}号公告正文。\n\n第二段。\n', encoding="utf-8")


async def start_bot(config: Path, sim: Simulator, token: str, repo: Path
                    ) -> asyncio.subprocess.Process:
    env = {**os.environ, "WECHATY_PUPPET_SERVICE_ENDPOINT": sim.endpoint,
           "WECHATY_PUPPET_SERVICE_TOKEN": token, "PYTHONPATH": str(repo)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config), env=env, cwd=config.parent,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def first_answer_after(sim: Simulator, group: str, talker: str) -> None:
    """Ask until the bot answers (it may still be connecting), without fixed sleeps."""
    async with asyncio.timeout(60):
        await sim.wait_connected(timeout=60)
        while True:
            await sim.say(talker, "@商会小助手\u2005邮编？", room_id=group,
                          mention_ids=("wxid_chamber_bot",))
            try:
                await sim.wait_for_sent(lambda s: s.text.endswith("030006"), timeout=1)
                return
            except TimeoutError:
                continue  # logged in, but not yet listening when asked


async def startup_seconds(config: Path, sim: Simulator, token: str, repo: Path, group: str,
                          talker: str) -> float:
    started = time.monotonic()
    process = await start_bot(config, sim, token, repo)
    try:
        await first_answer_after(sim, group, talker)
        return time.monotonic() - started
    finally:
        process.terminate()
        await process.wait()


async def scheduling_lag(config: Path, sim: Simulator, token: str, repo: Path, group: str
                         ) -> list[float]:
    first = (datetime.now(SHANGHAI) + timedelta(seconds=10)).replace(microsecond=0)
    due = [first + timedelta(seconds=n // 4) for n in range(100)]
    posts = config.parent / "announcements"
    write_posts(posts, 100, lambda n: f"{due[n]:%Y-%m-%d %H:%M:%S}")
    for path in posts.glob("*.md"):  # none paused here
        path.write_text(path.read_text(encoding="utf-8").replace("paused = true", "paused = false"),
                        encoding="utf-8")
    offset = time.monotonic() - datetime.now(SHANGHAI).timestamp()  # wall -> monotonic
    firsts: dict[str, float] = {}
    done = asyncio.Event()

    def on_sent(sent: SentMessage) -> None:
        if sent.conversation_id == group and sent.text.startswith("第"):
            number = int(sent.text[1:sent.text.index("号")])
            firsts.setdefault(f"{number}", sent.at - (due[number].timestamp() + offset))
            if len(firsts) == 100:
                done.set()

    unsubscribe = sim.on_sent(on_sent)
    process = await start_bot(config, sim, token, repo)
    try:
        async with asyncio.timeout(120):
            await done.wait()
    finally:
        unsubscribe()
        process.terminate()
        await process.wait()
    return list(firsts.values())


async def figures(sim: Simulator, config_text: str, token: str, repo: Path, group: str,
                  talker: str, report: Callable[[str], None]) -> None:
    def fresh_config() -> Path:
        home = Path(tempfile.mkdtemp(prefix="bench-posts-"))
        (home / "config.toml").write_text(config_text, encoding="utf-8")
        (home / "announcements").mkdir()
        return home / "config.toml"

    empty = fresh_config()
    with_posts = fresh_config()
    write_posts(with_posts.parent / "announcements", 1000, lambda n: SCHEDULES[n % len(SCHEDULES)])
    base = await startup_seconds(empty, sim, token, repo, group, talker)
    loaded = await startup_seconds(with_posts, sim, token, repo, group, talker)
    report(f"start-up to the first answer: {base:.2f} s with no post files, {loaded:.2f} s with "
           f"1,000 (floor 3 s)")
    lags = sorted(await scheduling_lag(fresh_config(), sim, token, repo, group))
    p50, p99 = statistics.median(lags), lags[min(len(lags) - 1, int(0.99 * len(lags)))]
    report(f"100 scheduled posts (4 per second, rate limit off): first part on the wire "
           f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms after the scheduled time "
           f"(floor p99 < 1 s; earliest {lags[0] * 1000:.0f} ms)")
