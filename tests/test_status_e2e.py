"""#状态 for the admins, the status file the health check reads, and a database that fails."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, RunningBot, settings_for
from tests.test_alerts_e2e import alerting, stop
from tests.test_announcements_e2e import ADMIN, MEMBER, SECRETARY, SHANGHAI, to, write_post
from tests.webhook_receiver import WebhookReceiver


async def test_status_tells_an_admin_privately_the_state_and_the_next_posts(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "weekly", 'title = "每周例会提醒"\nschedule = "每周一 09:00"', "周一例会。")
    write_post(tmp_path, "daily", 'title = "每日简报"\nschedule = "每天 08:30"', "今日要闻。")
    write_post(tmp_path, "gala", 'title = "2030年联谊会"\nschedule = "2030-01-10 18:00"', "联谊会。")
    write_post(tmp_path, "yearly", 'title = "年会通知"\nschedule = "2031-01-05 09:00"', "年会。")
    write_post(tmp_path, "draft", 'title = "未定时的草稿"', "草稿。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))

    await simulator.say(ADMIN, "#状态", room_id=PRESIDENTS)  # any chat; the answer is private
    lines = (await simulator.wait_for_sent(to(ADMIN))).text.split("\n")
    assert lines[0] == f"机器人状态（版本 0.1.0，进程 {os.getpid()}）"  # the bot runs in this process
    assert lines[1].startswith("微信：已登录，自 ") and lines[2].startswith("已运行：")
    assert lines[3].startswith("最近收到网关消息：")
    scheduler = running.bot.scheduler
    soonest = sorted((scheduler.next_run(p), p) for p in ("weekly", "daily", "gala"))
    assert lines[4] == "接下来的公告："
    for line, (at, post_id) in zip(lines[5:8], soonest, strict=True):
        assert at is not None and at.tzinfo is not None
        weekday = "一二三四五六日"[at.weekday()]
        assert line == f"  {at:%Y-%m-%d} 周{weekday} {at:%H:%M}  {running.bot.library.posts[post_id].title}（{post_id}）"
    assert lines[8:] == ["待发消息：0 条", "近 24 小时发送失败：0 条", "未解决的告警：无"]
    assert "年会通知" not in "\n".join(lines)  # only the three soonest
    assert not [s for s in simulator.sent if s.conversation_id == PRESIDENTS]

    await simulator.say(MEMBER, "#status", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(to(MEMBER))).text == "抱歉，#状态 仅限管理员使用。"
    await simulator.say(SECRETARY, "#状态")
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == "抱歉，#状态 仅限管理员使用。"


async def test_the_status_file_says_connected_and_when(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    status = json.loads((tmp_path / "data" / "status.json").read_text(encoding="utf-8"))
    assert (status["state"], status["connected"], status["version"]) == ("logged in", True, "0.1.0")
    updated = datetime.fromisoformat(status["updated_at"])
    assert updated.utcoffset() == timedelta(hours=8)
    assert abs(updated - datetime.now(SHANGHAI)) < timedelta(seconds=30)
    await stop(running)
    status = json.loads((tmp_path / "data" / "status.json").read_text(encoding="utf-8"))
    assert (status["state"], status["connected"]) == ("stopped", False)


async def test_a_database_error_is_one_alert_and_its_recovery_follows(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        settings = alerting(simulator.endpoint, receiver.url, home=tmp_path)
        running: RunningBot = await start_bot(settings)
        write_post(tmp_path, "meeting", 'title = "会长办公会通知"', "请准时参加。")
        async with running.bot.library.reloaded:
            await running.bot.library.reloaded.wait_for(lambda: "meeting" in running.bot.library.posts)
        # The database refuses every write from now on, as a full disk or a read-only file would.
        running.bot.store.db.execute("PRAGMA query_only = ON")
        await simulator.say(SECRETARY, "#发布 meeting")
        refusal = await simulator.wait_for_sent(to(SECRETARY))
        assert refusal.text.startswith("抱歉，#发布 执行时出错")
        await receiver.wait_for(lambda bodies: len(bodies) == 1)
        alert = receiver.bodies[0]
        assert (alert["event"], alert["state"]) == ("storage", "alert")
        assert alert["message"].startswith("数据库出错：OperationalError: attempt to write a readonly database")
        assert (await simulator.wait_for_sent(to(ADMIN))).text.startswith("【告警】数据库出错")

        await simulator.say(ADMIN, "#状态")
        assert (await simulator.wait_for_sent(to(ADMIN))).text.endswith("未解决的告警：数据库出错")
        running.bot.store.db.execute("PRAGMA query_only = OFF")  # space freed, say
        await receiver.wait_for(lambda bodies: len(bodies) == 2)  # the next status write works
        assert (receiver.bodies[1]["event"], receiver.bodies[1]["state"]) == ("storage", "recovered")
        assert (await simulator.wait_for_sent(to(ADMIN))).text == "【已恢复】数据库恢复正常。"
        await stop(running)
        assert len(receiver.bodies) == 2  # however many writes failed meanwhile
    finally:
        await receiver.stop()
