"""What the outbox (bot/core/outbox.py) queues, promises and reports, and what it sends through."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.messages import Outgoing, Priority


class Transport(Protocol):
    """The WeChat side (bot/wechat): raises NotSent or MaybeSent when a send fails."""

    logged_in: asyncio.Event

    async def deliver(self, message: Outgoing) -> str: ...


class Outcome(enum.Enum):
    SENT = "sent"
    ALREADY_SENT = "already in the ledger"
    NOT_SENT = "not sent"
    UNKNOWN = "outcome unknown"
    STOPPED = "not sent: the bot stopped"  # a post part stays pending in the ledger
    DROPPED = "not sent: too late"  # a reply that waited longer than it was worth


@dataclass(order=True, slots=True)  # up to thousands queued in a burst
class Queued:
    priority: Priority
    seq: int
    message: Outgoing = field(compare=False)
    outcome: asyncio.Future[Outcome] = field(compare=False)
    queued_at: float = field(compare=False)


@dataclass(frozen=True)
class Failure:
    message: Outgoing
    outcome: Outcome
    error: str  # with the exception's type, for the log
    reason: str  # the exception's own words, for people
    at: float


FailureListener = Callable[[Failure], Awaitable[None]]
