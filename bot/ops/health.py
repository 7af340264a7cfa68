"""`python -m bot health`: is the bot on this data directory connected and making progress?

It reads the status file the running bot rewrites every few seconds (bot/status.py) and
answers with an exit code and one sentence, for Docker's HEALTHCHECK and for people.
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime
from pathlib import Path

# The contract with the running bot (bot/status.py writes the file). Kept here, light to
# import: Docker runs this check every 30 s for the life of the container.
STATUS_FILE = "status.json"
WRITE_EVERY_SECONDS = 5.0
STALE_AFTER_SECONDS = 6 * WRITE_EVERY_SECONDS  # six missed rewrites: stuck or not running

STATES_ZH = {
    "starting": "启动中", "connecting": "正在连接网关", "waiting for a QR scan": "等待扫码登录",
    "logged in": "已登录", "logged out": "已退出登录", "disconnected": "与网关断开",
    "token rejected": "网关拒绝了令牌", "stopped": "已停止",
}


def check(data_dir: Path, now: float | None = None) -> tuple[bool, str]:
    """(healthy, the sentence that says why)."""
    now = time.time() if now is None else now
    path = data_dir / STATUS_FILE
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
        updated = datetime.fromisoformat(status["updated_at"])
        since = datetime.fromisoformat(status["state_since"])
        state = str(status["state"])
    except FileNotFoundError:
        return False, f"没有机器人在运行 / no bot is running here: {path} does not exist"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return False, f"状态文件无法读取 / cannot read {path}: {error}"
    age = now - updated.timestamp()
    if state == "stopped":
        return False, f"机器人已停止 / the bot stopped at {since:%Y-%m-%d %H:%M:%S%z}"
    if not _alive(status):
        return False, f"机器人已不在运行 / the bot (pid {status.get('pid')}) is no longer running"
    if age > STALE_AFTER_SECONDS:
        return False, (f"机器人 {age:.0f} 秒没有更新状态 / the bot has not updated its status "
                       f"for {age:.0f} s: stuck or not running")
    if "storage" in status.get("open_alerts", []):
        return False, "机器人的数据库写不进去 / the bot cannot write its database"
    if not status.get("connected"):
        return False, (f"机器人没有连上微信：{STATES_ZH.get(state, state)} / the bot is not "
                       f"connected to WeChat: {state} since {since:%Y-%m-%d %H:%M:%S%z}")
    return True, (f"OK: connected to WeChat since {since:%Y-%m-%d %H:%M:%S%z}, "
                  f"status {age:.0f} s old")


def _alive(status: dict[str, object]) -> bool:
    """A killed bot leaves its last status behind; its pid tells at once, where the pid means
    something (the same host: Docker's HEALTHCHECK runs inside the bot's container)."""
    pid = status.get("pid")
    if status.get("host") != socket.gethostname() or not isinstance(pid, int):
        return True  # cannot tell from here: staleness will
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True
