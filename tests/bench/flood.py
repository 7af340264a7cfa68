"""The secretary's #发布 during a member flood, with the shipped config.toml (pacing on).

Through the official gateway, RUNS times each: a fresh chamber bot answers a warm-up question;
once the pacing of that answer has passed, (flood) one member sends `#帮助` 1,000 times in the
group at once, and then the secretary sends `#发布` privately. Measured: from the secretary's
message to the post's first part in the group. Without the flood, the same: the baseline.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.bench.burst import BotKind, RunningBot
from tests.bench.common import PRESIDENTS, REPO, Reply, Say, now
from tests.bench.sides import OfficialSide

FLOOD, RUNS = 1_000, 3
FLOODER, SECRETARY = "wxid_vp_001", "wxid_secretary_liu"
POST_ID, MARK = "flood-check", "防刷屏测试"
# The warm-up answer's pacing in the group: 3 s between sends in a chat plus up to 2 s jitter
# (shipped [sending]). Waited out so that both runs start from a quiet outbox.
SETTLE_SECONDS = 6.0


def shipped_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="bench-flood-"))
    (home / "config.toml").write_text((REPO / "config.toml").read_text(encoding="utf-8"),
                                      encoding="utf-8")
    (home / "announcements").mkdir()
    (home / "announcements" / f"{POST_ID}.md").write_text(
        f'+++\ntitle = "{MARK}公告"\n+++\n各位会长：这是一条{MARK}公告。\n', encoding="utf-8")
    return home / "config.toml"


async def publish_delay(flood: bool, token: str) -> tuple[float, list[float]]:
    """Seconds from #发布 to the first part in the group, and when (from #发布 too) each
    answer to the flooder went out before it."""
    side = OfficialSide(token, bench_groups=False)
    await side.start()
    kind = BotKind("chamber bot", [sys.executable, "-m", "bot", "run", "--config",
                                   str(shipped_home())], chamber=True)
    bot = RunningBot(kind, side, token)
    published = asyncio.Event()
    seen: dict[str, float] = {}
    flooder_answers: list[float] = []

    def on_reply(reply: Reply) -> None:
        if reply.conversation == PRESIDENTS and MARK in reply.text and not published.is_set():
            seen["published"] = reply.at
            published.set()
        elif reply.conversation == FLOODER and not published.is_set():
            flooder_answers.append(reply.at)

    try:
        await bot.start()
        await asyncio.sleep(SETTLE_SECONDS)  # a benchmark's setup, not a synchronisation
        unsubscribe = side.subscribe(on_reply)
        if flood:
            await side.say_many([Say(FLOODER, PRESIDENTS, "#帮助")] * FLOOD, lambda s, at: None)
        asked = now()
        await side.say_many([Say(SECRETARY, None, f"#发布 {POST_ID}")], lambda s, at: None)
        async with asyncio.timeout(600):
            await published.wait()
        unsubscribe()
    finally:
        await bot.stop()
        await side.stop()
    return seen["published"] - asked, [at - asked for at in flooder_answers]


async def figures(token: str, report: Callable[[str], None]) -> dict[str, float]:
    baseline = [(await publish_delay(False, token))[0] for _ in range(RUNS)]
    flooded = [await publish_delay(True, token) for _ in range(RUNS)]
    delays = [delay for delay, _ in flooded]
    result = {"baseline_median": statistics.median(baseline), "baseline_max": max(baseline),
              "flood_median": statistics.median(delays), "flood_max": max(delays),
              "flooder_answers": max(len(answers) for _, answers in flooded)}
    report(f"#发布 with the shipped pacing, {RUNS} runs each: quiet group median "
           f"{result['baseline_median']:.2f} s (max {result['baseline_max']:.2f} s); after a "
           f"{FLOOD:,}-message #帮助 flood median {result['flood_median']:.2f} s (max "
           f"{result['flood_max']:.2f} s; target < 5 s)")
    for delay, answers in flooded:
        times = ", ".join(f"{at:+.2f} s" for at in answers) or "none"
        report(f"  flood run: the post {delay:.2f} s after #发布; the flooder's answers before "
               f"it: {times}")
    return result
