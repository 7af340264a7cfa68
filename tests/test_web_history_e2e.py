"""The console's 历史 and chat's #历史: who changed or sent which post, chat and web together,
names not ids, where each change was made (微信/网页). Admins only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html

from bot.simulator import SentMessage, Simulator
from tests.conftest import PRESIDENTS, RunningBot, settings_for, write_post
from tests.web_helpers import console_client, csrf_of, signed_in

SECRETARY, ADMIN = "wxid_secretary_liu", "wxid_admin_wang"
GROUP_NAME = "山西省山东商会会长官方群"


def to(chat: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.conversation_id == chat


async def ask(simulator: Simulator, who: str, text: str) -> str:
    await simulator.say(who, text)
    return (await simulator.wait_for_sent(to(who))).text


def history_lines(html: str) -> list[str]:
    """Each line of the history as a person reads it, whitespace tidied."""
    items = lxml.html.fromstring(html).get_element_by_id("history").findall("li")
    return [" ".join(item.text_content().split()) for item in items]


async def start_with_changes(tmp_path: Path, simulator: Simulator, start_bot: Any) -> RunningBot:
    """meeting: scheduled in chat by the admin, then paused on the web; news: published in chat
    by the secretary."""
    write_post(tmp_path, "meeting", 'title = "周一例会通知"', "例会照常。")
    write_post(tmp_path, "news", 'title = "喜讯"', "我会获评全国“四好”商会。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    assert "已定时" in await ask(simulator, ADMIN, "#定时 meeting 每周一 09:00")
    async with signed_in(running, simulator, ADMIN) as client:
        csrf = csrf_of((await client.get("/")).text)
        paused = await client.post("/posts/meeting/pause", data={"csrf": csrf})
        assert paused.status_code == 200
    await simulator.say(SECRETARY, "#发布 news")
    await simulator.wait_for_sent(to(PRESIDENTS))
    await simulator.wait_for_sent(to(SECRETARY))
    return running


async def test_the_history_page_shows_chat_and_web_changes_and_sends_with_names_newest_first(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start_with_changes(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        page = await client.get("/history")
        assert page.status_code == 200
        lines = history_lines(page.text)
        assert len(lines) == 4
        # Newest first: the send and the publish it came from, the pause, the schedule.
        assert lines[0].endswith(f"发送 发布到“{GROUP_NAME}”：1/1 条已发出 喜讯")
        assert lines[1].endswith("微信 刘秘书长 立即发布 喜讯")
        assert lines[2].endswith("网页 王管理员 暂停 周一例会通知")
        assert lines[3].endswith("微信 王管理员 定时：每周一 09:00 周一例会通知")
        assert "wxid_" not in page.text
        assert 'id="history-earlier"' not in page.text

        one = await client.get("/history?post=meeting")
        assert "“周一例会通知”的记录" in one.text
        assert [line.split(" ", 2)[2] for line in history_lines(one.text)] == [
            "网页 王管理员 暂停", "微信 王管理员 定时：每周一 09:00"]


async def test_chat_history_says_which_change_was_made_on_the_web(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    await start_with_changes(tmp_path, simulator, start_bot)
    answer = (await ask(simulator, ADMIN, "#历史 meeting")).splitlines()
    assert answer[0] == "“meeting”的记录（最近在前）："
    assert [line.split(" ", 2)[2] for line in answer[1:]] == [
        "王管理员 暂停（网页）", "王管理员 定时：每周一 09:00"]


async def test_a_long_history_comes_in_pages_of_200_with_a_link_to_earlier_ones(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "meeting", 'title = "周一例会通知"', "例会照常。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    for n in range(205):  # the audit rows the desk writes for each change
        running.bot.store.audit(ADMIN, "retitle", "meeting", f"标题{n}")
    async with signed_in(running, simulator, ADMIN) as client:
        first = await client.get("/history")
        lines = history_lines(first.text)
        assert len(lines) == 200
        assert lines[0].endswith("王管理员 改标题：标题204 周一例会通知")
        earlier = lxml.html.fromstring(first.text).get_element_by_id("history-earlier").get("href")
        second = await client.get(earlier)
        assert [line.split(" ", 2)[2] for line in history_lines(second.text)] == [
            f"微信 王管理员 改标题：标题{n} 周一例会通知" for n in (4, 3, 2, 1, 0)]
        assert 'id="history-earlier"' not in second.text


async def test_only_admins_see_the_history(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start_with_changes(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        refused = await client.get("/history")
        assert refused.status_code == 403
        assert "只有管理员可以使用" in refused.text and "周一例会通知" not in refused.text
    async with console_client(running) as stranger:
        page = await stranger.get("/history")
        assert page.status_code == 401 and "#后台" in page.text and "周一例会通知" not in page.text
