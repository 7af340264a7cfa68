"""Every workaround python-wechaty 0.10.7 needs, in one place. Import it before any wechaty module.

python-wechaty's last release (2022) no longer works as installed today. Each fix below is
named, says why, and has its own test in tests/test_wechaty_compat.py:

1. import on Python 3.11: `PuppetOptions` is used as a dataclass default and 3.11 rejects
   unhashable defaults; it gets a `__hash__` (pyee<9 and urllib3<2 are pinned in pyproject).
2. field drift: the 1.x gateway moved the optional strings of RoomAnnounce, RoomTopic and
   ContactAlias (requests: field 2 -> 3, replies: field 1 -> 2). We send and read both layouts,
   so `room.announce`, `room.topic(new)` and `contact.alias()` work on old and new gateways.
3. unknown message types: the client maps wire types through a 16-entry list and raises
   IndexError for the 1.x gateway's Post/System (16+); they become UNSPECIFIED instead.
4. deadlines: the stubs set no deadline, so a hung gateway blocks forever; every unary call
   gets one (the event stream stays open-ended; the gateway watchdog covers it).
5. connecting: `_init_puppet` pings the endpoint with a blocking telnetlib call (removed in
   Python 3.13) and may ask a public server for the endpoint; we connect directly.
6. gateway events: the 1.x gateway sends errors as {"gerror": ...}; python-wechaty required
   a `data` field and raised inside its event loop, which ended the event stream for good.
   Event payloads get defaults, and the error payload a `gerror` field. Any other event it
   cannot decode (not JSON, a field missing) is fixed or dropped first (event_check.py; its
   test: tests/test_faults_input_e2e.py).
7. logging: wechaty loggers install their own handlers, ignore the root logger and read an
   inverted WECHATY_LOG; they are routed into our logging at WARNING, and the line that
   prints the token in clear is not emitted.
8. transport: grpclib speaks HTTP/2 in pure Python (h2, hpack), which cost the bot more CPU
   per answer than the gateway spends, and h2 remembered 65,536 closed streams per connection
   (11 MB after some 30,000 answers). python-wechaty's stubs are served by grpcio's C core
   instead, its failures keeping grpclib's meaning (bot/wechat/core_channel.py).
9. Python 3.13: puppet-service (and the dev extra's wechaty) import `telnetlib`, removed in 3.13,
   only to ask whether anything listens on host:port. Where it is gone, a stand-in module asks
   with a plain socket; the bot itself never asks (fix 5).
10. replies: betterproto builds each reply field by field through its own setattr, ~80 µs a
   message; plain replies are decoded straight into the instance (bot/wechat/replies.py).
11. memory: pyee 8 (puppet-service's event emitter) imports trio wherever it is installed (the
   test tools bring it), 6 MB for a TrioEventEmitter nobody uses; its import is skipped.
12. memory: puppet-service imports grpclib's client, and with it grpclib's pure-Python HTTP/2
   (h2, hpack), only for the name of the channel class fix 8 replaces: 1.5 MB left unloaded.

What we avoid rather than patch: the `Wechaty` class (its plugin manager starts an APScheduler
with a job store in .wechaty/ and a web server on port 5000, reconnects with a hard-coded
60 s sleep and crashes after longer outages, and keeps every message id forever). The bot
drives `PuppetService`, python-wechaty's gRPC client, directly (bot/wechat/connection.py).
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace
from typing import Any, Optional

import betterproto
import wechaty_puppet.schemas.puppet as _puppet_schema

# Fix 1 must run before anything imports `wechaty` (WechatyOptions has a PuppetOptions default).
_puppet_schema.PuppetOptions.__hash__ = object.__hash__


# --- fix 9: telnetlib on Python 3.13 (before anything imports wechaty_puppet_service) -------


class TelnetStandIn:
    """telnetlib.Telnet as python-wechaty uses it: `Telnet().open(host, port=..., timeout=3)`
    connects, or raises OSError (socket.error) when nothing listens there."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None

    def open(self, host: str, port: int = 23, timeout: float | None = None) -> None:
        self.close()
        self.sock = socket.create_connection((host, port), timeout)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    __del__ = close  # as telnetlib's: the callers never close it


def _install_telnetlib_stand_in() -> None:
    try:
        import telnetlib  # noqa: F401  (3.11 and 3.12: deprecated, still there)
    except ModuleNotFoundError:
        stand_in = ModuleType("telnetlib", "Stand-in for the module Python 3.13 removed.")
        vars(stand_in)["Telnet"] = TelnetStandIn
        sys.modules["telnetlib"] = stand_in


_install_telnetlib_stand_in()

# --- fix 11: pyee without trio (before anything imports pyee) --------------------------------
# pyee's __init__ tries `from pyee._trio import TrioEventEmitter` and skips it on ImportError.
sys.modules.setdefault("pyee._trio", None)  # type: ignore[arg-type]

# --- fix 12: grpclib's HTTP/2 left unloaded (before anything imports wechaty_puppet_service) --
# puppet-service imports grpclib.client only to name the Channel class that fix 8 replaces;
# that import brings grpclib's pure-Python HTTP/2 (h2, hpack, hyperframe): 1.5 MB of a bot
# that never uses it. While puppet-service imports, the name is CoreChannel, which is what its
# channel is; afterwards `import grpclib.client` (the simulator, tests) gets the real module.
from bot.wechat.core_channel import CoreChannel  # noqa: E402

_naming_the_channel = "grpclib.client" not in sys.modules
if _naming_the_channel:
    _client_stand_in = ModuleType("grpclib.client", "Stand-in while puppet-service imports.")
    vars(_client_stand_in)["Channel"] = CoreChannel
    sys.modules["grpclib.client"] = _client_stand_in
try:
    import wechaty_puppet_service.puppet as _service
finally:
    if _naming_the_channel:
        del sys.modules["grpclib.client"]

from grpclib.const import Status  # noqa: E402
from grpclib.exceptions import GRPCError  # noqa: E402
from wechaty_grpc.wechaty import PuppetStub  # noqa: E402
from wechaty_grpc.wechaty.puppet import MessageType  # noqa: E402
from wechaty_puppet import FileBox, PuppetOptions  # noqa: E402
from wechaty_puppet.schemas.base import BaseDataClass  # noqa: E402
from wechaty_puppet_service import PuppetService  # noqa: E402
from wechaty_puppet_service.utils import extract_host_and_port  # noqa: E402

from bot.wechat.event_check import decodable  # noqa: E402

__all__ = [
    "FileBox",
    "MessageType",
    "PuppetService",
    "listen_for_events",
    "new_puppet",
    "open_session",
    "route_wechaty_logging",
]

WECHATY_LOGGER_PREFIXES = ("Wechaty", "PuppetService", "wechaty")


# --- fix 2: field drift ---------------------------------------------------------------
# Each message carries the old wrapped field and the new plain one; a gateway reads the
# layout it knows and ignores the other (unknown fields are skipped in protobuf). The new
# field is a proto3 `optional`, i.e. a one-field oneof: betterproto's `group` gives it
# presence, so clearing an announcement (setting "") still reads as a "set", not a "get".
# (typing.Optional, not `str | None`: betterproto 1.x inspects the hint with issubclass.)


@dataclass(eq=False, repr=False)
class OptionalStringRequest(betterproto.Message):
    """RoomAnnounce, RoomTopic and ContactAlias requests share this layout in both versions."""

    id: str = betterproto.string_field(1)
    value_old: Optional[str] = betterproto.message_field(2, wraps=betterproto.TYPE_STRING)
    value: str = betterproto.string_field(3, group="_value")

    def __bytes__(self) -> bytes:
        # betterproto 1.2.5 drops an empty string even when it is the chosen oneof member,
        # which would turn "clear the announcement" into "read it": put it back (tag 3, len 0).
        data = super().__bytes__()
        chosen, value = betterproto.which_one_of(self, "_value")
        return data + b"\x1a\x00" if chosen and value == "" else data

    SerializeToString = __bytes__  # the base class's alias would skip the override


@dataclass(eq=False, repr=False)
class OptionalStringReply(betterproto.Message):
    value_old: Optional[str] = betterproto.message_field(1, wraps=betterproto.TYPE_STRING)
    value: str = betterproto.string_field(2)


def _get_or_set(rpc: str, name: str) -> Callable[..., Awaitable[SimpleNamespace]]:
    """A stub method for `rpc` whose optional string argument (and reply field) is `name`."""

    async def call(self: PuppetStub, *, id: str = "", **value: str | None) -> SimpleNamespace:
        request = OptionalStringRequest(id=id)
        text = value.get(name)
        if text is not None:
            request.value_old = request.value = text
        reply = await self._unary_unary(f"/wechaty.Puppet/{rpc}", request, OptionalStringReply)
        return SimpleNamespace(**{name: reply.value or reply.value_old})

    return call


PuppetStub.room_announce = _get_or_set("RoomAnnounce", "text")
PuppetStub.room_topic = _get_or_set("RoomTopic", "topic")
PuppetStub.contact_alias = _get_or_set("ContactAlias", "alias")


async def _room_topic_get_or_set(
    self: PuppetService, room_id: str, new_topic: str | None = None
) -> str | None:
    # python-wechaty's room_topic() drops the reply, so a read returned None.
    reply = await self.puppet_stub.room_topic(id=room_id, topic=new_topic)
    return new_topic if new_topic is not None else reply.topic


PuppetService.room_topic = _room_topic_get_or_set  # type: ignore[method-assign,assignment]


# --- fix 3: message types the 16-entry list does not know --------------------------------

_original_map_message_type = _service._map_message_type


def _map_message_type_tolerant(payload: Any) -> Any:
    if isinstance(payload.type, int) and not 0 <= payload.type <= 15:
        payload.type = MessageType.MESSAGE_TYPE_UNSPECIFIED
        return payload
    return _original_map_message_type(payload)


_service._map_message_type = _map_message_type_tolerant  # type: ignore[assignment]


# --- fix 6: event payloads with missing or new fields ------------------------------------


@dataclass(init=False)
class EventErrorPayload(BaseDataClass):  # type: ignore[misc]
    data: str = ""
    gerror: str = ""  # what the 1.x gateway sends

    @property
    def message(self) -> str:
        return self.gerror or self.data


@dataclass(init=False)
class EventReadyPayload(BaseDataClass):  # type: ignore[misc]
    data: str = ""


@dataclass(init=False)
class EventDongPayload(BaseDataClass):  # type: ignore[misc]
    data: str = ""


# _listen_for_event looks these names up in its module at each event.
for _payload_class in (EventErrorPayload, EventReadyPayload, EventDongPayload):
    setattr(_service, _payload_class.__name__, _payload_class)


# --- fixes 4 and 5: deadlines, and connecting without telnetlib ----------------------------


class PuppetStubWithDeadlines(PuppetStub):  # type: ignore[misc]
    """Unary calls get a deadline; the long-lived event stream keeps none (and its events are
    checked before python-wechaty decodes them: fix 6)."""

    async def event(self) -> AsyncIterator[Any]:
        async for response in super().event():
            if (checked := decodable(response)) is not None:
                yield checked

    def __init__(self, channel: CoreChannel, rpc_timeout: float) -> None:
        super().__init__(channel)
        self.rpc_timeout = rpc_timeout

    async def _unary_unary(
        self, route: str, request: Any, response_type: Any, *, timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        return await super()._unary_unary(
            route, request, response_type, timeout=timeout or self.rpc_timeout, **kwargs
        )


def _init_puppet_directly(self: PuppetService) -> None:
    host, port = extract_host_and_port(self.options.end_point)
    # fix 8; the puppet-service protocol carries the token as the HTTP/2 :authority.
    channel = CoreChannel(host, port, authority=self.options.token)
    self.channel = channel  # type: ignore[assignment]  # grpclib's Channel, as python-wechaty sees it
    self._puppet_stub = PuppetStubWithDeadlines(channel, float(self.options.timeout or 10))


PuppetService._init_puppet = _init_puppet_directly  # type: ignore[method-assign]


async def open_session(puppet: PuppetService) -> None:
    """Connect and (re)start the puppet, as PuppetService.start() does, minus its event loop.

    PuppetService.start() also raised when the courtesy stop() failed even though start()
    then worked; only a rejected token is worth failing for there.
    """
    puppet._init_puppet()
    try:
        await puppet.puppet_stub.stop()
    except GRPCError as error:
        if error.status == Status.UNAUTHENTICATED:
            raise
    await puppet.puppet_stub.start()


async def listen_for_events(puppet: PuppetService) -> None:
    """python-wechaty's own event loop: decodes each event and emits it to the listeners."""
    await puppet._listen_for_event()


def new_puppet(endpoint: str, token: str, rpc_timeout: float) -> PuppetService:
    """A PuppetService for one connection attempt (it drops its listeners when stopped)."""
    options = PuppetOptions()
    options.end_point = endpoint
    options.token = token
    options.timeout = str(rpc_timeout)
    # Its constructor logs the token in clear at WARNING; tokens do not belong in logs.
    constructor_log = logging.getLogger("PuppetService")
    level = constructor_log.level
    constructor_log.setLevel(logging.ERROR)
    try:
        return PuppetService(options)
    finally:
        constructor_log.setLevel(level)


# --- fix 7: logging -----------------------------------------------------------------------


def route_wechaty_logging(level: int = logging.WARNING) -> None:
    """Send wechaty's loggers through the root logger, quietly (one line per RPC otherwise)."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.startswith(WECHATY_LOGGER_PREFIXES):
            logger.handlers.clear()
            logger.propagate = True
            logger.setLevel(level)


route_wechaty_logging()
