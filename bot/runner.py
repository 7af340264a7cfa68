"""`python -m bot run`: logging, the event loop, signals, and the bot (or the simulator too).

Kept out of bot/cli.py so the other commands (health above all) import none of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator

from bot.app import ChamberBot
from bot.core.config import Settings, secret_strings
from bot.ops.logs import setup_logging

SIMULATOR_TOKEN = "simulator-token"
LOGIN_SECONDS = 30  # the simulator answers at once; longer means the bot cannot start


def start(settings: Settings) -> int:
    secrets = secret_strings(settings.gateway.token, settings.alerts.webhook_url)
    if settings.uses_simulator:
        # The terminal is the chat window: every log line goes to the file, none to the screen.
        log_file = settings.data_dir / "bot.log"
        setup_logging(settings.general.log_level, settings.general.tz, log_file=log_file,
                      secrets=secrets)
        print(f"没有配置网关：使用内置模拟器。日志写在 {log_file}", file=sys.stderr)
    else:
        setup_logging(settings.general.log_level, settings.general.tz, secrets=secrets)
    try:
        return asyncio.run(run(settings))
    except KeyboardInterrupt:  # Ctrl-C before the bot was up: nothing to finish
        return 0


async def run(settings: Settings) -> int:
    if settings.uses_simulator:
        with keyboard_signals_to_this_process_only():
            return await run_with_simulator(settings)
    bot = ChamberBot(settings)
    stop_on_signals(bot)
    await bot.run()
    return 0


def stop_on_signals(bot: ChamberBot, also: Callable[[], object] | None = None) -> None:
    """SIGINT (Ctrl-C) and SIGTERM (docker stop) stop the bot gracefully, and call `also`."""
    loop = asyncio.get_running_loop()
    stopping: set[asyncio.Task[None]] = set()  # a task the loop holds weakly could vanish

    def stop() -> None:
        if also is not None:
            also()
        task = loop.create_task(bot.stop())
        stopping.add(task)
        task.add_done_callback(stopping.discard)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)


async def run_with_simulator(settings: Settings) -> int:
    """No gateway configured: a simulated presidents' group in this terminal. It ends with
    /退出, Ctrl-D, Ctrl-C or SIGTERM, and when the bot stops by itself."""
    from bot.simulator import Simulator, World, run_terminal

    simulator = Simulator(World.presidents_group(), token=SIMULATOR_TOKEN)
    await simulator.start()
    gateway = settings.gateway.model_copy(
        update={"endpoint": simulator.endpoint, "token": SIMULATOR_TOKEN}
    )
    bot = ChamberBot(settings.model_copy(update={"gateway": gateway}))
    bot_task = asyncio.create_task(bot.run())

    async def chat() -> None:
        async with asyncio.timeout(LOGIN_SECONDS):  # typed before the bot listens: lost
            await bot.connection.logged_in.wait()
        if bot.web is not None and bot.web.public_url:
            print(f"网页后台：{bot.web.public_url}（秘书处或管理员私聊机器人发送 #后台 获取登录链接，"
                  "例如 /切换 王管理员，/私聊，#后台）", file=sys.stderr)
        await run_terminal(simulator, sys.stdin, sys.stdout)

    terminal = asyncio.create_task(chat())
    stop_on_signals(bot, also=terminal.cancel)
    try:
        await asyncio.wait([terminal, bot_task], return_when=asyncio.FIRST_COMPLETED)
    finally:
        terminal.cancel()  # its stdin reader is a daemon thread: it does not hold the exit
        await asyncio.wait([terminal])
        await bot.stop()
        await bot_task
        await simulator.stop()
    if terminal.cancelled():
        return 0
    try:
        terminal.result()
    except TimeoutError:
        print(f"机器人 {LOGIN_SECONDS} 秒内没有登录模拟器，详见 {settings.data_dir / 'bot.log'}",
              file=sys.stderr)
        return 1
    return 0


@contextlib.contextmanager
def keyboard_signals_to_this_process_only() -> Iterator[None]:
    """Ctrl-C goes to the terminal's foreground process group: under `make run` to make as
    well, which then reports "make: *** Interrupt" and fails, however cleanly the bot ends.
    So the chat takes the terminal in a process group of its own, as a shell does for a job,
    and gives it back at the end. Nothing to do when stdin is no terminal, or when the process
    leads its group already (started by a shell, `docker run -it`, tmux)."""
    try:
        fd = sys.stdin.fileno()
        parent_group = os.tcgetpgrp(fd)
        if parent_group != os.getpgrp() or os.getpgrp() == os.getpid():
            parent_group = -1  # in the background, or alone in its group: leave it so
        else:
            os.setpgid(0, 0)
    except (AttributeError, OSError, ValueError):  # no stdin, or not a terminal
        parent_group = -1
    if parent_group == -1:
        yield
        return
    try:
        _give_terminal(fd, os.getpgrp())
    except OSError:
        os.setpgid(0, parent_group)  # a background group may not read the terminal
        yield
        return
    # Ctrl-Z would stop the bot where the shell cannot see it (the shell waits for make, which
    # runs on): the terminal would hang. Ctrl-C and /退出 end the chat.
    suspend = signal.signal(signal.SIGTSTP, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGTSTP, suspend)
        with contextlib.suppress(OSError):  # make is gone already
            _give_terminal(fd, parent_group)
        # The stdin reader may still be reading: from the background that would stop the
        # process (SIGTTIN) instead of failing the read.
        signal.signal(signal.SIGTTIN, signal.SIG_IGN)


def _give_terminal(fd: int, group: int) -> None:
    # Done from a background group, tcsetpgrp raises SIGTTOU, which would stop the process.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, group)
    finally:
        signal.signal(signal.SIGTTOU, previous)
