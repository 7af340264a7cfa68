"""Answers to people, through the outbox like every other send, by who they are.

Secretaries and admins are answered before members (an announcement goes before both: see
`Priority`). Members are answered within limits ([sending] in config.toml), per person and for
all of them together, and an answer that could not go out in time is dropped, not sent late:
whatever a noisy group types, the secretariat's work is not held up behind it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from bot.core.cache import RecentTimes
from bot.core.config import RoleSettings, SendingSettings
from bot.core.messages import COMMAND_REPLY, Incoming, Outgoing, OutKind, Priority
from bot.core.outbox import Outcome

log = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, message: Outgoing) -> asyncio.Future[Outcome]: ...


class Replies:
    def __init__(self, outbox: Sender, roles: RoleSettings, limits: SendingSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.outbox = outbox
        self.limits = limits
        self.staff = {*roles.secretaries, *roles.admins}
        self.clock = clock
        self._everyone: deque[float] = deque()
        self._each = RecentTimes(60, 10_000)  # per member, in the last minute

    def tell(self, chat_id: str, text: str) -> asyncio.Future[Outcome]:
        """A text to one chat (a person's id: privately)."""
        return self._send(Outgoing(chat_id, text, reason=COMMAND_REPLY), chat_id)

    def reply(self, message: Incoming, text: str) -> asyncio.Future[Outcome]:
        """Answer where the message was written; in a group, @-mention the asker."""
        mentions = (message.talker_id,) if message.in_group else ()
        return self._send(Outgoing(message.chat_id, text, mentions,
                                   reason=f"reply to {message.message_id}"), message.talker_id)

    def picture(self, chat_id: str, path: Path, reason: str) -> asyncio.Future[Outcome]:
        return self._send(Outgoing(chat_id, reason=reason, kind=OutKind.IMAGE,
                                   image_path=str(path)), chat_id)

    def _send(self, message: Outgoing, person: str) -> asyncio.Future[Outcome]:
        if person in self.staff:
            return self.outbox.send(_with(message, Priority.STAFF, None))
        if not self._within_limits(person):
            log.info("no reply to %s: over the members' reply limits (%s)", person,
                     message.reason)
            dropped: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            dropped.set_result(Outcome.DROPPED)
            return dropped
        return self.outbox.send(_with(message, Priority.MEMBER,
                                      self.limits.member_reply_expires_seconds))

    def _within_limits(self, member: str) -> bool:
        now = self.clock()
        while self._everyone and now - self._everyone[0] >= 60:
            self._everyone.popleft()
        if (len(self._each.within(member, now)) >= self.limits.member_replies_per_minute
                or len(self._everyone) >= self.limits.all_member_replies_per_minute):
            return False
        self._each.add(member, now)
        self._everyone.append(now)
        return True


def _with(message: Outgoing, priority: Priority, expires_after: float | None) -> Outgoing:
    return replace(message, priority=priority, expires_after=expires_after)
