"""Logging: one line per event, timestamps in the bot's timezone whatever the host's is, and
no secret in any line at any level.

Every logger goes through the root logger's handlers and so through `ZonedFormatter`, the
libraries' too: python-wechaty's `FileBox` logger, for one, installs a stream handler of its
own (host time, its own format, straight to the terminal); `setup_logging` takes it back.
The formatter is the last step before a line is written, so it is where the secrets (the
gateway token, the alert webhook's key) are blanked out, tracebacks included.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.core.config import redact


class ZonedFormatter(logging.Formatter):
    def __init__(self, tz: ZoneInfo, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.tz = tz
        self.secrets = tuple(secrets)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.tz).strftime("%Y-%m-%d %H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


# A line per job run or cancelled request is noise: warnings and worse only. hpack and h2 log
# every HTTP/2 header and frame at DEBUG, the gateway token among them (it is the
# `:authority` of every call): about 9 lines in 10 of a DEBUG log, and none worth reading.
QUIET_LIBRARIES = ("apscheduler", "grpclib", "httpx", "hpack", "h2")
# Errors only: python-wechaty's FileBox warns three times per picture sent that its own
# `mimeType` is deprecated, and otherwise only about voice files, which the bot never sends.
SILENT_LIBRARIES = ("FileBox",)


def setup_logging(
    level: str, tz: ZoneInfo, stream: TextIO | None = None, log_file: Path | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Lines to `stream` (stderr); with `log_file`, to that file only: the terminal is then
    the simulator's chat window and shows no log lines. No line shows any of `secrets`."""
    if log_file is None:
        handler: logging.Handler = logging.StreamHandler(stream or sys.stderr)
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(ZonedFormatter(tz, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings.warn(...) too: a line in the log, not on screen
    adopt_library_loggers()
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in SILENT_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)


def adopt_library_loggers() -> None:
    """Loggers that write somewhere of their own now write through the root's handlers."""
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue  # a placeholder for loggers not created yet
        own = [h for h in logger.handlers if not isinstance(h, logging.NullHandler)]
        if own or not logger.propagate:
            for handler in own:
                logger.removeHandler(handler)
            logger.propagate = True
