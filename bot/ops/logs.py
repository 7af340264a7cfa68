"""Logging: one line per event, timestamps in the bot's timezone whatever the host's is."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo


class ZonedFormatter(logging.Formatter):
    def __init__(self, tz: ZoneInfo) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.tz).strftime("%Y-%m-%d %H:%M:%S%z")


QUIET_LIBRARIES = ("apscheduler", "grpclib", "httpx")


def setup_logging(
    level: str, tz: ZoneInfo, stream: TextIO | None = None, log_file: Path | None = None
) -> None:
    """Lines to stderr; with `log_file`, everything there and only warnings to stderr."""
    console = logging.StreamHandler(stream or sys.stderr)
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
        console.setLevel(logging.WARNING)
    for handler in handlers:
        handler.setFormatter(ZonedFormatter(tz))
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    for name in QUIET_LIBRARIES:  # a line per job run or cancelled request is noise
        logging.getLogger(name).setLevel(logging.WARNING)
