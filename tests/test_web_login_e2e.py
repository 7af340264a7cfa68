"""Signing in to the web console: #后台 in WeChat, a one-time link, a session; who is refused.

Over real HTTP to the console the bot serves from its own loop (port 0: a free one)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from bot.simulator import Simulator
from tests.conftest import RunningBot, settings_for, write_post
from tests.web_helpers import ask_for_link, console_client, csrf_of, signed_in

SECRETARY, ADMIN, MEMBER = "wxid_secretary_liu", "wxid_admin_wang", "wxid_vp_001"
PRESIDENTS = "presidents@chatroom"


async def start(tmp_path: Path, simulator: Simulator, start_bot: Any) -> RunningBot:
    write_post(tmp_path, "award", 'title = "喜讯：我会获评全国“四好”商会"', "正文。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    return running


async def test_an_admin_signs_in_with_the_link_from_chat_and_sees_the_posts(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert "喜讯：我会获评全国“四好”商会" in page.text
        assert "王管理员（管理员）" in page.text
        cookie = next(c for c in client.cookies.jar if c.name == "chamber_console")
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert cookie.get_nonstandard_attr("SameSite", "").lower() == "lax"
        assert cookie.expires is not None and cookie.expires - time.time() > 11 * 3600


async def test_the_link_works_once_and_opening_it_uses_nothing_up(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    link = await ask_for_link(simulator, SECRETARY)
    token = link.rsplit("/", 1)[1]
    async with console_client(running) as client:
        for _ in range(2):  # a link preview fetching it first changes nothing
            shown = await client.get(link)
            assert shown.status_code == 200 and "刘秘书长" in shown.text and "进入后台" in shown.text
        assert (await client.post("/login", data={"token": token})).status_code == 303
    async with console_client(running) as other:
        again = await other.post("/login", data={"token": token})
        assert again.status_code == 403
        assert "已经用过或已过期" in again.text and "#后台" in again.text
        assert (await other.get(link)).status_code == 403
        assert (await other.get("/")).status_code == 401


async def test_an_expired_link_is_refused(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    link = await ask_for_link(simulator, ADMIN)
    assert running.bot.web is not None
    running.bot.web.links.clock = lambda: time.time() + 10 * 60 + 1  # ten minutes later
    async with console_client(running) as client:
        refused = await client.post("/login", data={"token": link.rsplit("/", 1)[1]})
        assert refused.status_code == 403 and "已经用过或已过期" in refused.text
        assert (await client.get("/")).status_code == 401


async def test_members_and_strangers_get_no_link_and_no_page(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    await simulator.say(MEMBER, "#后台")
    refusal = await simulator.wait_for_sent(lambda m: m.conversation_id == MEMBER)
    assert "/login/" not in refusal.text and "秘书处" in refusal.text
    await simulator.say(ADMIN, "#后台", room_id=PRESIDENTS)  # in the group: never a link there
    answer = await simulator.wait_for_sent(lambda m: m.conversation_id in (ADMIN, PRESIDENTS))
    assert "/login/" not in answer.text
    async with console_client(running) as client:
        page = await client.get("/")
        assert page.status_code == 401 and "#后台" in page.text and "喜讯" not in page.text
        made_up = await client.post("/login", data={"token": "x" * 43})
        assert made_up.status_code == 403


async def test_a_change_without_the_csrf_token_is_refused(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        page = await client.get("/")
        refused = await client.post("/logout", data={})
        assert refused.status_code == 403 and "校验码" in refused.text
        assert (await client.get("/")).status_code == 200  # still signed in: nothing happened
        out = await client.post("/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303
        assert (await client.get("/")).status_code == 401


async def test_a_secretary_does_not_see_the_admins_pages(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        page = await client.get("/")
        assert "刘秘书长（秘书处）" in page.text
        assert 'href="/history"' not in page.text and 'href="/status"' not in page.text
        assert "新建公告" not in page.text


async def test_pages_carry_no_cache_no_frame_and_only_our_own_scripts(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        page = await client.get("/")
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"
        script = await client.get("/static/htmx.min.js")
        assert script.status_code == 200 and "htmx" in script.text
        assert "//cdn" not in page.text and "https://" not in page.text


async def test_with_the_console_off_the_command_says_so(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path,
                                                       web={"enabled": False}))
    assert running.bot.web is None
    await simulator.say(ADMIN, "#后台")
    answer = await simulator.wait_for_sent(lambda m: m.conversation_id == ADMIN)
    assert answer.text.startswith("网页后台没有开启") and "enabled" in answer.text


async def test_a_port_in_use_is_an_alert_and_the_bot_goes_on_in_wechat(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        running: RunningBot = await start_bot(settings_for(
            simulator.endpoint, home=tmp_path, web={"listen": f"127.0.0.1:{port}"}))
        alert = await simulator.wait_for_sent(lambda m: m.conversation_id == ADMIN, timeout=10)
        assert alert.text.startswith("网页后台无法启动") and f"127.0.0.1:{port}" in alert.text
        await simulator.say(ADMIN, "#后台")
        answer = await simulator.wait_for_sent(lambda m: m.conversation_id == ADMIN)
        assert answer.text.startswith("网页后台现在没有运行") and "/login/" not in answer.text
        await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)  # WeChat goes on as ever
        reply = await simulator.wait_for_sent(lambda m: m.conversation_id == PRESIDENTS)
        assert "030006" in reply.text
        assert not running.task.done()
