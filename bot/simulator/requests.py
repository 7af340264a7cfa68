"""Every request the gateway received, answered or not, and waiting for them in tests.

A hung gateway receives requests and holds them: `rpc_counts` (answered) cannot tell a test
that the bot's send is now stuck in the gateway; this can.
"""

from __future__ import annotations

import asyncio
from collections import Counter


class RequestCounts(Counter[str]):
    """Requests received, by method name ("MessageSendText", "MessagePayload", "Event" ...)."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters: list[tuple[str, int, asyncio.Future[None]]] = []

    def received(self, method: str) -> None:
        self[method] += 1
        for waiter in list(self._waiters):
            name, count, future = waiter
            if name == method and self[name] >= count and not future.done():
                self._waiters.remove(waiter)
                future.set_result(None)

    async def wait_for(self, method: str, count: int, timeout: float = 5.0) -> None:
        """Until `count` requests of `method` have arrived in all."""
        if self[method] >= count:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (method, count, future)
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
