"""Benchmark (`make bench`): figures, not pass/fail. Everything runs through the simulator.

In one run, with the outbox's rate limit off and the FAQ cooldown at 0:
1. a bare python-wechaty echo bot and the chamber bot each get a warm-up round (one question
   per member), a burst of 2,000 questions (replies/s, p50/p99 latency, RPCs and CPU per
   reply), then 100 questions/s for 10 s (p50/p99 latency);
2. the chamber bot then reads 100,000 group messages (one in ten a question) and its RSS is
   taken after 20,000 and after 100,000;
3. announcements (tests/bench/posts.py): scheduling lag over 100 posts, start-up time with
   1,000 post files;
4. congratulations (tests/bench/congrats.py): 5,000 from 500 members within 10 s.
The simulator runs in this process, each bot in its own, so each has a core of its own.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.simulator import Contact, Room, SentMessage, Simulator, World
from tests.bench import congrats, posts

REPO = Path(__file__).resolve().parents[2]
TOKEN = "bench-token"
GROUP = "presidents@chatroom"
BOT_ID = "wxid_chamber_bot"
MEMBERS = 500  # WeChat's group size limit
BURST = 2_000
PACED_RATE, PACED_SECONDS = 100, 10
MEMORY_MARKS = (20_000, 100_000)


def bench_world() -> World:
    people = [Contact(BOT_ID, "商会小助手")] + [
        Contact(f"wxid_m{n:03d}", f"会员{n:03d}") for n in range(MEMBERS)
    ]
    room = Room(GROUP, "山西省山东商会会长官方群", BOT_ID, [p.id for p in people])
    return World(BOT_ID, {p.id: p for p in people}, {GROUP: room})


def bench_config(directory: Path) -> Path:
    shipped = (REPO / "config.toml").read_text(encoding="utf-8")
    text = (shipped.replace("rate_limit = true", "rate_limit = false")
            .replace("cooldown_seconds = 300", "cooldown_seconds = 0")
            .replace('log_level = "INFO"', 'log_level = "WARNING"'))
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Replies:
    """Pairs each reply with its question: by asker (FAQ mentions them) or by text (echo)."""

    key_of: Callable[[SentMessage], str]  # the key of the question a reply answers
    question_key: Callable[[str, str], str]  # (talker, text) -> the same key
    pending: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    latencies: list[float] = field(default_factory=list)
    expected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    last_at: float = 0.0

    def asked(self, key: str) -> None:
        self.pending[key].append(time.monotonic())
        self.expected += 1

    def on_sent(self, sent: SentMessage) -> None:
        queue = self.pending.get(self.key_of(sent))
        if not queue:
            return
        self.latencies.append(sent.at - queue.popleft())
        self.last_at = sent.at
        if len(self.latencies) >= self.expected:
            self.done.set()

    def reset(self) -> None:
        self.pending.clear()
        self.latencies.clear()
        self.expected = 0
        self.done.clear()


class Target:
    def __init__(self, name: str, argv: list[str], sim: Simulator, replies: Replies) -> None:
        self.name, self.argv, self.sim, self.replies = name, argv, sim, replies
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {**os.environ, "WECHATY_PUPPET_SERVICE_ENDPOINT": self.sim.endpoint,
               "WECHATY_PUPPET_SERVICE_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, env=env, cwd=tempfile.mkdtemp(prefix="bench-"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        await self.sim.wait_connected(timeout=30)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()

    async def ask(self, member: int, number: int) -> None:
        talker = f"wxid_m{member % MEMBERS:03d}"
        text = f"商会电话多少？{number}"
        self.replies.asked(self.replies.question_key(talker, text))
        await self.sim.say(talker, text, room_id=GROUP)

    async def round(self, count: int, per_second: float | None = None, timeout: float = 120
                    ) -> tuple[float, float]:
        """Ask `count` questions (a burst, or paced); returns (first ask, last reply) times."""
        self.replies.reset()
        start = time.monotonic()
        for number in range(count):
            if per_second:
                delay = start + number / per_second - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self.ask(number, number)
        async with asyncio.timeout(timeout):
            await self.replies.done.wait()
        return start, self.replies.last_at


def report(line: str) -> None:
    print(line, flush=True)


async def measure(target: Target, sim: Simulator) -> dict[str, float]:
    await target.start()
    figures: dict[str, float] = {}
    try:
        await target.round(MEMBERS, timeout=180)  # warm-up: every member asks once
        rpc_before, cpu_before = sum(sim.rpc_counts.values()), cpu_seconds(target.pid)
        start, end = await target.round(BURST)
        figures["rate"] = BURST / (end - start)
        figures["burst_p50"] = statistics.median(target.replies.latencies) * 1000
        figures["burst_p99"] = percentile(target.replies.latencies, 0.99) * 1000
        figures["rpcs"] = (sum(sim.rpc_counts.values()) - rpc_before) / BURST
        figures["cpu_ms"] = (cpu_seconds(target.pid) - cpu_before) / BURST * 1000
        figures["rss_after_burst"] = rss_mb(target.pid)
        await target.round(PACED_RATE * PACED_SECONDS, per_second=PACED_RATE)
        figures["paced_p50"] = statistics.median(target.replies.latencies) * 1000
        figures["paced_p99"] = percentile(target.replies.latencies, 0.99) * 1000
        report(f"{target.name:<34} {figures['rate']:7.0f} replies/s   burst p50 "
               f"{figures['burst_p50']:6.1f} ms p99 {figures['burst_p99']:6.1f} ms   "
               f"{PACED_RATE}/s p50 {figures['paced_p50']:5.1f} ms p99 {figures['paced_p99']:5.1f} ms"
               f"   {figures['rpcs']:.1f} RPCs, {figures['cpu_ms']:.2f} ms CPU per reply, "
               f"RSS {figures['rss_after_burst']:.0f} MB")
    finally:
        if target.name.startswith("chamber"):
            figures.update(await memory_run(target, sim))
        await target.stop()
    return figures


async def memory_run(target: Target, sim: Simulator) -> dict[str, float]:
    """Group traffic, one message in ten a question, in batches that end with a question."""
    figures: dict[str, float] = {}
    sent_total, batch = 0, 1_000
    while sent_total < MEMORY_MARKS[-1]:
        target.replies.reset()
        for number in range(batch):
            talker = f"wxid_m{number % MEMBERS:03d}"
            if number % 10 == 9:
                await target.ask(number, number)
            else:
                await sim.say(talker, f"收到，谢谢秘书处！第{sent_total + number}条", room_id=GROUP)
        async with asyncio.timeout(120):
            await target.replies.done.wait()
        sent_total += batch
        if sent_total in MEMORY_MARKS:
            figures[f"rss_{sent_total}"] = rss_mb(target.pid)
            report(f"{'':<34} RSS after {sent_total:>7,} messages: "
                   f"{figures[f'rss_{sent_total}']:.1f} MB")
    growth = figures[f"rss_{MEMORY_MARKS[1]}"] - figures[f"rss_{MEMORY_MARKS[0]}"]
    figures["rss_growth"] = growth
    report(f"{'':<34} RSS growth 20,000 -> 100,000 messages: {growth:+.1f} MB (floor: < 5 MB)")
    return figures


def faq_replies() -> Replies:
    """The chamber bot @-mentions the asker; each asker's replies come in order."""
    return Replies(lambda sent: sent.mention_ids[0] if sent.mention_ids else "",
                   lambda talker, text: talker)


def echo_replies() -> Replies:
    """The echo bot repeats the (numbered, so unique) question."""
    return Replies(lambda sent: sent.text, lambda talker, text: text)


async def main() -> None:
    sim = Simulator(bench_world(), token=TOKEN)
    await sim.start()
    workdir = Path(tempfile.mkdtemp(prefix="bench-config-"))
    python = sys.executable
    targets = [
        Target("bare python-wechaty echo bot", [python, "-m", "tests.bench.echo_bot",
                                                str(free_port())], sim, echo_replies()),
        Target("chamber bot (FAQ, @asker)", [python, "-m", "bot", "run", "--config",
                                             str(bench_config(workdir))], sim, faq_replies()),
    ]
    report(f"burst of {BURST:,} questions from {MEMBERS} members, then {PACED_RATE}/s for "
           f"{PACED_SECONDS} s; rate limit off, cooldown 0; {os.cpu_count()} cores")
    results = {}
    for target in targets:
        unsubscribe = sim.on_sent(target.replies.on_sent)
        try:
            results[target.name] = await measure(target, sim)
        finally:
            unsubscribe()
    echo, ours = (results[t.name] for t in targets)
    report(f"chamber bot / echo bot throughput: {ours['rate'] / echo['rate']:.2f}x (floor 0.9x); "
           f"against the TypeScript client's 1,070/s measured on the official gateway: "
           f"{ours['rate'] / 1070:.2f}x")
    report(f"p99 at {PACED_RATE}/s: {ours['paced_p99']:.1f} ms (floor < 20 ms)")
    await posts.figures(sim, bench_config(workdir).read_text(encoding="utf-8"), TOKEN, REPO,
                        GROUP, "wxid_m000", report)
    await congrats.figures(sim, bench_config(workdir).read_text(encoding="utf-8"), TOKEN, REPO,
                           GROUP, report)
    await sim.stop()


if __name__ == "__main__":
    asyncio.run(main())
