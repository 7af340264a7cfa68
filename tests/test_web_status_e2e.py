"""The console's 状态: what #状态 tells an admin (connection, next posts, outbox, failures, open
alerts, version), refreshing itself every 10 seconds. Admins only."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html

from bot.simulator import SentMessage, Simulator
from tests.conftest import RunningBot, settings_for, write_post
from tests.web_helpers import console_client, signed_in

SECRETARY, ADMIN = "wxid_secretary_liu", "wxid_admin_wang"


def to(chat: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.conversation_id == chat


def text_of(html: str, element_id: str) -> str:
    return " ".join(lxml.html.fromstring(html).get_element_by_id(element_id).text_content().split())


async def start(tmp_path: Path, simulator: Simulator, start_bot: Any) -> RunningBot:
    write_post(tmp_path, "weekly", 'title = "每周例会提醒"\nschedule = "每周一 09:00"', "周一例会。")
    write_post(tmp_path, "draft", 'title = "未定时的草稿"', "草稿。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    return running


async def test_an_admin_sees_the_connection_the_next_posts_and_the_version(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        page = await client.get("/status")
        assert page.status_code == 200
        assert text_of(page.text, "status-connection").startswith("微信：已登录，自 ")
        next_run = running.bot.scheduler.next_run("weekly")
        assert next_run is not None
        weekday = "一二三四五六日"[next_run.weekday()]
        assert text_of(page.text, "status-next") == f"{next_run:%Y-%m-%d} 周{weekday} {next_run:%H:%M} 每周例会提醒"
        assert "未定时的草稿" not in page.text
        assert text_of(page.text, "status-outbox") == "0 条"
        assert text_of(page.text, "status-failures") == "0 条"
        assert text_of(page.text, "status-version").startswith(f"0.1.0（进程 {os.getpid()}")
        assert 'id="status-alerts"' not in page.text and "<dd>无</dd>" in page.text
        assert 'hx-trigger="every 10s"' in page.text and 'hx-select="#status"' in page.text


async def test_an_open_alert_is_named_as_in_chat(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        # The database refuses every write, as a full disk would: the next write raises the alert.
        running.bot.store.db.execute("PRAGMA query_only = ON")
        try:
            await simulator.say(SECRETARY, "#发布 weekly")
            await simulator.wait_for_sent(lambda sent: sent.text.startswith("【告警】数据库出错"))
            page = await client.get("/status")
            assert text_of(page.text, "status-alerts") == "未解决的告警：数据库出错"
        finally:
            running.bot.store.db.execute("PRAGMA query_only = OFF")


async def test_a_secretary_and_a_stranger_do_not_see_the_status(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        refused = await client.get("/status")
        assert refused.status_code == 403
        assert "只有管理员可以使用" in refused.text and "每周例会提醒" not in refused.text
    async with console_client(running) as stranger:
        page = await stranger.get("/status")
        assert page.status_code == 401 and "#后台" in page.text and "已登录" not in page.text
