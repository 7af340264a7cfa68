"""The console in a real headless browser (Debian's chromium), as the secretariat uses it: the
link from #后台 in the simulated WeChat, the pages, a post scheduled in the editor and sent by
the bot at that time, once. Also who is turned away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.simulator import Simulator
from tests.browser import PHONE, browser_at
from tests.conftest import RunningBot, settings_for, write_post
from tests.web_helpers import ask_for_link

SECRETARY, ADMIN, MEMBER = "wxid_secretary_liu", "wxid_admin_wang", "wxid_vp_001"
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
        for page in ("/",):
            await browser.open(page)
            text = await browser.text("main")
            assert "请先登录" in text and "#后台" in text and AWARD not in text
