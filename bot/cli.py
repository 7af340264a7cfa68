"""Command line: `python -m bot [run|check] [--config FILE]`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.app import ChamberBot

DEFAULT_CONFIG = Path("config.toml")
SIMULATOR_TOKEN = "simulator-token"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="山西省山东商会 群公告机器人"
    )
    parser.add_argument("command", nargs="?", default="run", choices=["run", "check"],
                        help="run the bot (default), or check the configuration and exit")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"配置错误 / configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "check":
        target = "the built-in simulator" if settings.uses_simulator else settings.gateway.endpoint
        groups = ", ".join(group.id or group.topic for group in settings.groups)
        print(f"{args.config}: OK (gateway: {target}; groups: {groups}; "
              f"{len(settings.faq.entries)} FAQ entries)")
        return 0
    setup_logging(settings.general.log_level, settings.general.tz)
    return asyncio.run(run(settings))


async def run(settings: Settings) -> int:
    from bot.app import ChamberBot  # imports wechaty: only when running

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
    from bot.app import ChamberBot
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
        await run_terminal(simulator, sys.stdin, sys.stdout)
    finally:
        await bot.stop()
        await bot_task
        await simulator.stop()
    return 0
