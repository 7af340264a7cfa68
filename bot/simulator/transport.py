"""grpclib plumbing: token check on `:authority`, connection tracking, abrupt shutdown.

python-wechaty sends its token as the HTTP/2 `:authority` pseudo-header, which grpclib does not
hand to method handlers; it only reaches `Handler.accept()`. So a small Handler subclass picks
the method table per request: the real one for the right token, or one whose every method fails
with UNAUTHENTICATED (methods that do not exist still answer UNIMPLEMENTED, as the official
gateway's per-method auth wrappers do). This touches grpclib internals that are stable in the
pinned 0.4.9: `Server._protocol_factory` and the attributes it uses.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import betterproto
from grpclib.const import Cardinality, Status
from grpclib.const import Handler as MethodHandler
from grpclib.exceptions import GRPCError
from grpclib.protocol import H2Protocol
from grpclib.server import Handler, Server, Stream, request_handler

log = logging.getLogger("bot.simulator")

MethodTable = dict[str, MethodHandler]


class _Methods(dict[str, MethodHandler]):
    """A method table that answers unknown methods with a proper UNIMPLEMENTED response.

    grpclib's own answer to an unknown path lacks `content-type`, which grpclib clients
    (python-wechaty) report as UNKNOWN; the official gateway's clients see UNIMPLEMENTED.
    grpclib only ever calls `.get()` on the table.
    """

    def __init__(self, table: MethodTable, fallback: MethodHandler) -> None:
        super().__init__(table)
        self._fallback = fallback

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, self._fallback)

    def __mapping__(self) -> MethodTable:  # grpclib's `IServable`
        return self


@dataclass(eq=False, repr=False)
class _AnyMessage(betterproto.Message):
    """Accepts any request bytes (kept as unknown fields); used for unknown methods."""


class _TokenHandler(Handler):
    def __init__(self, methods: _Methods, rejecting: _Methods, token: str, *args: Any) -> None:
        super().__init__(methods, *args)
        self._rejecting = rejecting
        self._token = token

    def accept(self, stream: Any, headers: Any, release_stream: Callable[[], Any]) -> None:
        authority = next((value for name, value in headers if name == ":authority"), None)
        table = self.mapping if authority == self._token else self._rejecting
        self.__gc_step__()
        self._tasks[stream] = self.loop.create_task(
            request_handler(
                table,
                stream,
                headers,
                self.codec,
                self.status_details_codec,
                self.dispatch,
                release_stream,
            )
        )


CLOSED_STREAMS_KEPT = 4096


class _CoalescingTransport:
    """Batches a connection's writes into one socket send per event-loop iteration.

    grpclib writes after every HTTP/2 frame (headers, data, trailers): a syscall each, the
    largest single cost per RPC. Under load many frames are ready in the same iteration.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        data, self._pending = b"".join(self._pending), []
        if data and not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, abort, ...
        return getattr(self._transport, name)


class _TrackedProtocol(H2Protocol):
    """Remembers its transport so `GatewayServer.kill()` can drop the TCP connection."""

    def __init__(self, transports: set[asyncio.BaseTransport], *args: Any) -> None:
        super().__init__(*args)
        self._transports = transports
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._transports.add(transport)
        log.info("connection from %s", transport.get_extra_info("peername"))
        assert isinstance(transport, asyncio.Transport)
        # asyncio sets TCP_NODELAY only on sockets created with proto=IPPROTO_TCP; sockets
        # accepted from socket.create_server() have proto 0, so small event frames waited
        # for the peer's delayed ACK: 40 ms per event.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(_CoalescingTransport(transport))  # type: ignore[arg-type]
        # h2 remembers 65,536 closed streams per connection (11 MB after some 30,000 answers);
        # `make run` may leave the simulator up for weeks. 4,096 still knows late frames.
        self.connection._connection.MAX_CLOSED_STREAMS = CLOSED_STREAMS_KEPT

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._transport is not None:
            self._transports.discard(self._transport)
            log.info("connection closed: %s", self._transport.get_extra_info("peername"))
        super().connection_lost(exc)


class GatewayServer(Server):
    def __init__(
        self,
        table: MethodTable,
        token: str,
        gate: Callable[[], Awaitable[None]],
    ) -> None:
        # `gate` returns when the gateway is not hung: a hung gateway does not even say no.
        async def unimplemented(stream: Stream[Any, Any]) -> None:
            await gate()
            raise GRPCError(Status.UNIMPLEMENTED, f"{stream._method_name} is not simulated")

        async def reject(stream: Stream[Any, Any]) -> None:
            await gate()
            raise GRPCError(Status.UNAUTHENTICATED, "invalid token")

        fallback = MethodHandler(unimplemented, Cardinality.UNARY_UNARY, _AnyMessage, _AnyMessage)
        self._methods = _Methods(table, fallback)
        rejecting = {path: method._replace(func=reject) for path, method in table.items()}
        self._rejecting = _Methods(rejecting, fallback)
        super().__init__([self._methods])
        self._token = token
        self._transports: set[asyncio.BaseTransport] = set()

    def _protocol_factory(self) -> H2Protocol:
        self.__gc_step__()
        handler = _TokenHandler(
            self._methods,
            self._rejecting,
            self._token,
            self._codec,
            self._status_details_codec,
            self.__dispatch__,
        )
        self._handlers.add(handler)
        return _TrackedProtocol(self._transports, handler, self._config, self._h2_config)

    def kill(self) -> None:
        """Stop like a killed process: drop every TCP connection, cancel every handler."""
        for transport in list(self._transports):
            transport.abort()  # type: ignore[attr-defined]
        self._transports.clear()
        self.close()
