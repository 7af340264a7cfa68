"""The one outbox: every message the bot sends goes through this queue.

It paces sends the way a careful person would (about 40 a minute overall, a few seconds
apart in one conversation, a random pause when switching conversations), so the account is
not restricted for "操作过于频繁". It retries what surely did not reach the gateway and reports
what it could not send. A send whose outcome is unknown (the gateway took it but did not
answer in time) is reported, never repeated: a double post is worse than a missing one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from grpclib.const import Status
from grpclib.exceptions import GRPCError

from bot.config import SendingSettings
from bot.gateway import GatewayUnavailable
from bot.messages import Outgoing

log = logging.getLogger("bot.outbox")

# Statuses that mean the gateway did not act on the request.
RETRYABLE = {Status.UNAVAILABLE, Status.RESOURCE_EXHAUSTED, Status.ABORTED}
UNLIMITED_IN_FLIGHT = 64  # with the rate limit off (benchmarks), sends overlap


class Transport(Protocol):
    logged_in: asyncio.Event

    async def send_text(
        self, chat_id: str, text: str, mention_ids: tuple[str, ...] = ()
    ) -> str: ...


@dataclass(frozen=True)
class Failure:
    message: Outgoing
    error: str
    at: float


class Outbox:
    def __init__(
        self,
        settings: SendingSettings,
        transport: Transport,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.rng = rng or random.Random()
        self.clock = clock
        self.failures: deque[Failure] = deque(maxlen=200)
        self.sent_count = 0
        self._queue: asyncio.Queue[Outgoing] = asyncio.Queue()
        self._last_send = -1e9
        self._last_chat = ""
        self._last_send_in_chat: dict[str, float] = {}
        self._in_flight = asyncio.Semaphore(
            1 if settings.rate_limit else UNLIMITED_IN_FLIGHT
        )
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    async def send(self, message: Outgoing) -> None:
        """Queue a message; it is sent in order, paced, by run()."""
        self._queue.put_nowait(message)

    async def run(self) -> None:
        while True:
            message = await self._queue.get()
            if self.settings.rate_limit:
                await self._wait_for_turn(message.chat_id)
                await self._deliver(message)
            else:
                await self._in_flight.acquire()
                task = asyncio.create_task(self._deliver(message))
                self._tasks.add(task)
                task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._in_flight.release()

    def _pause_before(self, chat_id: str) -> float:
        now = self.clock()
        wait = self._last_send + 60.0 / self.settings.messages_per_minute - now
        last_here = self._last_send_in_chat.get(chat_id)
        if last_here is not None:
            wait = max(wait, last_here + self.settings.per_chat_interval_seconds - now)
        if self._last_chat and chat_id != self._last_chat:
            wait = max(wait, 0.0) + self.rng.uniform(0, self.settings.jitter_seconds)
        return max(wait, 0.0)

    async def _wait_for_turn(self, chat_id: str) -> None:
        pause = self._pause_before(chat_id)
        if pause > 0:
            await asyncio.sleep(pause)  # pacing is the point here, not synchronisation

    async def _deliver(self, message: Outgoing) -> None:
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                await self.transport.send_text(message.chat_id, message.text, message.mention_ids)
            except (GatewayUnavailable, ConnectionError, GRPCError, TimeoutError, OSError) as error:
                if not _surely_not_sent(error) or attempt == attempts:
                    self._report(message, error, attempt)
                    return
                delay = self.settings.retry_base_seconds * 2 ** (attempt - 1)
                log.warning("send to %s failed (%s), retry %d in %.1f s",
                            message.chat_id, error, attempt, delay)
                await self._wait_for_gateway(delay)
                continue
            self._record_send(message.chat_id)
            return

    async def _wait_for_gateway(self, delay: float) -> None:
        """Back off, but no longer than it takes the gateway to log in again."""
        deadline = self.clock() + delay
        if not self.transport.logged_in.is_set():
            try:
                await asyncio.wait_for(self.transport.logged_in.wait(), timeout=delay)
            except TimeoutError:
                return
        remaining = deadline - self.clock()
        if remaining > 0:
            await asyncio.sleep(remaining)

    def _record_send(self, chat_id: str) -> None:
        now = self.clock()
        self._last_send = now
        self._last_chat = chat_id
        self._last_send_in_chat[chat_id] = now
        if len(self._last_send_in_chat) > 10_000:
            self._last_send_in_chat.clear()  # only the last few seconds matter
        self.sent_count += 1

    def _report(self, message: Outgoing, error: BaseException, attempts: int) -> None:
        outcome = "outcome unknown, not repeated" if not _surely_not_sent(error) else "not sent"
        description = f"{type(error).__name__}: {error}"
        self.failures.append(Failure(message, description, time.time()))
        log.error("could not send to %s after %d attempt(s), %s: %s; text began %r",
                  message.chat_id, attempts, outcome, description, message.text[:40])


def _surely_not_sent(error: BaseException) -> bool:
    """True when the gateway cannot have acted on the request, so retrying is safe."""
    if isinstance(error, GatewayUnavailable | ConnectionRefusedError):
        return True
    if isinstance(error, GRPCError):
        return error.status in RETRYABLE
    return False
