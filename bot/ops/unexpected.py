"""The one path for what nobody expected: a handler that crashed, a scheduler job that raised,
a background task that died. Each reaches the log with its traceback and the admins' alert,
once per incident (the same place and error type, once a day), and the bot goes on. A
database error is already an incident of its own (bot/ops/incidents.py): logged here only."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ops.alerts import Alerts

log = logging.getLogger(__name__)


class UnexpectedErrors:
    """A `ReportUnexpected` (bot/core/errors.py) that logs and alerts."""

    def __init__(self, alerts: Alerts, tz: ZoneInfo) -> None:
        self.alerts = alerts
        self.tz = tz

    def __call__(self, where: str, error: BaseException) -> None:
        log.error("unexpected error in %s", where, exc_info=error)
        if isinstance(error, sqlite3.Error):
            return  # the store's own listener has raised the storage incident: one alert
        kind = type(error).__name__
        place = where.split(" on message ")[0].split(" from ")[0]  # not per message or person
        today = datetime.now(self.tz).date().isoformat()
        self.alerts.notice(
            f"机器人内部出错（{where}）：{kind}: {error}。详情已写入日志，机器人继续运行。",
            event="unexpected", once=f"unexpected:{place}:{kind}:{today}")
