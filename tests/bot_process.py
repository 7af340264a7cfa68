"""The bot as a separate process (`python -m bot run`), for tests that kill it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from tests.conftest import REPO, TEST_CONFIG

# Every bot process started, so that one a failing test leaves running is killed when its test
# ends (conftest.py): a bot left over keeps polling its gateway port and its data folder.
_started: list[int] = []


def kill_leftovers() -> None:
    while _started:
        with contextlib.suppress(ProcessLookupError):  # it ended, as most do
            os.kill(_started.pop(), signal.SIGKILL)


def write_config(home: Path, endpoint: str, token: str, replacements: dict[str, str]) -> Path:
    text = TEST_CONFIG.read_text(encoding="utf-8")
    text = text.replace('endpoint = ""', f'endpoint = "{endpoint}"')
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    (home / "announcements").mkdir(exist_ok=True)
    return path


# The tests' config.toml with a post's parts a little apart (500 characters each, 0.5 s apart
# in one group): time to act between two parts without waiting the shipped 3 s.
QUICK_PARTS = {"messages_per_minute = 40": "messages_per_minute = 600",
               "per_chat_interval_seconds = 3": "per_chat_interval_seconds = 0.5",
               "max_text_length = 2000": "max_text_length = 500"}
LOGGED_IN = "-> logged in"  # the bot's log line once it is connected


class BotProcess:
    def __init__(self, config: Path, token: str) -> None:
        self.config, self.token = config, token
        self.process: asyncio.subprocess.Process | None = None
        self.log: list[str] = []
        self._logged = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = {**os.environ, "WECHATY_PUPPET_SERVICE_TOKEN": self.token, "PYTHONPATH": str(REPO)}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(self.config), env=env,
            cwd=self.config.parent, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _started.append(self.process.pid)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for line in self.process.stderr:
            self.log.append(line.decode("utf-8", "replace").rstrip())
            async with self._logged:
                self._logged.notify_all()

    async def wait_for_log(self, text: str, timeout: float = 15) -> str:
        """The first line of the bot's stderr that contains `text` (waiting for it)."""
        def found() -> str | None:
            return next((line for line in self.log if text in line), None)

        async with asyncio.timeout(timeout), self._logged:
            await self._logged.wait_for(lambda: found() is not None)
        line = found()
        assert line is not None
        return line

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start_logged_in(self, timeout: float = 15) -> None:
        await self.start()
        await self.wait_for_log(LOGGED_IN, timeout)

    def kill_9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)

    async def wait(self, timeout: float = 15) -> int:
        assert self.process is not None
        async with asyncio.timeout(timeout):
            code = await self.process.wait()
            if self._reader is not None:
                await self._reader
        return code

    async def stop(self) -> int:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
        return await self.wait()
