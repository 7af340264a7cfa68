"""Secrets stay out of every log line and message.

The bot runs as a real process (`python -m bot run`) against the simulator: its whole DEBUG log
is read for the gateway token.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import Simulator, World
from tests.bot_process import BotProcess, write_config
from tests.conftest import PRESIDENTS, REPO, write_post

# What a real deployment's token looks like (README step 2), distinct from anything else logged.
GATEWAY_TOKEN = "insecure_6f1c2d9e-3b7a-4c55-9e0f-8a2b4c6d8e10"
WEBHOOK_KEY = "693a91f6-7b2c-4e9d-a1f0-5c3e8d7b9a24"
MEMBER, SECRETARY = "wxid_vp_001", "wxid_secretary_liu"


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
