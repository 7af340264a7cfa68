"""Logging: one line per event, timestamps in the bot's timezone whatever the host's is."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from bot import wechaty_compat


class ZonedFormatter(logging.Formatter):
    def __init__(self, tz: ZoneInfo) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.tz).strftime("%Y-%m-%d %H:%M:%S%z")


def setup_logging(level: str, tz: ZoneInfo, stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(ZonedFormatter(tz))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # wechaty modules imported since the compat module ran made loggers of their own.
    wechaty_compat.route_wechaty_logging()
