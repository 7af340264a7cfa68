"""Fix 8 of bot/wechat/compat.py: python-wechaty's gRPC calls carried by grpcio's C core.

python-wechaty's stubs (betterproto 1.x) ask a grpclib `Channel` for `request(...)` and use the
stream it returns for one unary or one server-streaming call. grpclib speaks HTTP/2 in pure
Python (h2, hpack): with grpclib itself that was 40% of the bot's CPU per answer in the
benchmark's burst (docs/benchmarks.md). `CoreChannel` serves those two call shapes with
grpcio's compiled HTTP/2 instead, keeping python-wechaty's stubs and betterproto's messages.

Failures keep grpclib's meaning, on which the outbox's "never twice" rule rests
(bot/wechat/actions.py turns them into NotSent / MaybeSent):
- no connection could be made, or the channel is closed: ConnectionRefusedError, surely not sent;
- the connection was lost mid-call, or we closed it: StreamTerminatedError, perhaps acted on;
- the call's deadline passed: TimeoutError, perhaps acted on;
- any other status: GRPCError with the gateway's status and message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import grpc
import grpc.aio
from grpclib.const import Cardinality, Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from grpclib.metadata import Deadline

from bot.wechat.replies import decode

# grpcio's words for "nothing could be connected": the request never left.
NEVER_CONNECTED = ("failed to connect to all addresses", "Failed to connect to remote host")
CHANNEL_OPTIONS = (
    ("grpc.enable_retries", 0),  # a retry would be a second send: the outbox decides that
    ("grpc.max_receive_message_length", 64 * 2**20),  # pictures come back as base64 files
)

_closing: set[asyncio.Task[None]] = set()  # closes under way, kept from the garbage collector


class CoreChannel:
    """What python-wechaty needs of grpclib's Channel: request() and close(); `authority` is
    the HTTP/2 :authority, which carries the token in the puppet-service protocol."""

    def __init__(self, host: str, port: int, authority: str) -> None:
        options = (*CHANNEL_OPTIONS, ("grpc.default_authority", authority))
        self._channel = grpc.aio.insecure_channel(f"{host}:{port}", options=options)
        self._methods: dict[str, Any] = {}
        self.closed = False

    def request(self, name: str, cardinality: Cardinality, request_type: type,
                reply_type: type, *, timeout: float | None = None,
                deadline: Deadline | None = None, metadata: Any = None) -> CoreCall:
        method = self._methods.get(name)
        if method is None:
            if cardinality is Cardinality.UNARY_UNARY:
                method = self._channel.unary_unary(name)
            elif cardinality is Cardinality.UNARY_STREAM:
                method = self._channel.unary_stream(name)
            else:  # python-wechaty's PuppetService makes no other kind of call
                raise NotImplementedError(f"{cardinality.name} calls are not carried: {name}")
            self._methods[name] = method
        if deadline is not None:
            remaining = deadline.time_remaining()
            timeout = remaining if timeout is None else min(timeout, remaining)
        return CoreCall(self, method, reply_type, timeout, metadata)

    def close(self) -> None:
        """Close at once, as grpclib's close() does: calls under way end with
        StreamTerminatedError (grpcio's own close is a coroutine; it runs as a task)."""
        if self.closed:
            return
        self.closed = True
        task = asyncio.get_running_loop().create_task(self._channel.close())
        _closing.add(task)
        task.add_done_callback(_closing.discard)


class CoreCall:
    """The stream betterproto's stubs use: send_message(request, end=True), then
    recv_message() (one reply, or each reply of a stream until None)."""

    def __init__(self, channel: CoreChannel, method: Any, reply_type: type,
                 timeout: float | None, metadata: Any) -> None:
        self._channel = channel
        self._method = method
        self._reply_type = reply_type
        self._timeout = timeout
        # grpclib takes a mapping or pairs (python-wechaty passes none); grpcio takes pairs.
        pairs = metadata.items() if isinstance(metadata, Mapping) else metadata
        self._metadata = tuple(pairs) if pairs else None
        self._call: Any = None
        self._streaming = isinstance(method, grpc.aio.UnaryStreamMultiCallable)

    async def __aenter__(self) -> CoreCall:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self._call is not None and not self._call.done():
            self._call.cancel()  # left early (cancelled, or a stream no longer read)

    async def send_message(self, message: Any, *, end: bool = False) -> None:
        if self._channel.closed:
            raise ConnectionRefusedError("the channel is closed")
        self._call = self._method(bytes(message), timeout=self._timeout, metadata=self._metadata)

    async def recv_message(self) -> Any:
        try:
            data = await (self._call.read() if self._streaming else self._call)
        except grpc.aio.AioRpcError as error:
            raise _grpclib_error(error) from None
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._channel.closed and current is not None and not current.cancelling():
                raise StreamTerminatedError("the connection was closed") from None
            raise
        if data is grpc.aio.EOF:
            return None
        return decode(self._reply_type, data)  # fix 10

    def __aiter__(self) -> CoreCall:
        return self

    async def __anext__(self) -> Any:
        message = await self.recv_message()
        if message is None:
            raise StopAsyncIteration
        return message


def _grpclib_error(error: grpc.aio.AioRpcError) -> Exception:
    code, details = error.code(), error.details() or ""
    if code is grpc.StatusCode.UNAVAILABLE:
        if any(words in details for words in NEVER_CONNECTED):
            return ConnectionRefusedError(details)
        return StreamTerminatedError(details)  # the request may have reached the gateway
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return TimeoutError(details)
    return GRPCError(Status(code.value[0]), details or None)
