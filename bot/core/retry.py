"""Backoff for everything the bot tries again: sends, the alert webhook, reconnecting.

Each of those waits in its own way (for a login, for a stop request), so the shared part is
only the delays: first, twice that, four times ... up to a ceiling.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator


def backoff(first: float, maximum: float = float("inf")) -> Iterator[float]:
    """first, 2 * first, 4 * first, ... capped at `maximum`, for ever."""
    for attempt in itertools.count():
        yield min(first * 2 ** min(attempt, 64), maximum)
