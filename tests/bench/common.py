"""What both gateways' benchmarks share: the world, the bench config, the process figures, and
the askers.

The FAQ answers one member at most 3 times in 10 minutes (handlers/faq.py), so a burst of 2,000
questions comes from 2,000 different members: GROUPS groups of 500 (WeChat's group limit),
g0@chatroom with wxid_g0m000 ... wxid_g0m499 and so on, asked in turn. One bot's run (warm-up,
burst, paced, 100,000 messages) asks 13,500 questions: no member is asked more than 3 times.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BOT_ID = "wxid_chamber_bot"
PRESIDENTS = "presidents@chatroom"
GROUPS, GROUP_SIZE = 10, 500
MEMBERS = GROUPS * GROUP_SIZE


def group_id(group: int) -> str:
    return f"g{group}@chatroom"


def member_id(group: int, number: int) -> str:
    return f"wxid_g{group}m{number:03d}"


def bench_config(directory: Path, *, faq_groups: bool) -> Path:
    """The shipped config.toml with the outbox's rate limit and the FAQ cooldown off (and, with
    faq_groups, the members' reply limits raised and the bench groups served)."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = (text.replace("rate_limit = true", "rate_limit = false")
            .replace("cooldown_seconds = 300", "cooldown_seconds = 0")
            .replace('log_level = "INFO"', 'log_level = "WARNING"'))
    # No web console: the bots run side by side (one port), and the echo bots have none.
    text = re.sub(r"(?s)(\[web\][^\[]*?)enabled = true", r"\1enabled = false", text)
    if faq_groups:
        text = text.replace("rate_limit = false", "rate_limit = false\n"
                            "member_replies_per_minute = 1000000\n"
                            "all_member_replies_per_minute = 1000000\n"
                            "member_reply_expires_seconds = 3600")
        served = "".join(f'[[groups]]\nid = "{group_id(g)}"\n\n' for g in range(GROUPS))
        text = re.sub(r"(?m)^\[roles\]", lambda m: served + m.group(0), text, count=1)
    directory.mkdir(parents=True, exist_ok=True)
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


@dataclass(frozen=True)
class Say:
    talker: str
    room: str | None
    text: str
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    conversation: str
    text: str
    mentions: tuple[str, ...]
    at: float  # time.monotonic() when the bench saw it


@dataclass
class Replies:
    """Pairs each reply with its question: by asker (the FAQ mentions them) or by text (echo)."""

    key_of: Callable[[Reply], str]  # the key of the question a reply answers
    question_key: Callable[[Say], str]  # the same key, from the question
    pending: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    latencies: list[float] = field(default_factory=list)
    expected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    last_at: float = 0.0

    def asked(self, say: Say, at: float) -> None:
        self.pending[self.question_key(say)].append(at)
        self.expected += 1

    def on_reply(self, reply: Reply) -> None:
        queue = self.pending.get(self.key_of(reply))
        if not queue:
            return
        self.latencies.append(reply.at - queue.popleft())
        self.last_at = reply.at
        if len(self.latencies) >= self.expected:
            self.done.set()

    def reset(self) -> None:
        self.pending.clear()
        self.latencies.clear()
        self.expected = 0
        self.done.clear()


def faq_replies() -> Replies:
    """The chamber bot @-mentions the asker, who asks once per round."""
    return Replies(lambda reply: reply.mentions[0] if reply.mentions else "",
                   lambda say: say.talker)


def echo_replies() -> Replies:
    """An echo bot repeats the (numbered, so unique) question."""
    return Replies(lambda reply: reply.text, lambda say: say.text)


class Askers:
    """The next member to ask, in turn over every member of every bench group; consecutive
    questions go to consecutive groups (the first GROUPS questions visit every group once)."""

    def __init__(self) -> None:
        self.asked = 0

    def question(self, text: str = "商会电话多少？") -> Say:
        n = self.asked
        self.asked += 1
        group, number = n % GROUPS, (n // GROUPS) % GROUP_SIZE
        return Say(member_id(group, number), group_id(group), f"{text}{n}")


def now() -> float:
    return time.monotonic()
