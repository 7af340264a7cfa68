"""Which states of the bot are incidents, and how they are worded for the admins.

`ConnectionWatch` listens to the gateway's state changes (Gateway.state_listeners):
- "gateway": unreachable or hung for hung_after_seconds (timed from when the bot notices; a
  hang is noticed idle_ding + ding_timeout seconds after the gateway went silent). Short
  blips, such as a gateway restart, are not worth waking anyone.
- "wechat": logged out, or waiting for a scan: someone must scan the QR code, so at once.
- "token": the gateway rejected the token: someone must fix the configuration, so at once.
Each clears when the bot is logged in again; "gateway" also when the gateway answers at all.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from bot.core.chinese_time import duration
from bot.core.messages import State
from bot.core.store import ErrorListener
from bot.ops.alerts import Alerts

# States in which the gateway has not answered (yet): the outage clock runs.
NO_ANSWER = {State.STARTING, State.CONNECTING, State.DISCONNECTED}


class ConnectionWatch:
    def __init__(self, alerts: Alerts, endpoint: str, hung_after_seconds: float) -> None:
        self.alerts = alerts
        self.endpoint = endpoint
        self.hung_after = hung_after_seconds
        self._timer: asyncio.TimerHandle | None = None
        self._outage_since = 0.0
        self._why = ""  # the first reason of the outage: later ones are mostly timeouts

    def __call__(self, state: State, detail: str) -> None:
        if state is not State.LOGGED_IN:
            self.alerts.set_online(False)  # WeChat messages wait for the next login
        if state in NO_ANSWER:
            if self._timer is None:
                self._outage_since, self._why = time.time(), ""
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(self.hung_after, self._gateway_down)
            if state is State.DISCONNECTED and not self._why:
                self._why = detail.split("; retrying")[0]
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if state is State.STOPPED:
            return
        self._gateway_answers()
        if state is State.LOGGED_IN:
            self._logged_in(detail)
        elif state in (State.LOGGED_OUT, State.WAITING_FOR_SCAN):
            self.alerts.resolved("token", f"微信网关 {self.endpoint} 已接受令牌。")
            self.alerts.problem("wechat", self._login_needed(state, detail))
        elif state is State.TOKEN_REJECTED:
            self.alerts.problem(
                "token",
                f"微信网关 {self.endpoint} 拒绝了令牌：请把环境变量 WECHATY_PUPPET_SERVICE_TOKEN "
                "设为网关启动时用的令牌，改好后重启机器人。在此之前机器人会一直重试。",
            )

    def _gateway_down(self) -> None:
        why = f"（{self._why}）" if self._why else ""
        self.alerts.problem(
            "gateway",
            f"连不上微信网关 {self.endpoint} 已超过 {duration(self.hung_after)}{why}。"
            "机器人会一直重试；请检查网关进程和网络。",
        )

    def _gateway_answers(self) -> None:
        outage = duration(time.time() - self._outage_since)
        self.alerts.resolved("gateway", f"微信网关 {self.endpoint} 又能连上了，中断约 {outage}。")

    def _logged_in(self, detail: str) -> None:
        # Recoveries first, while WeChat still counts as offline: then the held alerts of
        # these incidents are dropped rather than sent just before their recovery.
        self.alerts.resolved("token", f"微信网关 {self.endpoint} 已接受令牌，机器人已登录。")
        self.alerts.resolved("wechat", f"机器人的微信已登录（{detail.removeprefix('as ')}）。")
        self.alerts.set_online(True)

    def _login_needed(self, state: State, detail: str) -> str:
        where = "二维码在日志里，也保存在数据目录的 login-qr.png。"
        if state is State.LOGGED_OUT:
            return f"机器人的微信已退出登录（{detail}）。请用机器人的微信扫码重新登录：{where}"
        return f"机器人的微信未登录，正在等待扫码：{where}"


def storage_failed(alerts: Alerts, path: Path) -> ErrorListener:
    """The Store's error listener: one alert until the database works again."""

    def report(error: sqlite3.Error) -> None:
        if "locked" in str(error):
            what_to_do = "另一个程序锁住了数据库：请关掉正在用它的程序（如 sqlite3 窗口）"
        else:
            what_to_do = "请检查磁盘空间和文件权限"
        alerts.problem(
            "storage",
            f"数据库出错：{type(error).__name__}: {error}（{path}）。{what_to_do}。"
            "恢复之前公告不会发出（恢复后在补发时限内补发），收到的祝贺先记在内存里，恢复后写入。",
        )

    return report


def storage_works(alerts: Alerts) -> None:
    alerts.resolved("storage", "数据库恢复正常。")
