"""#状态: what the bot is doing, told privately to an admin."""

from __future__ import annotations

import time
from datetime import datetime

from bot.core.commands import Call
from bot.core.router import Context
from bot.ops.health import STATES_ZH
from bot.ops.status import Snapshot

WEEKDAYS = "一二三四五六日"
ALERT_NAMES = {"gateway": "连不上微信网关", "wechat": "微信未登录", "token": "网关拒绝令牌",
               "storage": "数据库出错"}


def ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} 秒"
    if seconds < 7200:
        return f"{seconds / 60:.0f} 分钟"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} 小时"
    return f"{seconds / 86_400:.1f} 天"


def describe(status: Snapshot, now: float) -> str:
    def since(moment: datetime) -> str:
        return f"自 {moment:%Y-%m-%d %H:%M:%S} 起（{ago(now - moment.timestamp())}）"

    last_event = status.last_event_at
    lines = [
        f"机器人状态（版本 {status.version}，进程 {status.pid}）",
        f"微信：{STATES_ZH.get(status.state.value, status.state.value)}，{since(status.state_since)}",
        f"已运行：{ago(now - status.started_at.timestamp())}",
        "最近收到网关消息：" + (f"{last_event:%H:%M:%S}（{ago(now - last_event.timestamp())}前）"
                         if last_event else "还没有"),
        "接下来的公告：" + ("" if status.next_posts else "无"),
    ]
    for post in status.next_posts:
        lines.append(f"  {post.at:%Y-%m-%d} 周{WEEKDAYS[post.at.weekday()]} {post.at:%H:%M}  "
                     f"{post.title}（{post.post_id}）")
    lines += [
        f"待发消息：{status.outbox_depth} 条",
        f"近 24 小时发送失败：{status.failures_last_day} 条",
        "未解决的告警：" + ("、".join(ALERT_NAMES.get(key, key) for key in status.open_alerts)
                      or "无"),
    ]
    return "\n".join(lines)


async def show_status(call: Call, ctx: Context) -> None:
    ctx.tell(call.message.talker_id, describe(ctx.status.snapshot(), time.time()))
