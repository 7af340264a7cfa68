"""Announcements end to end: post files, commands, publishing, the ledger, reloads, restarts."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.store import Store
from bot.posts.scheduler import ALIVE_KEY
from bot.simulator import SentMessage, Simulator
from handlers import command_table
from tests.conftest import PRESIDENTS, RunningBot, settings_for, write_post

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRETARY, ADMIN, MEMBER = "wxid_secretary_liu", "wxid_admin_wang", "wxid_vp_001"




def to(chat: str) -> Any:
    return lambda sent: sent.conversation_id == chat


async def start_with_posts(tmp_path: Path, simulator: Simulator, start_bot: Any,
                           **sending: Any) -> RunningBot:
    settings = settings_for(simulator.endpoint, home=tmp_path)
    if sending:
        settings = settings.model_copy(update={"sending": settings.sending.model_copy(update=sending)})
    running: RunningBot = await start_bot(settings)
    return running


MEETING = ('title = "12月1日会长办公会通知"\ngroups = ["山西省山东商会会长官方群"]',
           "各位会长：\n\n定于12月1日上午9点在商会会议室召开会长办公会。\n\n请准时参加。")


async def test_secretary_previews_then_publishes_once_a_day(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "meeting", *MEETING)
    await start_with_posts(tmp_path, simulator, start_bot)
    expected = "12月1日会长办公会通知\n\n各位会长：\n\n定于12月1日上午9点在商会会议室召开会长办公会。\n\n请准时参加。"

    await simulator.say(SECRETARY, "#预览 meeting")
    assert (await simulator.wait_for_sent(to(SECRETARY))).text.startswith("预览“12月1日会长办公会通知”")
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == expected
    assert not [s for s in simulator.sent if s.conversation_id == PRESIDENTS]

    await simulator.say(SECRETARY, "＃发布 meeting")  # full-width ＃ works too
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == expected
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == "已发布“12月1日会长办公会通知”到 1 个群，共 1 条。"

    await simulator.say(SECRETARY, "#发布 meeting")
    refusal = await simulator.wait_for_sent(to(SECRETARY))
    assert "今天已经发过了" in refusal.text and "#发布 meeting 再次" in refusal.text
    await simulator.say(SECRETARY, "#publish meeting 再次")
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == expected
    assert len([s for s in simulator.sent if s.conversation_id == PRESIDENTS]) == 2


async def test_long_post_in_numbered_parts_with_mention_all(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    paragraphs = [f"第{n}段：" + "商会工作稳步推进，会员企业积极参与。" * 12 for n in range(1, 9)]
    write_post(tmp_path, "report", 'title = "年度工作报告"\nmention_all = true', "\n\n".join(paragraphs))
    settings = settings_for(simulator.endpoint, home=tmp_path)
    settings = settings.model_copy(update={"sending": settings.sending.model_copy(
        update={"max_text_length": 600})})
    await start_bot(settings)
    await simulator.say(SECRETARY, "#发布 report")
    parts = [await simulator.wait_for_sent(to(PRESIDENTS)) for _ in range(4)]
    assert parts[0].text.startswith("@所有人\u2005年度工作报告（1/4）\n\n第1段")
    assert list(parts[0].mention_ids) == ["notify@all"]
    assert [p.text.split("\n")[0] for p in parts[1:]] == ["（2/4）", "（3/4）", "（4/4）"]
    assert all(len(p.text) <= 600 + len("@所有人\u2005") for p in parts)
    body = "\n\n".join(p.text.split("\n\n", 1)[1] for p in parts)
    assert body == "\n\n".join(paragraphs)  # nothing lost, nothing repeated, in order


async def test_group_announcement_and_a_clear_report_when_not_owner(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "notice", 'title = "群公告：春节放假安排"\nset_announcement = true',
               "秘书处1月26日至2月4日放假。")
    await start_with_posts(tmp_path, simulator, start_bot)
    await simulator.say(SECRETARY, "#发布 notice")
    await simulator.wait_for_sent(to(PRESIDENTS))
    assert "已发布" in (await simulator.wait_for_sent(to(SECRETARY))).text
    assert simulator.world.rooms[PRESIDENTS].announce == "群公告：春节放假安排\n\n秘书处1月26日至2月4日放假。"

    simulator.world.rooms[PRESIDENTS].owner_id = "wxid_president_yi"
    await simulator.say(SECRETARY, "#发布 notice 再次")
    await simulator.wait_for_sent(to(PRESIDENTS))
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == (
        "“群公告：春节放假安排”有 1 条未能发出：机器人不是“山西省山东商会会长官方群”的群主，不能设置群公告"
        " (the bot does not own the group, so it cannot set its announcement)")
    report = await simulator.wait_for_sent(to(ADMIN))
    assert "发送失败" in report.text and "不能设置群公告" in report.text


async def test_every_command_refused_for_the_wrong_role(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    path = write_post(tmp_path, "meeting", *MEETING)
    before = path.read_text(encoding="utf-8")
    # One member tries every command within a minute: above the members' reply limit.
    running = await start_with_posts(tmp_path, simulator, start_bot, member_replies_per_minute=100)
    for command in [c for c in command_table() if c.role > 0]:
        await simulator.say(MEMBER, command.example.replace("award-2019-2020-sihao", "meeting"))
        refusal = await simulator.wait_for_sent(to(MEMBER))
        assert refusal.text == f"抱歉，#{command.name} 仅限{'秘书处' if command.role == 1 else '管理员'}使用。"
    for command in [c for c in command_table() if c.role == 2]:  # secretaries are not admins
        await simulator.say(SECRETARY, command.example.replace("award-2019-2020-sihao", "meeting"))
        assert (await simulator.wait_for_sent(to(SECRETARY))).text.endswith("仅限管理员使用。")
    assert path.read_text(encoding="utf-8") == before
    assert not [s for s in simulator.sent if s.conversation_id == PRESIDENTS]
    assert running.bot.store.history("meeting") == []


async def test_help_lists_only_what_the_sender_may_use(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    await start_with_posts(tmp_path, simulator, start_bot)
    await simulator.say(MEMBER, "#帮助", room_id=PRESIDENTS)
    member_help = (await simulator.wait_for_sent(to(MEMBER))).text
    assert "#我的ID" in member_help and "#发布" not in member_help
    await simulator.say(ADMIN, "#帮助")
    admin_help = (await simulator.wait_for_sent(to(ADMIN))).text
    assert all(f"#{c.name}" in admin_help for c in command_table())
    await simulator.say(MEMBER, "#我的ID", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(to(MEMBER))).text.startswith(
        f"您的微信ID：{MEMBER}\n本群ID：{PRESIDENTS}")


async def test_bad_input_gets_a_sentence_with_an_example(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "meeting", *MEETING)
    await start_with_posts(tmp_path, simulator, start_bot)
    await simulator.say(SECRETARY, "#发布")
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == "缺少公告编号。用法：#发布 编号 [再次]，例如：#发布 award-2019-2020-sihao"
    await simulator.say(SECRETARY, "#发布 meetign")
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == "没有编号为“meetign”的公告。您是不是要：meeting？"
    await simulator.say(ADMIN, "#定时 meeting 每周八 9点")
    reply = (await simulator.wait_for_sent(to(ADMIN))).text
    assert "例如" in reply
    await simulator.say(MEMBER, "#发不")
    assert "没有“#发不”这个命令" in (await simulator.wait_for_sent(to(MEMBER))).text
    await simulator.say(ADMIN, "#定时 meeting 每周一 09:00", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(to(ADMIN))).text.startswith("#定时 请在私聊机器人时使用")


async def test_admin_edits_in_chat_rewrite_the_file_and_move_the_next_run(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    path = write_post(tmp_path, "meeting", "# 秘书处维护，请勿删除本行注释\n" + MEETING[0], MEETING[1])
    running = await start_with_posts(tmp_path, simulator, start_bot)
    await simulator.say(ADMIN, "#定时 meeting 每周一 09:00")
    reply = (await simulator.wait_for_sent(to(ADMIN))).text
    next_run = running.bot.scheduler.next_run("meeting")
    assert next_run is not None and next_run.weekday() == 0 and (next_run.hour, next_run.minute) == (9, 0)
    assert next_run.utcoffset() == timedelta(hours=8)
    assert reply.startswith("已定时“12月1日会长办公会通知”：每周一 09:00。下次：")
    text = path.read_text(encoding="utf-8")
    assert "# 秘书处维护，请勿删除本行注释" in text and 'schedule = "每周一 09:00"' in text

    await simulator.say(ADMIN, "#定时 meeting 每月31日 09:00")  # the rule's caveat is shown
    assert (await simulator.wait_for_sent(to(ADMIN))).text.endswith(
        "（注意：没有这一天的月份不发，月底请写“每月最后一天”）")

    await simulator.say(ADMIN, "#定时 meeting 每天 08:30")
    await simulator.wait_for_sent(to(ADMIN))
    moved = running.bot.scheduler.next_run("meeting")
    assert moved is not None and (moved.hour, moved.minute) == (8, 30) and moved < next_run + timedelta(days=7)

    await simulator.say(ADMIN, "#编辑 meeting\n12月1日会长办公会通知（改期）\n会议改到12月2日。")
    assert (await simulator.wait_for_sent(to(ADMIN))).text.startswith("已修改“12月1日会长办公会通知（改期）”")
    assert (await simulator.wait_for_sent(to(ADMIN))).text.endswith("会议改到12月2日。")  # the preview
    assert (await simulator.wait_for_sent(to(ADMIN))).text.startswith("下一步：")
    text = path.read_text(encoding="utf-8")
    assert text.endswith("+++\n会议改到12月2日。\n") and "# 秘书处维护" in text

    await simulator.say(ADMIN, "#暂停 meeting")
    await simulator.wait_for_sent(to(ADMIN))
    assert running.bot.scheduler.next_run("meeting") is None
    await simulator.say(ADMIN, "#历史 meeting")
    history = (await simulator.wait_for_sent(to(ADMIN))).text.splitlines()
    # Names and Chinese actions, newest first.
    assert [line.split(" ", 2)[2] for line in history[1:5]] == [
        "王管理员 暂停", "王管理员 修改正文", "王管理员 定时：每天 08:30", "王管理员 定时：每月31日 09:00"]
    assert history[5].endswith("王管理员 定时：每周一 09:00")


async def test_admin_creates_and_deletes_a_post(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start_with_posts(tmp_path, simulator, start_bot)
    await simulator.say(ADMIN, "#新建 gala\n迎新年联谊会通知\n定于1月10日晚举行迎新年联谊会。")
    assert (await simulator.wait_for_sent(to(ADMIN))).text.startswith("已新建“迎新年联谊会通知”（gala）")
    assert (await simulator.wait_for_sent(to(ADMIN))).text == "迎新年联谊会通知\n\n定于1月10日晚举行迎新年联谊会。"
    assert (await simulator.wait_for_sent(to(ADMIN))).text.startswith("下一步：#定时 gala")
    assert (tmp_path / "announcements" / "gala.md").exists()
    await simulator.say(SECRETARY, "#公告列表")
    assert "1. 迎新年联谊会通知（gala）未定时" in (await simulator.wait_for_sent(to(SECRETARY))).text
    await simulator.say(ADMIN, "#删除 gala")  # asks first: nothing irreversible without a yes
    assert (await simulator.wait_for_sent(to(ADMIN))).text.endswith("确认请发送：#删除 gala 确认")
    assert (tmp_path / "announcements" / "gala.md").exists()
    await simulator.say(ADMIN, "#删除 1 确认")  # the list's number works as well as the id
    assert (await simulator.wait_for_sent(to(ADMIN))).text == (
        "已删除“迎新年联谊会通知”。如需找回，请发送：#还原 gala")
    assert not (tmp_path / "announcements" / "gala.md").exists()
    assert list((tmp_path / "data" / "deleted-posts").glob("gala.*.md"))
    assert "gala" not in running.bot.library.posts


async def test_a_file_edited_on_disk_is_picked_up_while_running(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    path = write_post(tmp_path, "meeting", *MEETING)
    running = await start_with_posts(tmp_path, simulator, start_bot)
    scheduler = running.bot.scheduler
    assert scheduler.next_run("meeting") is None
    library = running.bot.library
    loads = library.loads
    path.write_text(path.read_text(encoding="utf-8").replace(
        'groups = [', 'schedule = "每月1日 09:00"\ngroups = ['), encoding="utf-8")
    async with asyncio.timeout(10), library.reloaded:
        await library.reloaded.wait_for(lambda: library.loads > loads)
    next_run = scheduler.next_run("meeting")
    assert next_run is not None and next_run.day == 1 and next_run.hour == 9

    broken = write_post(tmp_path, "broken", 'title = "坏文件"\nschedule = "每周八"', "正文")
    async with asyncio.timeout(10), library.reloaded:
        await library.reloaded.wait_for(lambda: library.loads > loads + 1)
    report = await simulator.wait_for_sent(to(ADMIN))
    assert report.text.startswith(f"公告文件有误，这条公告未载入（改正文件前不会发送），请改正文件：{broken}, line 3, field 'schedule'")
    assert scheduler.next_run("meeting") == next_run  # the other posts keep working


def shanghai_now() -> datetime:
    return datetime.now(SHANGHAI)


async def test_restart_inside_and_after_the_grace_window(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    # The bot was down for the last 30 minutes; one daily run fell due 5 minutes ago (within
    # the 10-minute grace), another 20 minutes ago (too late: reported, not sent).
    now = shanghai_now()
    recent, old = now - timedelta(minutes=5), now - timedelta(minutes=20)
    write_post(tmp_path, "recent", f'title = "五分钟前的公告"\nschedule = "每天 {recent:%H:%M}"', "补发我。")
    write_post(tmp_path, "old", f'title = "二十分钟前的公告"\nschedule = "每天 {old:%H:%M}"', "别补发我。")
    store = Store(tmp_path / "data" / "bot.sqlite3")
    store.put(ALIVE_KEY, (now - timedelta(minutes=30)).isoformat())
    store.close()

    running = await start_with_posts(tmp_path, simulator, start_bot)
    sent = await simulator.wait_for_sent(to(PRESIDENTS))
    assert sent.text == "五分钟前的公告\n\n补发我。"
    missed = await simulator.wait_for_sent(to(ADMIN))
    assert missed.text == f"停机期间错过（已超过补发时限，未发送）：二十分钟前的公告（{old:%Y-%m-%d %H:%M}）"
    await simulator.say(MEMBER, "@商会小助手\u2005邮编？", room_id=PRESIDENTS, mention_ids=("wxid_chamber_bot",))
    await simulator.wait_for_sent(to(PRESIDENTS))  # the outbox sends in order: the post is done
    ledger = running.bot.store.ledger("recent")
    assert [(r.key.slot, r.state) for r in ledger] == [(recent.replace(second=0, microsecond=0).isoformat(), "sent")]

    # A second restart inside the grace window does not send it again.
    await running.bot.stop()
    await running.task
    store = Store(tmp_path / "data" / "bot.sqlite3")
    store.put(ALIVE_KEY, (now - timedelta(minutes=30)).isoformat())
    store.close()
    await start_with_posts(tmp_path, simulator, start_bot)
    await simulator.say(MEMBER, "@商会小助手\u2005邮编？", room_id=PRESIDENTS, mention_ids=("wxid_chamber_bot",))
    assert (await simulator.wait_for_sent(to(PRESIDENTS))).text.endswith("邮政编码：030006")
    assert [s.text for s in simulator.sent if s.conversation_id == PRESIDENTS].count("五分钟前的公告\n\n补发我。") == 1


async def test_recurring_rule_across_days_with_a_controllable_clock(
    tmp_path: Path, simulator: Simulator
) -> None:
    """Three days of a daily 08:30 post, the clock moved by hand, restarts in between."""
    from bot.app import ChamberBot

    write_post(tmp_path, "daily", 'title = "每日简报"\nschedule = "每天 08:30"', "今日要闻……")
    settings = settings_for(simulator.endpoint, home=tmp_path)
    clock = [datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)]
    outcomes: list[list[SentMessage]] = []
    for day, restart_at in enumerate([(8, 35), (8, 50), (8, 31)]):
        # Down since yesterday's 09:00; back at `restart_at`: 5 min late (sent), 20 min (too late), 1 min (sent).
        base = datetime(2026, 12, 1 + day, *restart_at, tzinfo=SHANGHAI)
        clock[0] = base
        bot = ChamberBot(settings, clock=lambda: clock[0])
        bot.store.put(ALIVE_KEY, (base - timedelta(hours=23, minutes=35)).isoformat())
        before = len(simulator.sent)
        task = asyncio.create_task(bot.run())
        async with asyncio.timeout(10):
            await bot.connection.logged_in.wait()
        await simulator.say(MEMBER, "邮编？", room_id=PRESIDENTS)  # a marker after the catch-up
        await simulator.wait_for_sent(lambda s: s.text.endswith("030006"))
        outcomes.append([s for s in simulator.sent[before:] if s.text.startswith("每日简报")])
        nxt = bot.scheduler.next_run("daily")
        assert nxt is not None and nxt.hour == 8 and nxt.minute == 30
        await bot.stop()
        await task
    assert [len(day) for day in outcomes] == [1, 0, 1]
    slots = [r.key.slot for r in ChamberBot(settings).store.ledger("daily")]
    assert slots == ["2026-12-01T08:30:00+08:00", "2026-12-03T08:30:00+08:00"]


async def test_a_post_scheduled_at_t_is_on_the_wire_within_a_second(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    due = (shanghai_now() + timedelta(seconds=4)).replace(microsecond=0)
    due_monotonic = time.monotonic() + (due - shanghai_now()).total_seconds()
    write_post(tmp_path, "ontime", f'title = "准点公告"\nschedule = "{due:%Y-%m-%d %H:%M:%S}"', "九点整发出。")
    await start_with_posts(tmp_path, simulator, start_bot)
    sent = await simulator.wait_for_sent(to(PRESIDENTS), timeout=15)
    assert sent.text == "准点公告\n\n九点整发出。"
    assert -0.05 <= sent.at - due_monotonic < 1.0


async def test_kill_9_between_two_parts_never_sends_a_part_twice(
    tmp_path: Path, simulator: Simulator
) -> None:
    from tests.bot_process import BotProcess, write_config

    paragraphs = [f"第{n}部分：" + "会员企业踊跃参与公益活动。" * 30 for n in range(1, 4)]
    config = write_config(tmp_path, simulator.endpoint, "sim-token", {
        "per_chat_interval_seconds = 3": "per_chat_interval_seconds = 2",
        "max_text_length = 2000": "max_text_length = 500",
    })
    first = BotProcess(config, "sim-token")
    # The post is written once the bot runs (its hot reload picks it up), so that a slow start
    # on a busy machine cannot pass its time: a one-off already past at start is not sent.
    await first.start_logged_in(timeout=30)
    due = (shanghai_now() + timedelta(seconds=5)).replace(microsecond=0)
    staged = write_post(tmp_path / "staging", "series",
                        f'title = "三段公告"\nschedule = "{due:%Y-%m-%d %H:%M:%S}"',
                        "\n\n".join(paragraphs))
    staged.replace(tmp_path / "announcements" / staged.name)  # whole, as an editor saves it
    part_one = await simulator.wait_for_sent(to(PRESIDENTS), timeout=20)
    first.kill_9()  # the next part is two seconds away
    assert await first.wait() == -9
    assert part_one.text.startswith("三段公告（1/3）")

    second = BotProcess(config, "sim-token")
    await second.start()
    try:
        rest = [await simulator.wait_for_sent(to(PRESIDENTS), timeout=20) for _ in range(2)]
        store = Store(tmp_path / "data" / "bot.sqlite3")
        part_one_state = next(r.state for r in store.ledger("series") if r.key.part == 1)
        store.close()
        if part_one_state == "unknown":  # killed before it was marked sent: reported, not resent
            report = await simulator.wait_for_sent(to(ADMIN), timeout=10)
            assert "是否已发出不明，未重发" in report.text
        else:
            assert part_one_state == "sent"
    finally:
        await second.stop()
    texts = [s.text for s in simulator.sent if s.conversation_id == PRESIDENTS]
    assert len(texts) == len(set(texts)) == 3
    assert [t.split("\n")[0] for t in texts] == ["三段公告（1/3）", "（2/3）", "（3/3）"]
    assert rest[-1].text.endswith(paragraphs[2])


async def test_images_and_link_card_follow_the_text(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    import base64

    (tmp_path / "announcements").mkdir(exist_ok=True)
    (tmp_path / "announcements" / "plaque.png").write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="))
    write_post(tmp_path, "plaque", 'title = "授牌仪式"\nimages = ["plaque.png"]\n'
               '[link]\nurl = "https://example.org/sihao"\ntitle = "全国“四好”商会名单"',
               "刘小虎秘书长代表商会领奖。")
    await start_with_posts(tmp_path, simulator, start_bot)
    await simulator.say(SECRETARY, "#发布 plaque")
    sent = [await simulator.wait_for_sent(to(PRESIDENTS)) for _ in range(3)]
    assert [(s.kind, s.text) for s in sent] == [
        ("text", "授牌仪式\n\n刘小虎秘书长代表商会领奖。"),
        ("file", "[文件] plaque.png"),
        ("url", "[链接] 全国“四好”商会名单 https://example.org/sihao"),
    ]
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == "已发布“授牌仪式”到 1 个群，共 3 条。"
