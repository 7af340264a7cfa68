"""Fix 10 of bot/wechat/compat.py: grpclib's frames written once per turn of the event loop.

grpclib hands each HTTP/2 frame to the socket as soon as h2 makes it: a unary RPC is two
send() calls (its HEADERS, then its DATA), six per answer (three RPCs). Here the frames written
during one turn of the loop are joined and sent at the start of the next: the same bytes in the
same order, one system call for all of them (in the benchmark's burst 21,420 frames went out in
3,263 writes, and the bot answered about 20% more questions a second: docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from grpclib.client import Channel, Handler
from grpclib.protocol import H2Protocol


class CoalescingTransport:
    """A transport whose write() is deferred to one joined write per loop turn; everything
    else is the wrapped transport's (a close() or abort() first deals with what is held)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)

    def flush(self) -> None:
        if self._held:
            data = b"".join(self._held) if len(self._held) > 1 else self._held[0]
            self._held.clear()
            self._transport.write(data)

    def close(self) -> None:
        self.flush()  # grpclib closes after a GOAWAY or a reset: they go out first
        self._transport.close()

    def abort(self) -> None:
        self._held.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, ...
        return getattr(self._transport, name)


class CoalescingH2Protocol(H2Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # grpclib only writes, asks is_closing() and get_extra_info(), and closes.
        wrapped = CoalescingTransport(cast(asyncio.Transport, transport))
        super().connection_made(cast(asyncio.Transport, wrapped))


class CoalescingChannel(Channel):
    """grpclib's Channel, its connections writing through a CoalescingTransport."""

    def _protocol_factory(self) -> H2Protocol:
        return CoalescingH2Protocol(Handler(), self._config, self._h2_config)
