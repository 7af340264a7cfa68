"""Secrets stay out of every log line and message; the data folder is the bot's alone.

The bot runs as a real process (`python -m bot run`) against the simulator: its whole DEBUG log
is read for the gateway token, the modes of what it wrote are read from the disk, and a data
folder it may not write stops it with one sentence.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import Simulator, World
from tests.bot_process import BotProcess, write_config
from tests.conftest import PRESIDENTS, REPO, write_post

# Shaped like a deployment token (README step 2), distinct from anything else logged; made up
# (tests/test_deploy_files.py refuses UUID-shaped tokens in the repository).
GATEWAY_TOKEN = "insecure_made-up-gateway-token-7Q2wZ9"
WEBHOOK_KEY = "made-up-robot-key-K9x4T"
MEMBER, SECRETARY, ADMIN = "wxid_vp_001", "wxid_secretary_liu", "wxid_admin_wang"


def to(chat: str) -> Any:
    return lambda sent: sent.conversation_id == chat


@pytest.fixture
async def gateway() -> AsyncIterator[Simulator]:
    sim = Simulator(World.presidents_group(), token=GATEWAY_TOKEN)
    await sim.start()
    yield sim
    await sim.stop()


async def test_a_debug_run_logs_no_secret_after_a_question_and_a_post(
    tmp_path: Path, gateway: Simulator
) -> None:
    write_post(tmp_path, "gala", 'title = "迎新年联谊会通知"', "定于周五晚举行。\n\n请各位会长拨冗出席。")
    config = write_config(tmp_path, gateway.endpoint, GATEWAY_TOKEN,
                          {'log_level = "INFO"': 'log_level = "DEBUG"'})
    bot = BotProcess(config, GATEWAY_TOKEN)
    await bot.start()
    try:
        await bot.wait_for_log("-> logged in")
        await gateway.say(MEMBER, "邮编？", room_id=PRESIDENTS)
        assert (await gateway.wait_for_sent(to(PRESIDENTS), timeout=10)).text.endswith("030006")
        await gateway.say(SECRETARY, "#发布 gala")
        post = await gateway.wait_for_sent(to(PRESIDENTS), timeout=10)
        assert post.text.startswith("迎新年联谊会通知")
        await gateway.wait_for_sent(to(SECRETARY), timeout=10)  # "已发布…"
    finally:
        assert await bot.stop() == 0
    whole_log = "\n".join(bot.log)
    assert " DEBUG " in whole_log  # the bot did log at DEBUG
    assert "sent" in whole_log and len(bot.log) >= 5
    # hpack logged the token as the HTTP/2 :authority of every call, 9 lines in 10 at DEBUG.
    assert GATEWAY_TOKEN not in whole_log
    assert GATEWAY_TOKEN.removeprefix("insecure_") not in whole_log
    assert "hpack" not in whole_log and ":authority" not in whole_log


def test_no_log_line_shows_a_secret_whatever_logs_it() -> None:
    """Any logger, any level, arguments as bytes, a traceback: the secrets come out as ***."""
    script = f"""
import logging
from zoneinfo import ZoneInfo
from bot.core.config import secret_strings
from bot.ops.logs import setup_logging
token, url = {GATEWAY_TOKEN!r}, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WEBHOOK_KEY}"
setup_logging("DEBUG", ZoneInfo("Asia/Shanghai"), secrets=secret_strings(token, url))
logging.getLogger("hpack.hpack").debug("Adding %r=%r", b":authority", token.encode())
logging.getLogger("some.library").warning("Adding %r=%r", b":authority", token.encode())
logging.getLogger("httpx").warning("HTTP Request: POST %s", url)
logging.getLogger("bot.ops.webhook").info("key %s", {WEBHOOK_KEY!r})
try:
    raise ConnectionError("rejected " + token)
except ConnectionError:
    logging.getLogger("bot").exception("gateway")
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=REPO, check=True, timeout=60)
    lines = run.stderr.splitlines()
    assert GATEWAY_TOKEN not in run.stderr and WEBHOOK_KEY not in run.stderr
    assert not any(line.split()[3:4] == ["hpack.hpack:"] for line in lines)  # quiet below INFO
    assert lines[0].endswith("some.library: Adding b':authority'=b'***'")
    assert lines[1].endswith("httpx: HTTP Request: POST https://qyapi.weixin.qq.com***")
    assert lines[2].endswith("bot.ops.webhook: key ***")
    assert lines[-1] == "ConnectionError: rejected ***"


def modes_under(folder: Path) -> dict[str, str]:
    """Every entry's permission bits, by path relative to `folder` ('.' for the folder)."""
    found = {".": oct(stat.S_IMODE(folder.stat().st_mode))}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


async def test_the_data_folder_and_everything_the_bot_writes_there_are_its_users_alone(
    tmp_path: Path
) -> None:
    """0700 and 0600, including a folder an older version left 0755 with a 0644 file in it."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "status.json").write_text("{}", encoding="utf-8")
    (data / "status.json").chmod(0o644)
    write_post(tmp_path, "gala", 'title = "迎新年联谊会通知"', "定于周五晚举行。")
    simulator = Simulator(World.presidents_group(), token=GATEWAY_TOKEN, require_scan=True)
    await simulator.start()
    bot = BotProcess(write_config(tmp_path, simulator.endpoint, GATEWAY_TOKEN, {}), GATEWAY_TOKEN)
    await bot.start()
    try:
        await bot.wait_for_log("WeChat login needed")
        assert modes_under(data)["login-qr.png"] == "0o600"
        simulator.confirm_scan()
        await bot.wait_for_log("-> logged in")
        await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)
        await simulator.wait_for_sent(to(PRESIDENTS), timeout=10)
        await simulator.say(ADMIN, "#删除 gala 确认")
        await simulator.wait_for_sent(  # the admin also hears that the login is back
            lambda sent: sent.conversation_id == ADMIN and sent.text.startswith("已删除"),
            timeout=10)
        running = modes_under(data)  # the -wal and -shm files exist while the database is open
    finally:
        assert await bot.stop() == 0
        await simulator.stop()
    deleted = next(name for name in running if name.startswith("deleted-posts/gala."))
    assert running == {
        ".": "0o700", "deleted-posts": "0o700", deleted: "0o600", "bot.lock": "0o600",
        "bot.sqlite3": "0o600", "bot.sqlite3-wal": "0o600", "bot.sqlite3-shm": "0o600",
        "status.json": "0o600",
    }
    assert set(modes_under(data).values()) <= {"0o700", "0o600"}  # and after the stop


def test_the_simulated_group_writes_its_log_for_the_bots_user_only(tmp_path: Path) -> None:
    """`make run` without a gateway: the log goes to data/bot.log."""
    config = write_config(tmp_path, "", "", {})
    run = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=False, timeout=60)
    assert run.returncode == 0, run.stderr  # stdin at its end: the chat is over
    log = tmp_path / "data" / "bot.log"
    assert "logged in" in log.read_text(encoding="utf-8")
    assert modes_under(tmp_path / "data")["bot.log"] == "0o600"
    assert modes_under(tmp_path / "data")["."] == "0o700"


def start_without_a_gateway(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          cwd=config.parent, env={**os.environ, "PYTHONPATH": str(REPO)},
                          check=False, timeout=60)


@pytest.fixture
def unwritable_data(tmp_path: Path) -> Iterator[Path]:
    """A data folder the bot's user may not write. Root ignores file modes, but not the
    immutable attribute (as it would not a folder owned by someone else for a non-root bot)."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    if os.geteuid() != 0:
        data.chmod(0o500)
        yield data
        data.chmod(0o700)
        return
    made = subprocess.run(["chattr", "+i", str(data)], capture_output=True, text=True,
                          check=False)
    if made.returncode != 0:
        pytest.skip(f"running as root and chattr +i is refused here: {made.stderr.strip()}")
    try:
        yield data
    finally:
        subprocess.run(["chattr", "-i", str(data)], check=True)


def test_a_data_folder_the_bot_cannot_write_stops_start_up_with_one_sentence(
    tmp_path: Path, unwritable_data: Path
) -> None:
    run = start_without_a_gateway(write_config(tmp_path, "", "", {}))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr  # one sentence
    user = os.getuid()
    assert run.stderr.startswith(f"机器人（用户 {user}）无法写入数据目录（{unwritable_data}")
    assert (f"请在 config.toml 所在的文件夹运行 `sudo chown -R {user} data announcements` "
            f"后再启动。") in run.stderr
    assert (f"the bot (user {user}) cannot write its data directory ({unwritable_data}"
            in run.stderr)
    assert not (unwritable_data / "bot.lock").exists()


def test_a_data_folder_path_through_a_file_stops_start_up_with_one_sentence(
    tmp_path: Path
) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    config = write_config(tmp_path, "", "", {'data_dir = "data"': 'data_dir = "blocker/data"'})
    run = start_without_a_gateway(config)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"数据目录 {tmp_path / 'blocker' / 'data'} 无法创建（")
    assert "请移走该文件，或改 config.toml 的 [storage] data_dir，然后再启动。" in run.stderr
    assert "a file is in the way): move the file or change [storage] data_dir" in run.stderr
