"""The bot stays connected: gateway killed, hung, or refusing the token."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from bot.core.messages import State
from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, RunningBot, settings_for

POSTCODE_ANSWER = "邮政编码：030006"


async def test_gateway_killed_and_restarted(simulator: Simulator, running_bot: RunningBot) -> None:
    killed_at = time.monotonic()
    await simulator.stop()
    await running_bot.states.wait_for(State.DISCONNECTED, after=killed_at, timeout=10)
    await simulator.start()
    await running_bot.states.wait_for(State.LOGGED_IN, after=killed_at, timeout=20)
    await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
    sent = await simulator.wait_for_sent(timeout=5)
    assert sent.text.endswith(POSTCODE_ANSWER)


async def test_gateway_down_for_long_is_retried_without_exiting(
    simulator: Simulator, start_bot: Any
) -> None:
    settings = settings_for(simulator.endpoint)
    settings = settings.model_copy(update={"gateway": settings.gateway.model_copy(
        update={"reconnect_min_seconds": 0.1, "reconnect_max_seconds": 0.4})})
    running: RunningBot = await start_bot(settings)
    killed_at = time.monotonic()
    await simulator.stop()
    # Several failed attempts in a row (python-wechaty itself crashed on the second).
    for _ in range(4):
        _, at = await running.states.wait_for(State.DISCONNECTED, after=killed_at, timeout=10)
        killed_at = at + 1e-6
    assert not running.task.done()
    await simulator.start()
    await running.states.wait_for(State.LOGGED_IN, after=killed_at, timeout=10)
    await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(timeout=5)).text.endswith(POSTCODE_ANSWER)


async def test_hung_gateway_is_detected_within_30_seconds(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    # Shipped liveness settings (idle 10 s + ding timeout 10 s).
    hung_at = time.monotonic()
    simulator.hang()
    detail, detected_at = await running_bot.states.wait_for(
        State.DISCONNECTED, after=hung_at, timeout=35
    )
    assert "hung" in detail
    assert detected_at - hung_at < 30
    simulator.resume()
    await running_bot.states.wait_for(State.LOGGED_IN, after=detected_at, timeout=20)
    await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(timeout=5)).text.endswith(POSTCODE_ANSWER)


async def test_rejected_token_is_a_clear_error_and_the_bot_keeps_trying(
    simulator: Simulator, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(simulator.endpoint, token="wrong-token")
    with caplog.at_level(logging.ERROR, logger="bot.wechat.connection"):
        running: RunningBot = await start_bot(settings, wait_login=False)
        await running.states.wait_for(State.TOKEN_REJECTED, timeout=10)
    assert any("rejected the token" in r.getMessage() and "WECHATY_PUPPET_SERVICE_TOKEN"
               in r.getMessage() for r in caplog.records)
    assert not running.task.done()


async def test_wechatys_own_scheduler_and_web_server_do_not_run(
    simulator: Simulator, start_bot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # python-wechaty's plugin manager raised at login when port 5000 was taken, and wrote
    # .wechaty/job.db; the bot must log in with the port busy and leave no such file.
    monkeypatch.chdir(tmp_path)
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            busy.bind(("127.0.0.1", 5000))
            busy.listen()
        except OSError:
            pytest.fail("port 5000 is already taken on this machine; the test needs it")
        running: RunningBot = await start_bot(settings_for(simulator.endpoint))
        await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
        assert (await simulator.wait_for_sent(timeout=5)).text.endswith(POSTCODE_ANSWER)
    assert not (tmp_path / ".wechaty").exists()
    assert running.bot.connection.state is State.LOGGED_IN


async def test_login_qr_shown_when_the_gateway_asks_for_a_scan(
    start_bot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    from bot.simulator import World

    simulator = Simulator(World.presidents_group(), token="sim-token", require_scan=True)
    await simulator.start()
    png = tmp_path / "data" / "login-qr.png"
    try:
        with caplog.at_level(logging.INFO):
            running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path),
                                                  wait_login=False)
            await running.states.wait_for(State.WAITING_FOR_SCAN, timeout=10)
        asked = [r.getMessage() for r in caplog.records if r.name == "bot.login"]
        assert asked and "https://login.weixin.qq.com/l/sim-" in asked[0]
        assert f"also saved as {png}" in asked[0]
        qr_lines = capsys.readouterr().err.splitlines()
        assert sum(any(block in line for block in "█▀▄") for line in qr_lines) >= 10  # drawn in blocks
        with Image.open(png) as image:  # a real PNG, square, big enough to scan from a screen
            assert image.format == "PNG" and image.width == image.height >= 200
            assert {color for _, color in image.convert("L").getcolors()} == {0, 255}  # black on white
        simulator.confirm_scan()
        await running.states.wait_for(State.LOGGED_IN, timeout=10)
        assert not png.exists()  # a used code is removed: it would only mislead
        await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
        answer = await simulator.wait_for_sent(lambda s: s.conversation_id == PRESIDENTS, timeout=5)
        assert answer.text.endswith(POSTCODE_ANSWER)
    finally:
        await simulator.stop()
