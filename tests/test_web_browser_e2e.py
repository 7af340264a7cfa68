"""The console in a real headless browser (Debian's chromium), as the secretariat uses it: the
link from #后台 in the simulated WeChat, the pages, a post scheduled in the editor and sent by
the bot at that time, once. Also who is turned away."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.simulator import SentMessage, Simulator
from tests.browser import PHONE, Browser, browser_at
from tests.conftest import RunningBot, settings_for, write_post
from tests.web_helpers import ask_for_link

SECRETARY, ADMIN, MEMBER = "wxid_secretary_liu", "wxid_admin_wang", "wxid_vp_001"
PRESIDENTS = "presidents@chatroom"
SHANGHAI = ZoneInfo("Asia/Shanghai")
AWARD = "喜讯：我会获评全国“四好”商会"


async def start(tmp_path: Path, simulator: Simulator, start_bot: Any) -> RunningBot:
    write_post(tmp_path, "award", f'title = "{AWARD}"', "2021年，我会获评全国“四好”商会。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    return running


def base_url(running: RunningBot) -> str:
    assert running.bot.web is not None
    return running.bot.web.public_url


async def test_a_secretary_opens_the_link_from_wechat_and_lands_on_the_posts(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    link = await ask_for_link(simulator, SECRETARY)
    async with browser_at(base_url(running), PHONE) as browser:
        await browser.open(link)
        assert "刘秘书长" in await browser.text("main")
        await browser.click("form[action='/login'] button")
        await browser.wait_for_text(AWARD, "main")
        assert (await browser.url()).endswith("/")
        assert "刘秘书长（秘书处）" in await browser.text("header")
        # the same link a second time, in the same browser: used up
        await browser.open(link)
        assert "链接已失效" in await browser.text("main")


async def test_without_a_session_the_browser_gets_the_login_page(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with browser_at(base_url(running)) as browser:
        for page in ("/", "/posts/award", "/calendar", "/congrats", "/history", "/status"):
            await browser.open(page)
            text = await browser.text("main")
            assert "请先登录" in text and "#后台" in text and AWARD not in text


@pytest.mark.timeout(240)  # the run is set to the next minute but one: up to two minutes
async def test_an_admin_schedules_a_post_in_the_editor_and_the_group_gets_it_then_once(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    link = await ask_for_link(simulator, ADMIN)
    now = datetime.now(SHANGHAI)
    run = (now + timedelta(minutes=2 if now.second > 40 else 1)).replace(second=0, microsecond=0)
    async with browser_at(base_url(running)) as browser:
        await browser.open(link)
        await browser.click("form[action='/login'] button")
        await browser.wait_for_text(AWARD, "main")
        await browser.open("/posts/new")
        await browser.type("#post-id", "meeting")
        await browser.type("#title", "会长例会通知")
        await browser.type("#body", "各位会长：本周五下午3点在商会会议室召开会长例会。\n\n请准时参加。")
        await browser.type("#schedule", f"{run:%Y-%m-%d %H:%M}")
        await browser.wait_for_text(f"{run:%Y-%m-%d}", "#schedule-check")  # checked as typed
        await browser.click("#save")
        page = await browser.wait_for_text("已定时", "main")
        assert f"{run:%H:%M}" in page
    path = tmp_path / "announcements" / "meeting.md"
    assert f'schedule = "{run:%Y-%m-%d %H:%M}"' in path.read_text(encoding="utf-8")
    entry = running.bot.store.history("meeting")[-1]
    assert (entry.actor_id, entry.action, entry.source) == (ADMIN, "create", "网页")

    sent = await simulator.wait_for_sent(to_group, timeout=(run - now).total_seconds() + 30)
    assert sent.text.startswith("会长例会通知") and "本周五下午3点" in sent.text
    assert datetime.now(SHANGHAI) >= run
    # the admins' receipt comes after the run is complete: by then, was anything sent twice?
    receipt = await simulator.wait_for_sent(lambda m: m.conversation_id == ADMIN, timeout=30)
    assert "会长例会通知" in receipt.text
    assert [m.text for m in simulator.sent if to_group(m)] == [sent.text]


def to_group(message: SentMessage) -> bool:
    return message.conversation_id == PRESIDENTS


async def signed_in_browser(browser: Browser, simulator: Simulator, user_id: str) -> None:
    await browser.open(await ask_for_link(simulator, user_id))
    await browser.click("form[action='/login'] button")
    await browser.wait_for_text(AWARD, "main")


async def test_no_link_for_a_member_and_made_up_or_expired_links_are_refused(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    await simulator.say(MEMBER, "#后台")
    refusal = await simulator.wait_for_sent(lambda m: m.conversation_id == MEMBER)
    assert "/login/" not in refusal.text
    link = await ask_for_link(simulator, ADMIN)
    web = running.bot.web
    assert web is not None
    async with browser_at(base_url(running), PHONE) as browser:
        await browser.open("/login/" + "A" * 43)
        assert "链接已失效" in await browser.text("main")
        web.links.clock = lambda: time.time() + 10 * 60 + 1  # ten minutes on
        await browser.open(link)
        assert "链接已失效" in await browser.text("main")
        await browser.open("/")
        assert "请先登录" in await browser.text("main")


async def test_a_change_posted_without_its_csrf_token_is_refused(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    post_file = tmp_path / "announcements" / "award.md"
    before = post_file.read_text(encoding="utf-8")
    async with browser_at(base_url(running)) as browser:
        await signed_in_browser(browser, simulator, ADMIN)
        status = await browser.script(
            "return fetch('/posts/award/pause', {method: 'POST', credentials: 'same-origin',"
            " body: new URLSearchParams({})}).then(r => r.status)")
        assert status == 403
    assert post_file.read_text(encoding="utf-8") == before
    assert running.bot.store.history("award") == []


async def test_an_upload_that_is_not_a_picture_is_refused_and_nothing_is_written(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    folder = tmp_path / "announcements"
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    fake = tmp_path / "合影.png"
    fake.write_text("这不是图片，是一段文字。", encoding="utf-8")
    async with browser_at(base_url(running)) as browser:
        await signed_in_browser(browser, simulator, ADMIN)
        await browser.open("/posts/award")
        await browser.type("#picture", str(fake), clear=False)
        await browser.click("#save")
        page = await browser.wait_for_text("图片", ".notice.error")
        assert "合影.png" in page or "不是" in page, page
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
