"""Screenshots of every page of the web console, at a desktop's and a phone's width, for the
README (docs/console/*.png).

A bot runs on the simulator with the chamber's award post and a few others; the secretary
publishes the award post in chat and members congratulate; an admin schedules a post in chat;
then the admin signs in the way people do (#后台, the link, the button) in Debian's headless
chromium, and each page is photographed at 1280 and 375 px wide.

    python -m tests.web_screenshots [--out docs/console]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from bot.app import ChamberBot
from bot.simulator import Simulator, World
from tests.browser import DESKTOP, PHONE, Browser, browser_at
from tests.conftest import PRESIDENTS, REPO, TOKEN, settings_for
from tests.web_helpers import ask_for_link

SECRETARY, ADMIN = "wxid_secretary_liu", "wxid_admin_wang"
AWARD = "award-2019-2020-sihao"
# (file name, address, what to wait for on the page)
PAGES = [
    ("posts", "/", "公告"),
    ("post-editor", "/posts/gala", "迎新年联谊会通知"),
    ("post-award", f"/posts/{AWARD}", "四好"),
    ("post-draft", "/posts/draft-import", "待核对"),
    ("publish-confirm", "/posts/weekly/publish", "确定"),
    ("calendar-month", "/calendar", "日历"),
    ("calendar-week", "/calendar?view=week", "日历"),
    ("congrats", "/congrats", "祝贺"),
    ("congrats-award", f"/congrats/{AWARD}", "祝贺"),
    ("history", "/history", "历史"),
    ("status", "/status", "状态"),
    ("trash", "/trash", "回收站"),
]
CONGRATULATIONS = [("wxid_vp_001", "恭喜恭喜🌹🌹"), ("wxid_vp_002", "[强][强][强]"),
                   ("wxid_vp_003", "热烈祝贺！实至名归👏"), ("wxid_vp_004", "[红包]")]


def write_demo_posts(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "announcements" / f"{AWARD}.md", folder)
    picture = Image.new("RGB", (800, 450), "#c62f2f")
    ImageDraw.Draw(picture).rectangle((40, 40, 760, 410), outline="#f4d27a", width=8)
    picture.save(folder / "gala-1.png")
    (folder / "gala.md").write_text(
        '+++\ntitle = "迎新年联谊会通知"\nschedule = "2026-12-30 18:30"\nmention_all = true\n'
        'images = ["gala-1.png"]\n+++\n各位会长：\n\n商会定于12月30日晚6:30在火炬创业大厦C座15层'
        '举行迎新年联谊会，请各位会长拨冗出席。\n\n请于12月25日前回复秘书处：0351-8224667。\n',
        encoding="utf-8")
    (folder / "weekly.md").write_text(
        '+++\ntitle = "每周会长例会提醒"\nschedule = "每周一 09:00"\n+++\n'
        '各位会长：本周例会周一上午9点召开，请准时参加。\n', encoding="utf-8")
    (folder / "workday.md").write_text(
        '+++\ntitle = "工作日值班安排"\nschedule = "工作日 08:30"\npaused = true\n+++\n'
        '今日值班：秘书处。\n', encoding="utf-8")
    (folder / "draft-import.md").write_text(
        '+++\ntitle = "商会十周年庆典回顾"\npaused = true\nreview = ["正文第 2 行：“担当？shù)募核阏” —— '
        '疑似乱码", "正文第 4 行：相关阅读标题 —— 疑似其他文章"]\n+++\n十年来，商会……\n\n'
        '担当？shù)募核阏……\n', encoding="utf-8")


async def prepare(simulator: Simulator) -> None:
    """The secretary publishes the award post; members congratulate; an admin schedules."""
    await simulator.say(SECRETARY, f"#发布 {AWARD}")
    await simulator.wait_for_sent(lambda m: m.conversation_id == SECRETARY, timeout=30)
    for member, text in CONGRATULATIONS:
        await simulator.say(member, text, room_id=PRESIDENTS)
    await simulator.say(ADMIN, "#定时 weekly 每周一 09:00")
    await simulator.wait_for_sent(lambda m: m.conversation_id == ADMIN, timeout=30)


def shrink(path: Path) -> None:
    """128 colours without dithering: text stays sharp and the file a third of the size."""
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT,
                                             dither=Image.Dither.NONE)
    small.save(path, optimize=True)


async def photograph(browser: Browser, out: Path, suffix: str) -> None:
    for name, path, waits_for in PAGES:
        await browser.open(path)
        await browser.wait_for_text(waits_for, "main")
        shrink(await browser.screenshot(out / f"{name}-{suffix}.png"))


async def main(out: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="console-shots-"))
    write_demo_posts(home / "announcements")
    simulator = Simulator(World.presidents_group(), token=TOKEN)
    await simulator.start()
    bot = ChamberBot(settings_for(simulator.endpoint, home=home))
    task = asyncio.create_task(bot.run())
    try:
        async with asyncio.timeout(30):
            await bot.connection.logged_in.wait()
        await prepare(simulator)
        assert bot.web is not None
        for window, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
            link = await ask_for_link(simulator, ADMIN)
            async with browser_at(bot.web.public_url, window) as browser:
                await browser.open(link)
                await browser.wait_for_text("进入后台", "main")
                shrink(await browser.screenshot(out / f"login-{suffix}.png"))
                await browser.click("form[action='/login'] button")
                await browser.wait_for_text("公告", "main")
                if suffix == "desktop":  # a change made on the web, for the history page
                    await browser.open("/posts/workday")
                    await browser.click("#resume")
                    await browser.wait_for_text("已恢复", "main")
                await photograph(browser, out, suffix)
        print(f"screenshots in {out}")
    finally:
        await bot.stop()
        await task
        await simulator.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "console")
    asyncio.run(main(parser.parse_args().out))
