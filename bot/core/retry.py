"""Backoff for everything the bot tries again: sends, the alert webhook, reconnecting, and
database writes SQLite refuses for a while (`until_written`).

Each of those waits in its own way (for a login, for a stop request), so the shared part is
mostly the delays: first, twice that, four times ... up to a ceiling.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


def backoff(first: float, maximum: float = float("inf")) -> Iterator[float]:
    """first, 2 * first, 4 * first, ... capped at `maximum`, for ever."""
    for attempt in itertools.count():
        yield min(first * 2 ** min(attempt, 64), maximum)


WRITE_RETRY_FIRST = 0.2  # seconds; then twice that ... up to WRITE_RETRY_MAX
WRITE_RETRY_MAX = 5.0


async def until_written(write: Callable[[], T], deadline: float | None = None) -> T:
    """A database write, tried again while SQLite refuses it (locked by another program, the
    disk full) until `deadline` (time.time(); None: as long as it takes), then its error is
    raised. The store's listener has told the admins at the first refusal."""
    delays = backoff(WRITE_RETRY_FIRST, WRITE_RETRY_MAX)
    while True:
        try:
            return write()
        except sqlite3.OperationalError:
            wait = math.inf if deadline is None else deadline - time.time()
            if wait <= 0:
                raise
            await asyncio.sleep(min(next(delays), wait))  # a backoff, not synchronisation
