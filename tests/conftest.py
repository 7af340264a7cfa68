"""Shared fixtures: the simulator (our gateway) and the bot, both real, over loopback gRPC."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import pytest

import bot.wechat.compat  # noqa: F401  (before any wechaty import)
from bot.app import ChamberBot
from bot.core.config import Settings, load_settings
from bot.core.messages import State
from bot.core.router import Route
from bot.simulator import Simulator, World
from bot.wechat.connection import Connection
from handlers.congrats import CongratulationCollector

# Hypothesis: the suite (CI, `make test`) tries each property 200 times; `make fuzz` sets
# HYPOTHESIS_PROFILE=fuzz for 10,000. No deadline: on this shared 2-core machine a slow
# example is load, not a bug (a hang is still caught by pytest's timeout).
hypothesis.settings.register_profile("ci", max_examples=200, deadline=None)
hypothesis.settings.register_profile("fuzz", max_examples=10_000, deadline=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]
TEST_CONFIG = Path(__file__).resolve().parent / "fixtures" / "config.toml"
TOKEN = "sim-token"
PRESIDENTS = "presidents@chatroom"
TEA = "tea@chatroom"
BOT_ID = "wxid_chamber_bot"
BOT_NAME = "商会小助手"


@pytest.fixture(autouse=True)
def _no_bot_process_outlives_its_test() -> Iterator[None]:
    yield
    started = sys.modules.get("tests.bot_process")  # imported by the tests that start one
    if started is not None:
        started.kill_leftovers()


def settings_for(endpoint: str, token: str = TOKEN, home: Path | None = None,
                 **sections: dict[str, Any]) -> Settings:
    """The tests' config.toml (tests/fixtures) pointed at a test gateway, sending without pauses, with its
    data and post directories in `home` (a new temporary directory by default)."""
    shipped = load_settings(TEST_CONFIG, environ={})
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="chamber-test-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)  # 2,700 folders a week else
    (home / "announcements").mkdir(exist_ok=True)
    updates: dict[str, Any] = {
        "base_dir": home,
        "gateway": shipped.gateway.model_copy(update={"endpoint": endpoint, "token": token}),
        "sending": shipped.sending.model_copy(
            update={"messages_per_minute": 60_000, "per_chat_interval_seconds": 0,
                    "jitter_seconds": 0, "retry_base_seconds": 0.05}
        ),
    }
    for name, values in sections.items():
        base = updates.get(name, getattr(shipped, name))  # on top of the test pacing above
        updates[name] = base.model_copy(update=values)
    return shipped.model_copy(update=updates)


@dataclass
class StateLog:
    """Every gateway state change, with the time it happened, to wait on in tests."""

    connection: Connection
    seen: list[tuple[State, str, float]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def __post_init__(self) -> None:
        self.connection.state_listeners.append(self._record)

    def _record(self, state: State, detail: str) -> None:
        self.seen.append((state, detail, time.monotonic()))
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, state: State, after: float = 0.0, timeout: float = 10.0
                       ) -> tuple[str, float]:
        """The first change to `state` at or after monotonic time `after`."""
        def found() -> tuple[str, float] | None:
            for seen_state, detail, at in self.seen:
                if seen_state is state and at >= after:
                    return detail, at
            return None

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        result = found()
        assert result is not None
        return result


@dataclass
class RunningBot:
    bot: ChamberBot
    states: StateLog
    task: asyncio.Task[None]


BotStarter = Callable[..., "asyncio.Future[RunningBot] | Any"]


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    sim = Simulator(World.presidents_group(), token=TOKEN)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def start_bot() -> AsyncIterator[Callable[..., Any]]:
    """Start a bot with given settings (and routes); stopped at the end of the test."""
    running: list[RunningBot] = []

    async def start(settings: Settings, routes: Sequence[Route[Any]] | None = None,
                    wait_login: bool = True) -> RunningBot:
        chamber_bot = ChamberBot(settings, routes)
        states = StateLog(chamber_bot.connection)
        task = asyncio.create_task(chamber_bot.run())
        started = RunningBot(chamber_bot, states, task)
        running.append(started)
        if wait_login:
            async with asyncio.timeout(15):
                await chamber_bot.connection.logged_in.wait()
        return started

    yield start
    for started in running:
        await started.bot.stop()
        async with asyncio.timeout(10):
            await started.task


@pytest.fixture
async def running_bot(simulator: Simulator, start_bot: Callable[..., Any]) -> RunningBot:
    started: RunningBot = await start_bot(settings_for(simulator.endpoint))
    return started


def write_post(home: Path, post_id: str, front: str, body: str) -> Path:
    """A post file in `home`/announcements: TOML front matter, then the body."""
    path = home / "announcements" / f"{post_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"+++\n{front.strip()}\n+++\n{body}\n", encoding="utf-8")
    return path


def collector_of(running: RunningBot) -> CongratulationCollector:
    """The running bot's congratulations collector, to wait on its decisions."""
    collector = running.bot.router.route("congratulations").handle.__self__  # type: ignore[attr-defined]
    assert isinstance(collector, CongratulationCollector)
    return collector


async def decided(collector: CongratulationCollector, count: int) -> None:
    """Until the collector has looked at `count` messages (counted or not)."""
    async with asyncio.timeout(10), collector.decisions:
        await collector.decisions.wait_for(lambda: collector.decided >= count)
