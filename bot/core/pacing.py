"""The outbox's pacing: how long to wait before the next send, the way a careful person types.

About 40 messages a minute overall, a few seconds apart in one conversation, and a random pause
when switching conversations in a busy spell, so the account is not restricted for "操作过于频繁".
"""

from __future__ import annotations

import random
from collections.abc import Callable

from bot.core.cache import BoundedCache
from bot.core.config import SendingSettings

SWITCH_PAUSE_WINDOW = 10.0  # seconds since the last send that count as a busy spell
CHATS_REMEMBERED = 10_000  # per-chat pacing only looks a few seconds back


class Pacing:
    def __init__(self, settings: SendingSettings, rng: random.Random,
                 clock: Callable[[], float]) -> None:
        self.settings = settings
        self.rng = rng
        self.clock = clock
        self._last_send = -1e9
        self._last_chat = ""
        self._last_send_in_chat: BoundedCache[str, float] = BoundedCache(CHATS_REMEMBERED)

    def pause_before(self, chat_id: str) -> float:
        """Seconds to wait before sending to `chat_id` now."""
        now = self.clock()
        wait = self._last_send + 60.0 / self.settings.messages_per_minute - now
        last_here = self._last_send_in_chat.get(chat_id)
        if last_here is not None:
            wait = max(wait, last_here + self.settings.per_chat_interval_seconds - now)
        # A random pause when switching conversations in a busy spell; after a quiet while
        # (a scheduled post at 09:00) the first message goes at once.
        busy = now - self._last_send < SWITCH_PAUSE_WINDOW
        if busy and self._last_chat and chat_id != self._last_chat:
            wait = max(wait, 0.0) + self.rng.uniform(0, self.settings.jitter_seconds)
        return max(wait, 0.0)

    def sent(self, chat_id: str) -> None:
        now = self.clock()
        self._last_send = now
        self._last_chat = chat_id
        self._last_send_in_chat.put(chat_id, now)
