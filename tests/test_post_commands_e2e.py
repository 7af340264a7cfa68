"""The secretariat's post commands from a phone, end to end through the simulator."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.simulator import SentMessage, Simulator
from tests.conftest import PRESIDENTS, RunningBot, settings_for, write_post
from tests.web_helpers import signed_in

SECRETARY, ADMIN, MEMBER = "wxid_secretary_liu", "wxid_admin_wang", "wxid_vp_001"
GROUP_NAME = "山西省山东商会会长官方群"
DRAFT_FRONT = ('title = "喜讯：我会获评全国“四好”商会"\npaused = true\n'
               'review = ["正文第 1 行：担当？shù)募核阏 —— 疑似乱码", "正文第 3 行：相关阅读标题 —— 疑似其他文章"]')


def to(chat: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.conversation_id == chat


async def start(tmp_path: Path, simulator: Simulator, start_bot: Any) -> RunningBot:
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    return running


async def ask(simulator: Simulator, who: str, text: str) -> str:
    await simulator.say(who, text)
    return (await simulator.wait_for_sent(to(who))).text


def group_messages(simulator: Simulator) -> list[str]:
    return [sent.text for sent in simulator.sent if sent.conversation_id == PRESIDENTS]


async def test_a_draft_with_review_flags_can_be_neither_published_nor_scheduled(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    path = write_post(tmp_path, "sihao", DRAFT_FRONT, "担当？shù)募核阏……\n\n正文。\n\n相关阅读标题")
    await start(tmp_path, simulator, start_bot)

    refusal = await ask(simulator, SECRETARY, "#发布 sihao")
    assert refusal.splitlines() == [
        "“喜讯：我会获评全国“四好”商会”还有 2 处待核对，暂不能发布：",
        "1. 正文第 1 行：担当？shù)募核阏 —— 疑似乱码",
        "2. 正文第 3 行：相关阅读标题 —— 疑似其他文章",
        "请先 #预览 sihao 通读全文，改好后由管理员私聊发送：#核对完成 sihao",
    ]
    assert "暂不能定时" in await ask(simulator, ADMIN, "#定时 sihao 明天 9:00")
    assert "schedule" not in path.read_text(encoding="utf-8")
    assert "1. 喜讯：我会获评全国“四好”商会（sihao）草稿待核对（2 处）" in await ask(
        simulator, SECRETARY, "#公告列表")
    assert group_messages(simulator) == []  # nothing unreviewed reaches the presidents

    cleared = await ask(simulator, ADMIN, "#核对完成 sihao")
    assert cleared.startswith("“喜讯：我会获评全国“四好”商会”已标记为核对完成。")
    assert "review" not in path.read_text(encoding="utf-8")
    await simulator.say(SECRETARY, "#发布 1")  # the list's number names the post too
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text.startswith("喜讯：我会获评全国“四好”商会")


async def test_delete_asks_for_a_confirmation_and_restore_brings_the_post_back(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    path = write_post(tmp_path, "meeting", 'title = "会长办公会通知"', "请准时参加。")
    running = await start(tmp_path, simulator, start_bot)

    question = await ask(simulator, ADMIN, "#删除 meeting")
    assert question == "确定要删除“会长办公会通知”（meeting）吗？未定时。确认请发送：#删除 meeting 确认"
    assert path.exists()
    assert await ask(simulator, ADMIN, "#删除 meeting 确认") == (
        "已删除“会长办公会通知”。如需找回，请发送：#还原 meeting")
    assert not path.exists() and "meeting" not in running.bot.library.posts

    restored = await ask(simulator, ADMIN, "#还原 meeting")
    assert restored == "已还原“会长办公会通知”：未定时。查看请发：#查看 meeting"
    assert path.read_text(encoding="utf-8").endswith("请准时参加。\n")
    assert "meeting" in running.bot.library.posts
    assert await ask(simulator, ADMIN, "#还原 meeting") == "“meeting”没有被删除，无需还原。"
    assert (await ask(simulator, ADMIN, "#还原 gala")).startswith("回收站里没有“gala”。")
    # a file pattern is no id: it must not bring back whichever deleted post it matches
    await ask(simulator, ADMIN, "#删除 meeting 确认")
    for pattern in ("*", "m*", "[m]eeting", "meet?ng"):
        refused = await ask(simulator, ADMIN, f"#还原 {pattern}")
        assert refused.startswith(f"“{pattern}”不是公告编号。"), refused
    assert not path.exists() and not list((tmp_path / "announcements").glob("*.md"))
    assert "meeting" not in running.bot.library.posts


async def test_publishing_from_the_web_while_chat_publishes_sends_the_post_once(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    # Six parts two seconds apart: the checks below happen while parts are still to go.
    write_post(tmp_path, "long", 'title = "会长办公会纪要"',
               "\n\n".join(f"第{n}段。" + "会议议定事项。" * 60 for n in range(24)))
    running: RunningBot = await start_bot(settings_for(
        simulator.endpoint, home=tmp_path, sending={"per_chat_interval_seconds": 2.0}))
    async with signed_in(running, simulator, ADMIN) as client:
        # The admin opens the confirmation before the secretary's #发布 ...
        page = (await client.get("/posts/long/publish")).text
        form = dict(re.findall(r'name="(csrf|confirm|again)" value="([^"]*)"', page))
        assert "确认发布" in page and "again" not in form, page
        await simulator.say(SECRETARY, "#发布 long")
        # Part 2 on the wire: part 1 is in the ledger (parts go one after the other, each once
        # the one before is recorded), and four parts are still to go: publishing goes on.
        for _ in range(2):
            await simulator.wait_for_sent(to(PRESIDENTS))
        # ... meanwhile the console says it is going out, and offers no second publish ...
        post_page = (await client.get("/posts/long")).text
        assert "正在发布，发完后刷新本页就能看到结果。" in post_page
        assert re.search(r'<button id="publish" class="primary" disabled', post_page)
        assert re.search(r'class="badge[^"]*" id="status">正在发布<', post_page), post_page
        assert re.search(r'class="badge[^"]*">正在发布<', (await client.get("/")).text)
        assert "正在发布，不用再点发布。" in (await client.get("/posts/long/publish")).text
        # Deleting would not stop the parts still to go: refused, on the web and in chat (the
        # chat answer is queued behind the post's parts: read below).
        refusal = "“会长办公会纪要”正在发布，现在不能删除。请等发完后再删除。"
        assert refusal in (await client.get("/posts/long/delete")).text
        await simulator.say(ADMIN, "#删除 long 确认")
        # ... and the confirmation opened before is refused, not taken for "sent today";
        # so is the secretary's second #发布 (it used to suggest "#发布 long 再次").
        answer = await client.post("/posts/long/publish", data=form)
        assert "正在发布，这次没有重复发送" in answer.text, answer.text
        await simulator.say(SECRETARY, "#发布 long")
        assert (await simulator.wait_for_sent(to(SECRETARY), timeout=30)).text == (
            "“会长办公会纪要”正在发布，这次没有重复发送；发完后会告诉您结果。")
    assert (await simulator.wait_for_sent(to(ADMIN), timeout=30)).text == refusal
    assert (tmp_path / "announcements" / "long.md").exists()
    done = await simulator.wait_for_sent(to(SECRETARY), timeout=30)
    assert done.text.startswith("已发布“会长办公会纪要”到 1 个群，共 ")
    parts = int(done.text.split("共 ")[1].split(" 条")[0])
    sent = [m.text for m in simulator.sent if m.conversation_id == PRESIDENTS]
    assert len(sent) == parts > 1 and len(set(sent)) == parts


async def test_writing_a_post_as_a_conversation_on_the_phone(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    asked = await ask(simulator, ADMIN, "#新建 gala 迎新年联谊会通知")
    assert asked.startswith("好的，新建“迎新年联谊会通知”（gala）。请在 10 分钟内把正文作为下一条消息发来")
    await simulator.say(MEMBER, "联系方式")  # someone else's private message is not the body
    await simulator.wait_for_sent(to(MEMBER))

    body = "各位会长：\n\n定于1月10日晚举行迎新年联谊会。\n\n请拨冗出席。"
    await simulator.say(ADMIN, body)
    done = (await simulator.wait_for_sent(to(ADMIN))).text
    assert done == "已新建“迎新年联谊会通知”（gala），未定时。以下是群里将看到的内容："
    assert (await simulator.wait_for_sent(to(ADMIN))).text == f"迎新年联谊会通知\n\n{body}"
    assert (await simulator.wait_for_sent(to(ADMIN))).text.startswith(
        "下一步：#定时 gala 明天 9:00，或 #发布 gala")
    assert running.bot.library.posts["gala"].body == body

    assert "只改标题请发：#改标题 gala 新标题" in await ask(simulator, ADMIN, "#编辑 gala")
    await simulator.say(ADMIN, "联谊会改到1月11日晚。")
    assert (await simulator.wait_for_sent(to(ADMIN))).text.startswith("已修改正文“迎新年联谊会通知”（gala）")
    assert (await simulator.wait_for_sent(to(ADMIN))).text == "迎新年联谊会通知\n\n联谊会改到1月11日晚。"
    await simulator.wait_for_sent(to(ADMIN))  # the next steps

    assert (await ask(simulator, ADMIN, "#改标题 gala 迎新年联谊会通知（改期）")).startswith(
        "已修改标题“迎新年联谊会通知（改期）”")
    post = running.bot.library.posts["gala"]
    assert (post.title, post.body) == ("迎新年联谊会通知（改期）", "联谊会改到1月11日晚。")

    # After the body has come, the admin's next message is a message again (here: an FAQ).
    await simulator.wait_for_sent(to(ADMIN))  # the preview of the new title
    await simulator.wait_for_sent(to(ADMIN))  # the next steps
    await simulator.say(ADMIN, "邮编？")
    assert (await simulator.wait_for_sent(to(ADMIN))).text == "邮政编码：030006"
    await simulator.say(ADMIN, "#取消")
    assert (await simulator.wait_for_sent(to(ADMIN))).text == "现在没有等待正文的公告，无需取消。"


async def test_resuming_a_one_off_post_whose_time_has_passed_asks_for_a_new_time(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    path = write_post(tmp_path, "old", 'title = "年会通知"\nschedule = "2026-01-05 09:00"\npaused = true',
                      "年会照常举行。")
    running = await start(tmp_path, simulator, start_bot)
    answer = await ask(simulator, ADMIN, "#恢复 old")
    assert answer == ("“年会通知”只定时发一次（2026-01-05 09:00），这个时间已经过了，恢复后也不会再发。"
                      "请重新定时：#定时 old 明天 9:00")
    assert "paused = true" in path.read_text(encoding="utf-8")
    assert running.bot.scheduler.next_run("old") is None
    assert group_messages(simulator) == []


async def test_the_list_shows_each_posts_status_and_history_shows_names_and_sends(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "a-weekly", 'title = "每周例会"\nschedule = "每周一 09:00"', "例会照常。")
    write_post(tmp_path, "b-paused", 'title = "暂停的通知"\nschedule = "每天 08:30"\npaused = true', "……")
    write_post(tmp_path, "c-news", 'title = "喜讯"', "我会获评全国“四好”商会。")
    await start(tmp_path, simulator, start_bot)
    await simulator.say(SECRETARY, "#发布 c-news")
    await simulator.wait_for_sent(to(PRESIDENTS))
    await simulator.wait_for_sent(to(SECRETARY))

    listing = (await ask(simulator, SECRETARY, "#公告列表")).splitlines()
    assert listing[0] == "共 3 条公告（命令里可用序号代替编号，如 #预览 1）："
    assert listing[1].startswith("1. 每周例会（a-weekly）已定时，下次 ") and " 周一 09:00" in listing[1]
    assert listing[2] == "2. 暂停的通知（b-paused）已暂停"
    assert listing[3].startswith("3. 喜讯（c-news）已发送 20")

    history = (await ask(simulator, ADMIN, "#历史 3")).splitlines()
    assert history[0] == "“c-news”的记录（最近在前）："
    assert {line.split(" ", 2)[2] for line in history[1:]} == {
        f"发布到“{GROUP_NAME}”：1/1 条已发出", "刘秘书长 立即发布"}


async def test_a_relative_one_off_time_in_a_file_is_refused_and_the_admins_told_at_start(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    """明天 9:00 in a file would mean another day at every restart: the post could go twice."""
    write_post(tmp_path, "gala", 'title = "联谊会通知"\nschedule = "明天 9:00"', "联谊会照常。")
    running = await start(tmp_path, simulator, start_bot)
    alert = (await simulator.wait_for_sent(to(ADMIN))).text
    assert alert.startswith("公告文件有误，这条公告未载入（改正文件前不会发送），请改正文件：")
    assert "gala.md, line 3, field 'schedule': “明天 9:00”是相对今天的时间" in alert
    assert "请写具体日期，例如 20" in alert
    assert "gala" not in running.bot.library.posts
