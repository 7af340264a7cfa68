"""Message events to plain `Incoming` messages: loaded a few at a time, in order, each handled
in a task of its own (bot/wechat/connection.py feeds it).

A message event carries only the id; its payload is one RPC. A burst of 2,000 messages used to
be 2,000 tasks waiting for one of the loading slots, about 2 KB each: a peak the process kept
as RSS after the burst. Waiting ids are now strings in a queue, and a task exists only for a
message being loaded or handled.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.messages import Incoming, MessageKind
from bot.wechat import compat

log = logging.getLogger("bot.wechat.connection")

# python-wechaty's MessageType (after its remapping of the wire numbers) -> our kinds.
_KINDS = {
    compat.MessageType.MESSAGE_TYPE_TEXT: MessageKind.TEXT,
    compat.MessageType.MESSAGE_TYPE_EMOTICON: MessageKind.STICKER,
    compat.MessageType.MESSAGE_TYPE_IMAGE: MessageKind.IMAGE,
    compat.MessageType.MESSAGE_TYPE_RED_ENVELOPE: MessageKind.RED_ENVELOPE,
    compat.MessageType.MESSAGE_TYPE_TRANSFER: MessageKind.TRANSFER,
    compat.MessageType.MESSAGE_TYPE_URL: MessageKind.URL,
    compat.MessageType.MESSAGE_TYPE_RECALLED: MessageKind.RECALLED,
}
EARLIEST_STAMP = 946_684_800.0  # 2000-01-01; a message time before it or a day ahead is broken

Load = Callable[[str], Awaitable[Any]]  # a message's payload, or None: nothing to handle
Handle = Callable[[str, Any], Awaitable[None]]


class LoadingQueue:
    """Message ids waiting for their payload; at most `at_once` loads run together."""

    def __init__(self, at_once: int, load: Load, handle: Handle) -> None:
        self.at_once = at_once
        self.load = load
        self.handle = handle
        self._waiting: deque[str] = deque()
        self._tasks: set[asyncio.Task[None]] = set()  # loaders and handlers (asyncio keeps
        self._loaders = 0                              # only weak references to tasks)
        # Loads finish in any order; handlers start in the order the messages came (a member's
        # "#删除 x" then "确认"): a payload loaded early waits here for those before it.
        self._taken = 0  # ids taken from the queue so far
        self._handed = 0  # ids whose payload has been handed on (or dropped)
        self._loaded: dict[int, tuple[str, Any]] = {}

    def add(self, message_id: str) -> None:
        self._waiting.append(message_id)
        if self._loaders < self.at_once:
            self._loaders += 1
            self._start(self._loader())

    def clear(self) -> None:
        """Forget the ids not loaded yet (the connection they came on has ended)."""
        self._waiting.clear()

    def _hand_on(self) -> None:
        """Start the handlers of the payloads whose turn has come, in order."""
        while self._handed in self._loaded:
            message_id, raw = self._loaded.pop(self._handed)
            self._handed += 1
            if raw is not None:  # its handler may take long (#发布 waits for the post)
                self._start(self.handle(message_id, raw))

    def _start(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _loader(self) -> None:
        try:
            while self._waiting:
                message_id, turn = self._waiting.popleft(), self._taken
                self._taken += 1
                raw = None
                try:
                    raw = await self.load(message_id)
                except Exception:  # a loader that died would leave the queue unread
                    log.exception("loading message %s failed unexpectedly", message_id)
                finally:  # even cancelled: the payloads after it must not wait for ever
                    self._loaded[turn] = message_id, raw
                    self._hand_on()
        finally:
            self._loaders -= 1


def to_incoming(raw: Any, tz: ZoneInfo, self_id: str, self_name: str) -> Incoming:
    """A gateway's message payload as the plain message the rest of the bot sees."""
    stamp = float(raw.timestamp or time.time())
    if stamp > 1e11:  # some gateways send milliseconds
        stamp /= 1000
    if not EARLIEST_STAMP <= stamp <= time.time() + 86_400:
        stamp = time.time()  # year 146140482 made the message unreadable: now will do
    mention_ids = tuple(raw.mention_ids)
    mentions_bot = bool(self_id) and self_id in mention_ids
    if not mentions_bot and self_name:
        mentions_bot = f"@{self_name}" in raw.text
    return Incoming(
        message_id=str(raw.id),
        # One string per member and group, however many messages: the limits, the names
        # cache and the pacing keep them for a while (thousands of members in the benchmark).
        talker_id=sys.intern(raw.from_id),
        text=raw.text or "",
        kind=_KINDS.get(raw.type, MessageKind.OTHER),
        time=datetime.fromtimestamp(stamp, tz),
        room_id=sys.intern(raw.room_id) if raw.room_id else None,
        mention_ids=mention_ids,
        mentions_bot=mentions_bot,
    )
