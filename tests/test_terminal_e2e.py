"""`make run` with no gateway: `python -m bot` as a process, its terminal the simulated group.

Driven as a person does: typing into a terminal (a pty) or, as under `docker run -i`, into
pipes; then Ctrl-C (SIGINT) or `docker stop` (SIGTERM). The screen is the chat only: every
log line, the libraries' included, goes to data/bot.log, in Asia/Shanghai time.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from tests.bot_process import write_config
from tests.conftest import REPO, write_post

PROMPT = "伊会长@会长群> "
PHONE = "【机器人】商会小助手: @伊会长 电话/传真：0351-8224667"
ADDRESS = "【机器人】商会小助手: @伊会长 联系地址：山西省太原市长治路306号火炬创业大厦C座15层"
# What a log line looks like, ours or a library's: a clock time or a level name.
LOG_LINE = re.compile(r"\d\d:\d\d:\d\d|\b(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b|Traceback")
SHANGHAI_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0800 (INFO|WARNING|ERROR) +\S+: ")


class Screen:
    """Whatever the process writes to one terminal or pipe, to wait on."""

    def __init__(self) -> None:
        self.text = ""
        self.closed = asyncio.Event()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._changed = asyncio.Event()

    def add(self, data: bytes) -> None:
        self.text += self._decoder.decode(data).replace("\r\n", "\n")
        self._changed.set()

    async def wait_for(self, text: str, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while text not in self.text:
                self._changed.clear()
                await self._changed.wait()


class BotInTerminal:
    """`python -m bot` on the simulator in `home`, in a terminal (a pty) or with pipes."""

    def __init__(self, home: Path, tty: bool, under_make: bool = False) -> None:
        self.home, self.tty, self.under_make = home, tty, under_make
        self.screen = Screen()  # the terminal, or stdout
        self.errors = Screen()  # stderr, when it is not the terminal
        self.process: asyncio.subprocess.Process | None = None
        self._terminal = -1

    async def start(self) -> None:
        config = write_config(self.home, "", "", {  # no pauses between sends
            "per_chat_interval_seconds = 3": "per_chat_interval_seconds = 0",
            "jitter_seconds = 2": "jitter_seconds = 0",
            "messages_per_minute = 40": "messages_per_minute = 6000"})
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("WECHATY_PUPPET_SERVICE")}  # no gateway: the simulator
        env["PYTHONPATH"] = str(REPO)
        command = [sys.executable, "-m", "bot", "--config", str(config)]
        if self.under_make:  # `make run` typed into a terminal: a session of its own, as a
            makefile = self.home / "Makefile"  # shell gives it, with the pty to control
            makefile.write_text(f"run:\n\t@{' '.join(command)}\n", encoding="utf-8")
            command = ["setsid", "--ctty", "make", "--silent", "-f", str(makefile), "run"]
        if self.tty:
            self._terminal, user_side = os.openpty()
            self.process = await asyncio.create_subprocess_exec(
                *command, env=env, cwd=self.home,
                stdin=user_side, stdout=user_side, stderr=user_side)
            os.close(user_side)
            asyncio.get_running_loop().add_reader(self._terminal, self._read_terminal)
            self.errors.closed.set()
            return
        self.process = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=self.home,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        assert self.process.stdout is not None and self.process.stderr is not None
        for stream, screen in ((self.process.stdout, self.screen),
                               (self.process.stderr, self.errors)):
            asyncio.get_running_loop().create_task(read_pipe(stream, screen))

    def _read_terminal(self) -> None:
        try:
            self.screen.add(os.read(self._terminal, 65536))
        except OSError:  # EIO: the process has closed its side, and everything is read
            asyncio.get_running_loop().remove_reader(self._terminal)
            os.close(self._terminal)
            self.screen.closed.set()

    def press_ctrl_c(self) -> None:
        """What the keyboard does: the terminal sends SIGINT to its foreground group."""
        os.write(self._terminal, b"\x03")

    async def type(self, *lines: str) -> None:
        typed = "".join(f"{line}\n" for line in lines).encode()
        if self.tty:
            os.write(self._terminal, typed)
            return
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(typed)
        await self.process.stdin.drain()

    async def stop_with(self, signum: int | None) -> tuple[int, float]:
        """Send the signal (None: Ctrl-C on the keyboard); the exit code and how long the
        process took to end."""
        assert self.process is not None
        sent = time.monotonic()
        if signum is None:
            self.press_ctrl_c()
        else:
            self.process.send_signal(signum)
        async with asyncio.timeout(15):
            code = await self.process.wait()
        took = time.monotonic() - sent
        async with asyncio.timeout(5):  # the last lines written before the exit
            await self.screen.closed.wait()
            await self.errors.closed.wait()
        return code, took

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()


async def read_pipe(stream: asyncio.StreamReader, screen: Screen) -> None:
    while data := await stream.read(65536):
        screen.add(data)
    screen.closed.set()


def log_lines(home: Path) -> list[str]:
    return (home / "data" / "bot.log").read_text(encoding="utf-8").splitlines()


async def test_ctrl_c_ends_the_bot_in_a_terminal_that_shows_the_chat_and_no_log_line(
    tmp_path: Path,
) -> None:
    announcements = tmp_path / "announcements"
    announcements.mkdir()
    Image.new("RGB", (20, 20), "red").save(announcements / "red.png")
    write_post(tmp_path, "pic", 'title = "带图公告"\nimages = ["red.png"]', "请看图。")
    bot = BotInTerminal(tmp_path, tty=True)
    await bot.start()
    try:
        await bot.screen.wait_for(PROMPT)
        await bot.type("商会电话多少？")
        await bot.screen.wait_for(PHONE)
        await bot.type("/多行", "各位会长好，", "请问商会地址在哪？", ".")
        await bot.screen.wait_for("[会长群] 伊会长: 各位会长好，\n请问商会地址在哪？\n")
        await bot.screen.wait_for(ADDRESS)
        await bot.type("/私聊 刘秘书长", "#预览 pic")  # a picture: python-wechaty's FileBox logs
        await bot.screen.wait_for("【机器人】商会小助手: [图片] [文件] red.png\n")
        code, took = await bot.stop_with(signal.SIGINT)  # Ctrl-C
    finally:
        bot.kill()
    assert (code, took < 10) == (0, True), took
    assert bot.screen.text.endswith("再见\n")
    assert not [line for line in bot.screen.text.splitlines() if LOG_LINE.search(line)]

    logged = log_lines(tmp_path)
    assert logged and all(SHANGHAI_LINE.match(line) for line in logged), logged
    assert any("-> logged in" in line for line in logged)
    assert any("faq address in presidents@chatroom asked by wxid_president_yi: answered"
               in line for line in logged)
    assert any("bot.app: stopping: no new work" in line for line in logged)


async def test_sigterm_with_stdin_open_as_under_docker_run_i_exits_0_at_once(
    tmp_path: Path,
) -> None:
    bot = BotInTerminal(tmp_path, tty=False)
    await bot.start()
    try:
        await bot.screen.wait_for(PROMPT)
        await bot.type("邮编？", "/多行", "商会电话", "多少？", "/发送")
        await bot.screen.wait_for("【机器人】商会小助手: @伊会长 邮政编码：030006")
        await bot.screen.wait_for(PHONE)
        code, took = await bot.stop_with(signal.SIGTERM)  # stdin still open
    finally:
        bot.kill()
    assert (code, took < 10) == (0, True), took
    assert "[会长群] 伊会长: 商会电话\n多少？\n" in bot.screen.text
    assert not [line for line in bot.screen.text.splitlines() if LOG_LINE.search(line)]
    assert bot.errors.text.startswith("没有配置网关：使用内置模拟器。日志写在 ")
    first, console = bot.errors.text.splitlines()  # those two sentences only
    assert first.endswith(f"{Path('data') / 'bot.log'}")
    assert console.startswith("网页后台：http://127.0.0.1:") and "#后台" in console
    logged = log_lines(tmp_path)
    assert all(SHANGHAI_LINE.match(line) for line in logged), logged
    assert any("bot.app: stopping: no new work" in line for line in logged)


async def test_ctrl_c_on_the_keyboard_under_make_run_ends_make_with_0(tmp_path: Path) -> None:
    # The keyboard's Ctrl-C reaches every process of the terminal's foreground group: make
    # too, which then reported "make: *** [Makefile: run] Interrupt" and failed.
    bot = BotInTerminal(tmp_path, tty=True, under_make=True)
    await bot.start()
    try:
        await bot.screen.wait_for(PROMPT)
        await bot.type("商会电话多少？")
        await bot.screen.wait_for(PHONE)
        code, took = await bot.stop_with(None)
    finally:
        bot.kill()
    assert (code, took < 10) == (0, True), (bot.screen.text, took)
    assert "Interrupt" not in bot.screen.text
    assert bot.screen.text.endswith("再见\n")


CHECK_LOGGERS = """
import logging, sys
from pathlib import Path
from zoneinfo import ZoneInfo
import bot.runner  # everything the running bot imports: python-wechaty, grpclib, ...
from bot.ops.logs import setup_logging

setup_logging("INFO", ZoneInfo("Asia/Shanghai"), log_file=Path(sys.argv[1]))
for name in ("FileBox", "PuppetService", "WechatyPuppet.Schema.Base", "grpclib.protocol",
             "asyncio", "bot.app"):
    logging.getLogger(name).error("line from %s", name)
own = [name for name, logger in logging.Logger.manager.loggerDict.items()
       if isinstance(logger, logging.Logger) and (not logger.propagate or [
           h for h in logger.handlers if not isinstance(h, logging.NullHandler)])]
print("loggers with handlers of their own:", own)
"""


def test_every_library_logger_writes_through_our_formatter(tmp_path: Path) -> None:
    # python-wechaty's FileBox logger came with its own handler: host time, its own format,
    # straight to the terminal, in the middle of the chat.
    log_file = tmp_path / "bot.log"
    done = subprocess.run([sys.executable, "-c", CHECK_LOGGERS, str(log_file)],
                          env={**os.environ, "PYTHONPATH": str(REPO), "TZ": "UTC"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (
        0, "loggers with handlers of their own: []\n", "")
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        f"line from {name}" for name in ("FileBox", "PuppetService",
                                         "WechatyPuppet.Schema.Base", "grpclib.protocol",
                                         "asyncio", "bot.app")]
    assert all(SHANGHAI_LINE.match(line) for line in lines), lines
