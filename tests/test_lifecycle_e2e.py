"""The bot as a process: one per data directory, a graceful stop, and `python -m bot health`."""

from __future__ import annotations

from pathlib import Path

from bot.simulator import Simulator
from tests.bot_process import BotProcess, write_config
from tests.conftest import TOKEN

LOGGED_IN = "-> logged in"


async def test_a_second_bot_on_the_same_data_directory_refuses_to_start(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = write_config(tmp_path, simulator.endpoint, TOKEN, {})
    first, second = BotProcess(config, TOKEN), BotProcess(config, TOKEN)
    await first.start()
    try:
        await first.wait_for_log(LOGGED_IN)
        await second.start()
        assert await second.wait() == 3
        data_dir = (tmp_path / "data").resolve()
        assert (f"another bot (pid {first.pid}) is already running on the data directory "
                f"{data_dir}; not starting a second one (it would post twice)") in second.log[-1]
        assert f"另一个机器人（pid {first.pid}）正在使用数据目录 {data_dir}" in second.log[-1]
        assert first.process is not None and first.process.returncode is None  # untouched
    finally:
        assert await first.stop() == 0
    # The lock died with the first process: a new bot starts on the same directory.
    third = BotProcess(config, TOKEN)
    await third.start()
    await third.wait_for_log(LOGGED_IN)
    third.kill_9()
    assert await third.wait() == -9
    fourth = BotProcess(config, TOKEN)  # kill -9 leaves no stale lock either
    await fourth.start()
    try:
        await fourth.wait_for_log(LOGGED_IN)
    finally:
        assert await fourth.stop() == 0
