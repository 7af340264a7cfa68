"""Alerts outside WeChat: a webhook received by a local HTTP server, once per incident."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import Settings
from bot.core.messages import State
from bot.core.outbox import Failure
from bot.core.store import Store
from bot.posts.scheduler import ALIVE_KEY
from bot.simulator import Simulator, World
from tests.conftest import PRESIDENTS, RunningBot, settings_for
from tests.test_announcements_e2e import ADMIN, SECRETARY, SHANGHAI, to, write_post
from tests.webhook_receiver import WebhookReceiver

NAME = "商会机器人（测试）"
FAST_GATEWAY = {"idle_ding_seconds": 0.3, "ding_timeout_seconds": 0.3, "rpc_timeout_seconds": 0.5,
                "reconnect_min_seconds": 0.1, "reconnect_max_seconds": 0.2}


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    yield server
    await server.stop()


def alerting(endpoint: str, url: str, format: str = "json", token: str = "sim-token",
             home: Path | None = None) -> Settings:
    settings = settings_for(endpoint, token=token, home=home, alerts={
        "webhook_url": url, "format": format, "hung_after_seconds": 1.0, "name": NAME})
    return settings.model_copy(update={"gateway": settings.gateway.model_copy(update=FAST_GATEWAY)})


async def stop(running: RunningBot) -> None:
    """Stop the bot: what it queued for the webhook goes out first."""
    await running.bot.stop()
    await running.task


def in_shanghai(stamp: str) -> datetime:
    at = datetime.fromisoformat(stamp)
    assert at.utcoffset() == timedelta(hours=8)
    assert abs(at.timestamp() - time.time()) < 60
    return at


@pytest.mark.parametrize("format", ["wecom", "json"])
async def test_a_hung_gateway_raises_one_alert_and_after_resume_one_recovery(
    simulator: Simulator, start_bot: Any, format: str
) -> None:
    receiver = WebhookReceiver(statuses=[500])  # the first POST fails: retried with backoff
    await receiver.start()
    try:
        running: RunningBot = await start_bot(alerting(simulator.endpoint, receiver.url, format))
        hung_at = time.monotonic()
        simulator.hang()
        await receiver.wait_for(lambda bodies: len(bodies) == 1, timeout=15)
        alerted_at = time.monotonic()
        for _ in range(2):  # still hung, still retrying: no second alert
            _, alerted_at = await running.states.wait_for(State.DISCONNECTED, after=alerted_at + 1e-6)
        simulator.resume()
        await running.states.wait_for(State.LOGGED_IN, after=hung_at)
        await receiver.wait_for(lambda bodies: len(bodies) == 2)
        # WeChat is up again: the admin hears of the recovery there too (not the stale alert).
        recovered = await simulator.wait_for_sent(to(ADMIN))
        assert recovered.text.startswith(f"【已恢复】微信网关 {simulator.endpoint} 又能连上了，中断约 ")
        await stop(running)
    finally:
        await receiver.stop()
    alert, recovery = receiver.bodies
    assert receiver.attempts == 3 and len(receiver.bodies) == 2
    assert not [s for s in simulator.sent if s.conversation_id == ADMIN and "告警" in s.text]
    if format == "json":
        assert set(alert) == {"event", "state", "message", "at", "bot"}
        assert (alert["event"], alert["state"], alert["bot"]) == ("gateway", "alert", NAME)
        assert alert["message"].startswith(f"连不上微信网关 {simulator.endpoint} 已超过 1 秒"
                                           "（gateway hung: no answer to ding")
        assert (recovery["event"], recovery["state"]) == ("gateway", "recovered")
        assert recovery["message"].startswith(f"微信网关 {simulator.endpoint} 又能连上了，中断约 ")
        assert in_shanghai(alert["at"]) <= in_shanghai(recovery["at"])
    else:
        assert alert["msgtype"] == recovery["msgtype"] == "text"
        assert alert["text"]["content"].startswith(
            f"【{NAME}】告警：连不上微信网关 {simulator.endpoint} 已超过 1 秒（gateway hung")
        assert "机器人会一直重试" in alert["text"]["content"]
        assert recovery["text"]["content"].startswith(
            f"【{NAME}】已恢复：微信网关 {simulator.endpoint} 又能连上了，中断约 ")
        stamp = alert["text"]["content"].rsplit("\n", 1)[1]  # the time, Asia/Shanghai
        assert abs(datetime.strptime(stamp + "+0800", "%Y-%m-%d %H:%M:%S%z").timestamp()
                   - time.time()) < 60


async def test_a_rejected_token_is_one_clear_alert_and_the_bot_keeps_going(
    simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    settings = alerting(simulator.endpoint, receiver.url, token="wrong-token")
    running: RunningBot = await start_bot(settings, wait_login=False)
    await receiver.wait_for(lambda bodies: len(bodies) == 1)
    since = time.monotonic()
    for _ in range(3):  # rejected again and again, retried, never exits, alerted once
        _, since = await running.states.wait_for(State.TOKEN_REJECTED, after=since + 1e-6)
    assert not running.task.done()
    await stop(running)
    assert len(receiver.bodies) == 1
    alert = receiver.bodies[0]
    assert (alert["event"], alert["state"]) == ("token", "alert")
    assert alert["message"] == (
        f"微信网关 {simulator.endpoint} 拒绝了令牌：请把环境变量 WECHATY_PUPPET_SERVICE_TOKEN "
        "设为网关启动时用的令牌，改好后重启机器人。在此之前机器人会一直重试。")


async def test_logout_alerts_at_once_and_the_next_login_is_the_recovery(
    simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    running: RunningBot = await start_bot(alerting(simulator.endpoint, receiver.url))
    await simulator.logout()
    await receiver.wait_for(lambda bodies: len(bodies) == 1)
    assert receiver.bodies[0]["event"] == "wechat"
    assert receiver.bodies[0]["message"].startswith("机器人的微信已退出登录（logout）。请用机器人的微信扫码")
    assert "login-qr.png" in receiver.bodies[0]["message"]
    simulator.confirm_scan()
    await receiver.wait_for(lambda bodies: len(bodies) == 2)
    assert (receiver.bodies[1]["event"], receiver.bodies[1]["state"]) == ("wechat", "recovered")
    assert (await simulator.wait_for_sent(to(ADMIN))).text == (
        "【已恢复】机器人的微信已登录（wxid_chamber_bot 商会小助手）。")
    await stop(running)
    assert len(receiver.bodies) == 2


async def test_a_failed_post_is_reported_once_in_wechat_and_to_the_webhook(
    tmp_path: Path, simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    # The bot does not own the group: setting the group announcement fails.
    write_post(tmp_path, "notice", 'title = "群公告：春节放假安排"\nset_announcement = true',
               "秘书处1月26日至2月4日放假。")
    simulator.world.rooms[PRESIDENTS].owner_id = "wxid_president_yi"
    running: RunningBot = await start_bot(alerting(simulator.endpoint, receiver.url, home=tmp_path))
    await simulator.say(SECRETARY, "#发布 notice")
    await simulator.wait_for_sent(to(PRESIDENTS))
    report = await simulator.wait_for_sent(to(ADMIN))
    assert report.text.startswith("发送失败（not sent）：notice → presidents@chatroom @ manual:")
    await receiver.wait_for(lambda bodies: len(bodies) == 1)
    assert receiver.bodies[0]["event"] == "send_failed"
    assert receiver.bodies[0]["message"] == report.text
    await stop(running)
    assert len(receiver.bodies) == 1


async def test_parts_failing_while_the_gateway_is_down_are_one_report(
    tmp_path: Path, simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    paragraphs = [f"第{n}部分：" + "商会工作稳步推进。" * 40 for n in range(1, 5)]
    # Parts wait for a gateway that is away until the post's grace ends (test_faults_gateway_
    # e2e.py); this gateway stays down past its 0.6 s, so they are given up.
    write_post(tmp_path, "series", 'title = "四段公告"\ngrace_minutes = 0.01', "\n\n".join(paragraphs))
    settings = alerting(simulator.endpoint, receiver.url, home=tmp_path)
    settings = settings.model_copy(update={"sending": settings.sending.model_copy(
        update={"max_text_length": 500, "per_chat_interval_seconds": 1})})
    running: RunningBot = await start_bot(settings)
    failed: list[Failure] = []
    three_failed = asyncio.Event()

    async def count(failure: Failure) -> None:
        failed.append(failure)
        if len(failed) == 3:
            three_failed.set()

    running.bot.outbox.failure_listeners.append(count)
    await simulator.say(SECRETARY, "#发布 series")
    await simulator.wait_for_sent(to(PRESIDENTS))
    await simulator.stop()  # parts 2 to 4 fail, each after its retries
    await asyncio.wait_for(three_failed.wait(), timeout=10)
    await receiver.wait_for(lambda bodies: any(b["event"] == "gateway" for b in bodies))
    await simulator.start()
    report = await simulator.wait_for_sent(to(ADMIN))  # held while WeChat was down
    assert report.text.startswith("发送失败") and "series → presidents@chatroom" in report.text
    recovered = await simulator.wait_for_sent(to(ADMIN))
    await receiver.wait_for(lambda bodies: len(bodies) == 3)  # + the gateway's recovery
    await stop(running)
    assert [f.message.text.split("\n")[0] for f in failed] == ["（2/4）", "（3/4）", "（4/4）"]
    assert sorted((b["event"], b["state"]) for b in receiver.bodies) == [
        ("gateway", "alert"), ("gateway", "recovered"), ("send_failed", "alert")]
    recovery = next(b["message"] for b in receiver.bodies if b["state"] == "recovered")
    assert recovered.text == f"【已恢复】{recovery}"
    assert [s.text for s in simulator.sent if s.conversation_id == ADMIN] == [
        report.text, recovered.text]  # not the gateway's alert: it was over by then


async def test_a_post_missed_while_the_bot_was_down_reaches_the_webhook_too(
    tmp_path: Path, simulator: Simulator, start_bot: Any, receiver: WebhookReceiver
) -> None:
    old = datetime.now(SHANGHAI) - timedelta(minutes=20)  # the grace is 10 minutes
    write_post(tmp_path, "old", f'title = "二十分钟前的公告"\nschedule = "每天 {old:%H:%M}"', "别补发我。")
    store = Store(tmp_path / "data" / "bot.sqlite3")
    store.put(ALIVE_KEY, (old - timedelta(minutes=10)).isoformat())  # down since then
    store.close()
    running: RunningBot = await start_bot(alerting(simulator.endpoint, receiver.url, home=tmp_path))
    expected = f"停机期间错过（已超过补发时限，未发送）：二十分钟前的公告（{old:%Y-%m-%d %H:%M}）"
    assert (await simulator.wait_for_sent(to(ADMIN))).text == expected  # WeChat, as before
    await receiver.wait_for(lambda bodies: len(bodies) == 1)
    assert (receiver.bodies[0]["event"], receiver.bodies[0]["message"]) == ("announcement", expected)
    await stop(running)


async def test_a_first_start_waiting_for_a_scan_is_an_alert_until_the_login(
    start_bot: Any, receiver: WebhookReceiver
) -> None:
    simulator = Simulator(World.presidents_group(), token="sim-token", require_scan=True)
    await simulator.start()
    try:
        running: RunningBot = await start_bot(alerting(simulator.endpoint, receiver.url),
                                              wait_login=False)
        await receiver.wait_for(lambda bodies: len(bodies) == 1)
        assert receiver.bodies[0]["message"].startswith("机器人的微信未登录，正在等待扫码")
        simulator.confirm_scan()
        await receiver.wait_for(lambda bodies: len(bodies) == 2)
        await stop(running)
    finally:
        await simulator.stop()


def test_what_a_bot_does_not_use_is_not_loaded() -> None:
    """Memory for months: the HTTP client comes with the first alert to post (a bot without a
    webhook never loads it) and the web console only where it is enabled."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, bot.runner; "
         "print(*(name in sys.modules for name in ('httpx', 'starlette', 'uvicorn', 'trio')))"],
        capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == ["False", "False", "False", "False"]
