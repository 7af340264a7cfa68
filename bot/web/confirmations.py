"""One-time confirmations: a confirmed action of the console runs once, however often its
confirmation form is sent.

A confirmation page carries a random token bound to the person, the action and the post. The
first POST with it runs the action; a second one (a double click, a browser resending the
form after a reload or a lost connection) runs nothing and gets the first one's result, waiting
for it if it is still running. Tokens live in memory: a restart only costs a new confirmation.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

CONFIRM_SECONDS = 30 * 60  # a confirmation page left open longer is asked again
MOST_CONFIRMATIONS = 1_000  # outstanding tokens are few; a bound keeps memory bounded

Result = TypeVar("Result")


@dataclass
class Pending(Generic[Result]):
    user_id: str
    action: str
    post_id: str
    expires_at: float
    result: asyncio.Future[Result] | None = None  # set by the first POST


class Confirmations(Generic[Result]):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._pending: dict[str, Pending[Result]] = {}

    def issue(self, user_id: str, action: str, post_id: str) -> str:
        """A new token for a confirmation page of `action` on `post_id`, for `user_id` only."""
        now = self.clock()
        for token in [t for t, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[token]
        while len(self._pending) >= MOST_CONFIRMATIONS:
            del self._pending[next(iter(self._pending))]
        token = secrets.token_urlsafe(24)
        self._pending[token] = Pending(user_id, action, post_id, now + CONFIRM_SECONDS)
        return token

    async def once(self, token: object, user_id: str, action: str, post_id: str,
                   run: Callable[[], Awaitable[Result]]) -> tuple[Result, bool] | None:
        """(result, repeated): `run`'s result the first time the token is used; later uses get
        the same result without running anything (repeated = True). None for a token that is
        unknown, expired, or issued for another person, action or post."""
        pending = self._pending.get(token) if isinstance(token, str) else None
        if (pending is None or pending.expires_at <= self.clock() or
                (pending.user_id, pending.action, pending.post_id) != (user_id, action, post_id)):
            return None
        if pending.result is not None:
            return await asyncio.shield(pending.result), True
        pending.result = asyncio.get_running_loop().create_future()
        try:
            result = await run()
        except asyncio.CancelledError:  # the bot is stopping
            pending.result.cancel()
            raise
        except Exception as error:
            pending.result.set_exception(error)
            pending.result.exception()  # retrieved: no "never retrieved" warning when unrepeated
            raise
        pending.result.set_result(result)
        return result, False
