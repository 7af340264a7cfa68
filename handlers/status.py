"""#状态: what the bot is doing, told privately to an admin."""

from __future__ import annotations

import time

from bot.core.chinese_time import day_and_time, duration, second
from bot.core.commands import Call, command
from bot.core.router import Role
from bot.ops.health import STATES_ZH
from bot.ops.status import Snapshot, StatusBoard

ALERT_NAMES = {"gateway": "连不上微信网关", "wechat": "微信未登录", "token": "网关拒绝令牌",
               "storage": "数据库出错"}


def describe(status: Snapshot, now: float) -> str:
    def since(moment: float) -> str:
        return f"（{duration(now - moment)}）"

    last_event = status.last_event_at
    lines = [
        f"机器人状态（版本 {status.version}，进程 {status.pid}）",
        f"微信：{STATES_ZH.get(status.state.value, status.state.value)}，"
        f"自 {second(status.state_since)} 起{since(status.state_since.timestamp())}",
        f"已运行：{duration(now - status.started_at.timestamp())}",
        "最近收到网关消息：" + (f"{last_event:%H:%M:%S}（{duration(now - last_event.timestamp())}前）"
                         if last_event else "还没有"),
        "接下来的公告：" + ("" if status.next_posts else "无"),
    ]
    lines += [f"  {day_and_time(post.at)}  {post.title}（{post.post_id}）"
              for post in status.next_posts]
    lines += [
        f"待发消息：{status.outbox_depth} 条",
        f"近 24 小时发送失败：{status.failures_last_day} 条",
        "未解决的告警：" + ("、".join(ALERT_NAMES.get(key, key) for key in status.open_alerts)
                      or "无"),
    ]
    return "\n".join(lines)


class StatusCommands:
    def __init__(self, status: StatusBoard) -> None:
        self.status = status

    @command("状态", "status", role=Role.ADMIN,
             summary="机器人的连接、运行时间和接下来的公告（私聊回复）")
    async def show_status(self, call: Call) -> None:
        call.answer(describe(self.status.snapshot(), time.time()))
