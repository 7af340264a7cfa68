"""The one outbox: every message the bot sends goes through this queue.

It paces sends the way a careful person would (bot/core/pacing.py). It retries what surely
did not reach the gateway and reports what it could not send; while the gateway is away
(not logged in) nothing can go out, so a message waits for it in its place rather than
spend its attempts (a post part until its run's grace ends). A send whose outcome is unknown
(the gateway took it but did not answer in time) is reported, never repeated: a double post
is worse than a missing one.
Post parts carry a ledger key: they are written down before and after sending, and a part
the ledger already has is never sent again, whatever restarts or reloads happened (through
SQLite refusing writes for a while too: bot/core/part_ledger.py).
On close() (the bot stopping) the message being handed to the gateway finishes and nothing
else goes out: post parts not sent stay `pending` in the ledger, for a restart to resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bot.core.config import SendingSettings
from bot.core.errors import MaybeSent, NotSent
from bot.core.messages import Outgoing
from bot.core.outbox_items import Failure, FailureListener, Outcome, Queued, Transport
from bot.core.pacing import Pacing
from bot.core.part_ledger import PartLedger
from bot.core.retry import backoff
from bot.core.store import Store

__all__ = ["Failure", "FailureListener", "Outbox", "Outcome", "Queued", "Transport"]

log = logging.getLogger(__name__)

UNLIMITED_IN_FLIGHT = 64  # with the rate limit off (benchmarks), sends overlap


class Outbox:
    def __init__(
        self,
        settings: SendingSettings,
        transport: Transport,
        store: Store | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.ledger = PartLedger(store)  # a part goes out only once its claim is written
        self.clock = clock
        self.failures: deque[Failure] = deque(maxlen=200)
        self.failure_listeners: list[FailureListener] = []
        # Most urgent first (Outgoing.priority), then in the order queued.
        self._queue: asyncio.PriorityQueue[Queued] = asyncio.PriorityQueue()
        self._queued = itertools.count()
        self.pacing = Pacing(settings, rng or random.Random(), clock)
        self._in_flight = asyncio.Semaphore(1 if settings.rate_limit else UNLIMITED_IN_FLIGHT)
        # Each message is delivered by a task of its own (one at a time with the rate limit).
        self._tasks: dict[asyncio.Task[None], tuple[Outgoing, asyncio.Future[Outcome]]] = {}
        self._in_rpc: set[asyncio.Task[Any]] = set()  # handing a message to the gateway now
        self._next: Queued | None = None  # taken from the queue, waiting for its turn
        self._overtaken = asyncio.Event()  # something more urgent than _next was queued
        self._runner: asyncio.Task[Any] | None = None
        self._stopping = False

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def send(self, message: Outgoing) -> asyncio.Future[Outcome]:
        """Queue a message; it is sent in order, paced. The future tells how it went."""
        outcome: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        if self._stopping:
            outcome.set_result(Outcome.STOPPED)
        else:
            queued_at = self.clock()
            self._queue.put_nowait(Queued(message.priority, next(self._queued), message, outcome,
                                          queued_at))
            if self._next is not None and message.priority < self._next.priority:
                self._overtaken.set()
        return outcome

    async def run(self) -> None:
        """Deliver what is queued, most urgent first, until close() (or cancellation)."""
        self._runner = asyncio.current_task()
        while not self._stopping:
            queued = self._take(await self._queue.get())
            if self._too_late(queued):  # stale already: it costs no pause
                self._next = None
                continue
            await self._in_flight.acquire()  # with the rate limit: the previous one is done
            if self.settings.rate_limit:
                queued = await self._wait_for_turn(queued)
            if self._too_late(queued):
                self._in_flight.release()
                self._next = None
                continue
            message, outcome = queued.message, queued.outcome
            task = asyncio.create_task(self._deliver(message, outcome))
            self._next = None
            self._tasks[task] = message, outcome
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        message, outcome = self._tasks.pop(task)
        self._in_flight.release()
        if outcome.done():
            return
        if task.cancelled():
            outcome.set_result(Outcome.STOPPED)
            return
        # Not a gateway error (those are handled): e.g. the ledger's database failing. This
        # message is lost to it, but the outbox goes on with the next one.
        error = task.exception()
        log.error("sending to %s failed unexpectedly", message.chat_id, exc_info=error)
        outcome.set_result(Outcome.UNKNOWN)

    async def close(self, timeout: float) -> None:
        """Stop taking work. The message being handed to the gateway gets up to `timeout`
        seconds to finish; nothing else is sent. Post parts not sent stay `pending` in the
        ledger (a restart within their grace sends them); other queued messages are dropped."""
        if self._stopping:
            return
        self._stopping = True
        if self._runner is not None:
            self._runner.cancel()
        for task in self._tasks:
            if task not in self._in_rpc:
                task.cancel()  # between attempts or not started: nothing is on the wire
        busy = list(self._tasks)
        if busy:
            _, late = await asyncio.wait(busy, timeout=timeout)
            for task in late:
                log.warning("gave up waiting for the gateway to take a message; if it was a "
                            "post part, the ledger keeps it as 'sending' (reported, not resent)")
                task.cancel()
            await asyncio.gather(*busy, return_exceptions=True)
        left = [(self._next.message, self._next.outcome)] if self._next is not None else []
        while not self._queue.empty():
            queued = self._queue.get_nowait()
            left.append((queued.message, queued.outcome))
        for _, outcome in left:
            if not outcome.done():
                outcome.set_result(Outcome.STOPPED)
        self.ledger.close()
        parts = sum(message.ledger is not None for message, _ in left)
        log.info("outbox closed: %d queued message(s) not sent (%d post part(s), still pending "
                 "in the ledger)", len(left), parts)

    def _too_late(self, queued: Queued) -> bool:
        """A reply that could not go out in time is dropped, not sent late (a flood of member
        messages must not turn into a flood of stale answers)."""
        expires = queued.message.expires_after
        if expires is None or self.clock() - queued.queued_at <= expires:
            return False
        log.info("dropped a reply to %s: not sent within %.0f s (%s)",
                 queued.message.chat_id, expires, queued.message.reason)
        queued.outcome.set_result(Outcome.DROPPED)
        return True

    async def _wait_for_turn(self, queued: Queued) -> Queued:
        """Sleep out the pacing pause before `queued`; returns what to send after it. A more
        urgent message queued meanwhile (the secretary's post during a member's flood) ends the
        pause: the taken one goes back in its place (same priority and seq) and the urgent one
        gets a pause of its own, so no post waits behind a member's answer it could overtake."""
        while True:
            if self._overtaken.is_set():  # queued while this one waited (for pacing or in_flight)
                self._queue.put_nowait(queued)
                queued = self._take(self._queue.get_nowait())  # the most urgent one now
                continue
            pause = self.pacing.pause_before(queued.message.chat_id)
            if pause <= 0:
                return queued
            with contextlib.suppress(TimeoutError):  # pacing is the point here
                await asyncio.wait_for(self._overtaken.wait(), timeout=pause)
            if not self._overtaken.is_set():
                return queued

    def _take(self, queued: Queued) -> Queued:
        """`queued` is the message waiting for its turn now (close() answers for it)."""
        self._next = queued
        self._overtaken.clear()
        return queued

    async def _deliver(self, message: Outgoing, outcome: asyncio.Future[Outcome]) -> None:
        result = await self._attempts(message)
        if not outcome.done():
            outcome.set_result(result)

    async def _attempts(self, message: Outgoing) -> Outcome:
        try:
            if not await self.ledger.claim(message):
                assert message.ledger is not None
                log.info("not sending %s again: the ledger has it", message.ledger.describe())
                return Outcome.ALREADY_SENT
        except sqlite3.OperationalError as error:  # refused until the run's grace ended
            return await self._fail(message, error, 0, surely_not_sent=True)
        attempts = self.settings.max_attempts
        delays = backoff(self.settings.retry_base_seconds)
        attempt = 0
        while True:
            attempt += 1
            try:
                message_id = await self._hand_over(message)
            except MaybeSent as error:
                return await self._fail(message, error, attempt, surely_not_sent=False)
            except NotSent as error:
                if self._stopping:
                    return self._put_back(message)
                try:
                    if error.retryable and await self._gateway_back_for(message):
                        attempt -= 1  # it was away, not failing: the attempt is not spent
                        continue
                    if not error.retryable or attempt >= attempts:
                        return await self._fail(message, error, attempt, surely_not_sent=True)
                    delay = next(delays)
                    log.warning("send to %s failed (%s), retry %d in %.1f s",
                                message.chat_id, error, attempt, delay)
                    await self._wait_for_gateway(delay)
                except asyncio.CancelledError:
                    self._put_back(message)  # stopping between two attempts
                    raise
                continue
            self.ledger.sent(message, message_id or "")
            self.pacing.sent(message.chat_id)
            return Outcome.SENT

    async def _hand_over(self, message: Outgoing) -> str:
        """One attempt; while it runs, close() waits for it rather than cut it off."""
        task = asyncio.current_task()
        assert task is not None
        self._in_rpc.add(task)
        try:
            return await self.transport.deliver(message)
        finally:
            self._in_rpc.discard(task)

    def _put_back(self, message: Outgoing) -> Outcome:
        """A claimed post part that surely did not go out: pending again, for a restart."""
        self.ledger.put_back(message)
        return Outcome.STOPPED

    async def _gateway_back_for(self, message: Outgoing) -> bool:
        """True when a gateway that is away (not logged in) is back in time for the message:
        nothing can go out meanwhile, so it waits in its place (a post's parts keep their
        order); a post part until its run's grace ends, a member's answer not at all."""
        if self.transport.logged_in.is_set() or message.expires_after is not None:
            return False
        wait = None if message.send_by is None else message.send_by - time.time()
        if wait is not None and wait <= 0:
            return False
        log.info("gateway away: a message to %s waits for it (%s)", message.chat_id, message.reason)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.transport.logged_in.wait(), timeout=wait)
        return self.transport.logged_in.is_set()

    async def _wait_for_gateway(self, delay: float) -> None:
        """Back off, but no longer than it takes the gateway to log in again."""
        if self.transport.logged_in.is_set():
            await asyncio.sleep(delay)  # logged in, yet the send failed: give it a moment
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.transport.logged_in.wait(), timeout=delay)

    async def _fail(
        self, message: Outgoing, error: BaseException, attempts: int, surely_not_sent: bool
    ) -> Outcome:
        outcome = Outcome.NOT_SENT if surely_not_sent else Outcome.UNKNOWN
        if surely_not_sent:
            self.ledger.put_back(message)  # a later run of the slot may send it
        else:
            self.ledger.unknown(message)
        cause = error.__cause__ or error  # the transport's own error, for the log
        description = f"{type(cause).__name__}: {error}".rstrip(": ")
        failure = Failure(message, outcome, description, str(error) or type(error).__name__,
                          time.time())
        self.failures.append(failure)
        log.error("could not send to %s after %d attempt(s), %s: %s; text began %r",
                  message.chat_id, attempts, outcome.value, description, message.text[:40])
        for listener in self.failure_listeners:
            try:
                await listener(failure)
            except Exception:
                log.exception("failure listener failed")
        return outcome

