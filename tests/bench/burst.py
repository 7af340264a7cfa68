"""The FAQ burst: one bot, through one gateway (tests/bench/sides.py).

A warm-up (a question in each group, then 500 questions at once), then the burst of 2,000 questions at once (answers/s,
latency, the bot's and the gateway's CPU per answer, RSS), then 100 questions/s for 10 s
(latency). The chamber bot then reads 100,000 group messages, one in ten a question, and its
RSS is taken after 20,000 and 100,000. Rate limit off, FAQ cooldown 0 (tests/bench/common.py).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tests.bench.common import (
    BOT_ID,
    GROUP_SIZE,
    GROUPS,
    PRESIDENTS,
    REPO,
    Askers,
    Replies,
    Reply,
    Say,
    cpu_seconds,
    echo_replies,
    faq_replies,
    free_port,
    group_id,
    member_id,
    now,
    percentile,
    rss_mb,
)

WARM_UP, BURST = 500, 2_000
PACED_RATE, PACED_SECONDS = 100, 10
MEMORY_MARKS = (20_000, 100_000)
Figures = dict[str, float]


class Side(Protocol):
    name: str
    ping_talkers: list[str]

    @property
    def endpoint(self) -> str: ...

    @property
    def gateway_pid(self) -> int | None: ...

    async def say_many(self, says: list[Say], on_said: Callable[[Say, float], None]) -> None: ...

    def subscribe(self, on_reply: Callable[[Reply], None]) -> Callable[[], None]: ...


@dataclass(frozen=True)
class BotKind:
    name: str
    argv: list[str]
    node: bool = False  # a Node Wechaty bot: its puppet-service client reads other variables
    chamber: bool = False

    def replies(self) -> Replies:
        return faq_replies() if self.chamber else echo_replies()


def bot_kinds(config: Path) -> dict[str, BotKind]:
    python = sys.executable
    return {
        "chamber": BotKind("chamber bot", [python, "-m", "bot", "run", "--config", str(config)],
                           chamber=True),
        "python-echo": BotKind("python-wechaty echo bot",
                               [python, "-m", "tests.bench.echo_bot", "0"]),
        "node-echo": BotKind("Node Wechaty 1.20 echo bot",
                             ["node", str(REPO / "tests" / "official_gateway" / "echo_bot.mjs")],
                             node=True),
    }


class RunningBot:
    def __init__(self, kind: BotKind, side: Side, token: str) -> None:
        self.kind, self.side, self.token = kind, side, token
        self.replies = kind.replies()
        self.askers = Askers()
        self.process: asyncio.subprocess.Process | None = None
        self.home = Path(tempfile.mkdtemp(prefix="bench-bot-"))

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WECHATY_")}
        env.update(WECHATY_PUPPET_SERVICE_ENDPOINT=self.side.endpoint,
                   WECHATY_PUPPET_SERVICE_TOKEN=self.token, PYTHONPATH=str(REPO))
        if self.kind.node:
            env.update(WECHATY_PUPPET="wechaty-puppet-service", WECHATY_LOG="warn",
                       WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT="true")
        argv = list(self.kind.argv)
        if argv[-1] == "0":  # the python echo bot's web server port: any free one
            argv[-1] = str(free_port())
        with open(self.home / "output.log", "wb") as output:
            self.process = await asyncio.create_subprocess_exec(
                *argv, env=env, cwd=self.home, stdout=output, stderr=output)
        await self.ready()

    async def ready(self, timeout: float = 120) -> None:
        """Ask in the presidents' group until the bot answers: it is logged in and listening."""
        answered = asyncio.Event()

        def on_reply(reply: Reply) -> None:
            if reply.conversation == PRESIDENTS:
                answered.set()

        unsubscribe = self.side.subscribe(on_reply)
        try:
            async with asyncio.timeout(timeout):
                for attempt in range(10_000):
                    talker = self.side.ping_talkers[attempt % len(self.side.ping_talkers)]
                    await self.side.say_many([Say(talker, PRESIDENTS, f"@商会小助手\u2005邮编？{attempt}",
                                                  (BOT_ID,))], lambda say, at: None)
                    try:
                        await asyncio.wait_for(answered.wait(), 5)
                        return
                    except TimeoutError:
                        if self.process and self.process.returncode is not None:
                            raise RuntimeError(f"{self.kind.name} exited: see "
                                               f"{self.home / 'output.log'}") from None
        finally:
            unsubscribe()

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()

    async def round(self, says: list[Say], per_second: float | None = None,
                    timeout: float = 180, questions: set[Say] | None = None
                    ) -> tuple[float, float]:
        """Say (at once, or paced) and wait for the answers to `questions` (default: all);
        returns (first said, last answer) times."""
        self.replies.reset()

        def said(say: Say, at: float) -> None:
            if questions is None or say in questions:
                self.replies.asked(say, at)

        start = now()
        if per_second is None:
            await self.side.say_many(says, said)
        else:
            for number, say in enumerate(says):
                delay = start + number / per_second - now()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self.side.say_many([say], said)
        async with asyncio.timeout(timeout):
            await self.replies.done.wait()
        return start, self.replies.last_at

    def questions(self, count: int) -> list[Say]:
        return [self.askers.question() for _ in range(count)]


async def measure(kind: BotKind, side: Side, token: str, report: Callable[[str], None],
                  memory: bool = True) -> Figures:
    bot = RunningBot(kind, side, token)
    unsubscribe = side.subscribe(bot.replies.on_reply)
    figures: Figures = {}
    try:
        await bot.start()
        figures["rss_start"] = rss_mb(bot.pid)
        # One question in each group first, one at a time: a Wechaty bot (Node or python)
        # loads a group's 500 members on its first message there, and 500 first messages at
        # once made the Node one load them 500 times over (its watchdog gave up after 60 s).
        for _ in range(GROUPS):
            await bot.round(bot.questions(1))
        await bot.round(bot.questions(WARM_UP))
        gateway = side.gateway_pid
        before = cpu_seconds(bot.pid), cpu_seconds(gateway) if gateway else 0.0
        start, end = await bot.round(bot.questions(BURST))
        figures["rate"] = BURST / (end - start)
        figures["cpu_ms"] = (cpu_seconds(bot.pid) - before[0]) / BURST * 1000
        if gateway:
            figures["gateway_cpu_ms"] = (cpu_seconds(gateway) - before[1]) / BURST * 1000
        figures["burst_p50"] = statistics.median(bot.replies.latencies) * 1000
        figures["burst_p99"] = percentile(bot.replies.latencies, 0.99) * 1000
        figures["rss_after_burst"] = rss_mb(bot.pid)
        await bot.round(bot.questions(PACED_RATE * PACED_SECONDS), per_second=PACED_RATE)
        figures["paced_p50"] = statistics.median(bot.replies.latencies) * 1000
        figures["paced_p99"] = percentile(bot.replies.latencies, 0.99) * 1000
        gateway_cpu = (f", gateway {figures['gateway_cpu_ms']:.2f} ms"
                       if "gateway_cpu_ms" in figures else "")
        report(f"{side.name:<17} {kind.name:<27} {figures['rate']:6.0f} answers/s   burst p50 "
               f"{figures['burst_p50']:6.0f} ms p99 {figures['burst_p99']:6.0f} ms   "
               f"{PACED_RATE}/s p50 {figures['paced_p50']:5.1f} ms p99 "
               f"{figures['paced_p99']:5.1f} ms   CPU per answer: bot {figures['cpu_ms']:.2f} ms"
               f"{gateway_cpu}   RSS {figures['rss_start']:.0f} -> "
               f"{figures['rss_after_burst']:.0f} MB")
        if kind.chamber and memory:
            figures.update(await memory_run(bot, report))
    finally:
        unsubscribe()
        await bot.stop()
    return figures


async def memory_run(bot: RunningBot, report: Callable[[str], None], prefix: str = "rss"
                     ) -> Figures:
    """Group traffic in batches of 1,000, one message in ten a question from the next asker
    (5,000 members in 10 groups), each batch answered before the next."""
    def batch(start: int) -> tuple[list[Say], set[Say]]:
        says: list[Say] = []
        for n in range(start, start + 1_000):
            group = n % GROUPS
            says.append(bot.askers.question() if n % 10 == 9 else Say(
                member_id(group, n % GROUP_SIZE), group_id(group), f"收到，谢谢秘书处！第{n}条"))
        return says, {say for say in says if say.text.startswith("商会电话")}
    return await _batches(bot, batch, report, prefix)


async def memory_in_one_group(kind: BotKind, side: Side, token: str,
                              report: Callable[[str], None]) -> Figures:
    """A fresh bot, 100,000 messages in one group of 500 (g0): members 0-399 talk and ask
    (one message in ten a question; the FAQ answers each of them 3 times in 10 minutes and
    holds the rest back), and each batch of 1,000 ends with a question from one of members
    400-499 (each asked once), whose answer says the batch has been read."""
    bot = RunningBot(kind, side, token)
    unsubscribe = side.subscribe(bot.replies.on_reply)

    def batch(start: int) -> tuple[list[Say], set[Say]]:
        says = [Say(member_id(0, n % 400), group_id(0),
                    f"商会电话多少？{n}" if n % 10 == 9 else f"收到，谢谢秘书处！第{n}条")
                for n in range(start, start + 999)]
        last = Say(member_id(0, 400 + start // 1_000 % 100), group_id(0), f"邮编多少？{start}")
        return [*says, last], {last}

    try:
        await bot.start()
        figures = {"one_group_rss_start": rss_mb(bot.pid)}
        figures.update(await _batches(bot, batch, report, "one_group_rss"))
    finally:
        unsubscribe()
        await bot.stop()
    return figures


async def _batches(bot: RunningBot, batch: Callable[[int], tuple[list[Say], set[Say]]],
                   report: Callable[[str], None], prefix: str) -> Figures:
    figures: Figures = {}
    said = 0
    while said < MEMORY_MARKS[-1]:
        says, questions = batch(said)
        await bot.round(says, timeout=300, questions=questions)
        said += len(says)
        if said in MEMORY_MARKS:
            figures[f"{prefix}_{said}"] = rss_mb(bot.pid)
            report(f"{'':<45} RSS after {said:>7,} messages ({prefix.replace('_', ' ')}): "
                   f"{figures[f'{prefix}_{said}']:.1f} MB")
    return figures
