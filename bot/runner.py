"""`python -m bot run`: logging, the event loop, signals, and the bot (or the simulator too).

Kept out of bot/cli.py so the other commands (health above all) import none of it.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from bot.app import ChamberBot
from bot.core.config import Settings
from bot.ops.logs import setup_logging

SIMULATOR_TOKEN = "simulator-token"


def start(settings: Settings) -> int:
    if settings.uses_simulator:
        # The terminal is the chat window: log to a file, and only warnings to the screen.
        log_file = settings.data_dir / "bot.log"
        setup_logging(settings.general.log_level, settings.general.tz, log_file=log_file)
        print(f"没有配置网关：使用内置模拟器。日志写在 {log_file}", file=sys.stderr)
    else:
        setup_logging(settings.general.log_level, settings.general.tz)
    return asyncio.run(run(settings))


async def run(settings: Settings) -> int:
    if settings.uses_simulator:
        return await run_with_simulator(settings)
    bot = ChamberBot(settings)
    stop_on_signals(bot)
    await bot.run()
    return 0


def stop_on_signals(bot: ChamberBot) -> None:
    loop = asyncio.get_running_loop()
    stop = bot.stop
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(stop()))


async def run_with_simulator(settings: Settings) -> int:
    """No gateway configured: a simulated presidents' group in this terminal."""
    from bot.simulator import Simulator, World, run_terminal

    simulator = Simulator(World.presidents_group(), token=SIMULATOR_TOKEN)
    await simulator.start()
    gateway = settings.gateway.model_copy(
        update={"endpoint": simulator.endpoint, "token": SIMULATOR_TOKEN}
    )
    bot = ChamberBot(settings.model_copy(update={"gateway": gateway}))
    stop_on_signals(bot)
    bot_task = asyncio.create_task(bot.run())
    try:
        async with asyncio.timeout(30):  # members typing before the bot listens would be lost
            await bot.connection.logged_in.wait()
        await run_terminal(simulator, sys.stdin, sys.stdout)
    finally:
        await bot.stop()
        await bot_task
        await simulator.stop()
    return 0
