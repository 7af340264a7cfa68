"""The test-facing `Simulator`: a Wechaty puppet-service gateway over gRPC, backed by a `World`.

It behaves like the official gateway (npm wechaty-puppet-service 1.x) as python-wechaty sees it:
one event stream at a time, `login` then `ready` when a stream opens on a logged-in account,
scan events while logged out, the bot's own messages echoed back as `message` events, and
`Stop` ending the current event stream. Tests drive it in-process through the methods below.

This module holds what tests use: lifecycle (start/stop/hang), members speaking, login, faults
(hang for a while, raw events, unchecked messages), and the records of what the bot sent and of
every chat line (lines.py). The gRPC method handlers live in `rpc.py`, the event stream and
scan loop in `events.py`, the count of requests received (hung or not) in `requests.py`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable

from wechaty_grpc.wechaty import puppet as pb

from bot.simulator.events import EventStream, EventType
from bot.simulator.lines import SentMessage, TranscriptLine
from bot.simulator.protocol import Generation
from bot.simulator.requests import RequestCounts
from bot.simulator.rpc import PuppetMethods, room_of
from bot.simulator.transport import GatewayServer
from bot.simulator.world import TEXT, ChatMessage, World, new_message_id

log = logging.getLogger("bot.simulator")


_Waiter = tuple[Callable[[SentMessage], bool] | None, "asyncio.Future[SentMessage]"]


class Simulator:
    def __init__(
        self,
        world: World | None = None,
        *,
        token: str = "sim-token",
        host: str = "127.0.0.1",
        port: int = 0,
        generation: Generation = "1.x",
        require_scan: bool = False,
        scan_interval: float = 30.0,
    ) -> None:
        self.world = world if world is not None else World.presidents_group()
        if require_scan:
            self.world.logged_in = False
        self.token = token
        self.host = host
        self.port = port  # 0 until the first start() picks one; then kept for restarts
        self.generation = generation
        self.scan_interval = scan_interval
        self.sent: list[SentMessage] = []
        self.rpc_counts: Counter[str] = Counter()  # requests answered, by method
        self.requests = RequestCounts()  # received, answered or not: `requests.wait_for(...)`
        self._resume_later: asyncio.TimerHandle | None = None
        self._unclaimed: list[SentMessage] = []  # sent, not yet returned by wait_for_sent
        self._waiters: list[_Waiter] = []
        self._transcript: list[Callable[[TranscriptLine], None]] = []
        self._sent_listeners: list[Callable[[SentMessage], None]] = []
        self._awake = asyncio.Event()
        self._awake.set()
        self._server: GatewayServer | None = None
        self._events = EventStream(self, self._wait_awake)
        self._methods = PuppetMethods(self, self._events, self._wait_awake, self._bot_said)

    # ----- lifecycle ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Listen (again) on the same port. A restarted gateway is never hung."""
        if self._server is not None:
            raise RuntimeError("simulator already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family)  # sets SO_REUSEADDR
        self.port = sock.getsockname()[1]
        self._awake.set()
        server = GatewayServer(self._methods.table(), self.token, self._wait_awake)
        await server.start(sock=sock)
        self._server = server
        log.info("simulator listening on %s (gateway %s)", self.endpoint, self.generation)

    async def stop(self) -> None:
        """Stop like a killed process: connections dropped, streams cut. The world is kept."""
        server, self._server = self._server, None
        if server is None:
            return
        server.kill()
        await server.wait_closed()
        self._events.close()
        log.info("simulator on %s stopped", self.endpoint)

    def hang(self) -> None:
        """From now on RPCs and the event stream stop answering; nothing is closed."""
        self._awake.clear()

    def hang_for(self, seconds: float) -> None:
        """A fault of a given length: hung now, answering again `seconds` later."""
        self.hang()
        self._resume_later = asyncio.get_running_loop().call_later(seconds, self.resume)

    def resume(self) -> None:
        if self._resume_later is not None:
            self._resume_later.cancel()
            self._resume_later = None
        self._awake.set()

    async def _wait_awake(self) -> None:
        await self._awake.wait()

    @property
    def hung(self) -> bool:
        return not self._awake.is_set()

    @property
    def connected(self) -> bool:
        """Whether a client has an event stream open."""
        return self._events.is_open

    async def wait_connected(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._events.opened.wait(), timeout)

    async def wait_disconnected(self, timeout: float = 5.0) -> None:
        """Until no client has an event stream open (e.g. the bot's process was killed)."""
        await asyncio.wait_for(self._events.closed.wait(), timeout)

    # ----- the world speaks --------------------------------------------------------------------

    async def say(
        self,
        talker_id: str,
        text: str,
        room_id: str | None = None,
        mention_ids: Iterable[str] = (),
        message_type: int = TEXT,
    ) -> str:
        """A member says `text` in `room_id`, or privately to the bot when `room_id` is None.

        The text is sent as given: to @someone, put "@名字" plus U+2005 in it as WeChat does,
        and their id in `mention_ids`. Returns the new message id. Without an open event stream
        the message is dropped, as the official gateway drops events nobody listens to.
        """
        world = self.world
        if talker_id not in world.contacts:
            raise ValueError(f"unknown contact {talker_id!r}")
        if not world.logged_in:
            raise RuntimeError("the bot account is logged out: nobody receives messages")
        if room_id is not None and talker_id not in room_of(world, room_id).member_ids:
            raise ValueError(f"{talker_id} is not a member of {room_id}")
        message = ChatMessage(
            id=new_message_id(),
            talker_id=talker_id,
            text=text,
            type=message_type,
            room_id=room_id or "",
            listener_id="" if room_id else world.bot_id,
            mention_ids=tuple(mention_ids),
        )
        self._record(message)
        return message.id

    async def wait_for_sent(
        self,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        """The oldest message the bot sent that matches and no earlier call has returned.

        Raises TimeoutError when none arrives within `timeout` seconds.
        """
        for index, sent in enumerate(self._unclaimed):
            if predicate is None or predicate(sent):
                del self._unclaimed[index]
                return sent
        future: asyncio.Future[SentMessage] = asyncio.get_running_loop().create_future()
        waiter: _Waiter = (predicate, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def deliver(self, message: ChatMessage) -> None:
        """A chat line exactly as given, unchecked (a talker nobody knows, an empty or huge
        text, any type or timestamp): what a gateway may hand over. `say()` is what people do."""
        self._record(message)

    async def emit_raw_event(self, event_type: int, payload_json: str) -> None:
        """Send any event as-is, e.g. 27 (DIRTY) or 4 (POST) the Python enum lacks."""
        self._events.emit_response(pb.EventResponse(type=event_type, payload=payload_json))

    def on_transcript(self, callback: Callable[[TranscriptLine], None]) -> Callable[[], None]:
        """Call `callback` for every chat line; returns a function that unsubscribes."""
        self._transcript.append(callback)
        return lambda: self._transcript.remove(callback)

    def on_sent(self, callback: Callable[[SentMessage], None]) -> Callable[[], None]:
        """Call `callback` for every message the bot sends; returns a function that unsubscribes."""
        self._sent_listeners.append(callback)
        return lambda: self._sent_listeners.remove(callback)

    # ----- login -------------------------------------------------------------------------------

    def confirm_scan(self) -> None:
        """The account owner scans the QR code and confirms on the phone."""
        if self.world.logged_in:
            return
        self._events.cancel_scan()
        self.world.logged_in = True
        self._events.emit_scan_confirmed()
        self._events.emit_login()

    async def logout(self) -> None:
        """The account is logged out (from the phone, or kicked): scan events start again."""
        if not self.world.logged_in:
            return
        self.world.logged_in = False
        self._events.emit(
            EventType.EVENT_TYPE_LOGOUT, {"contactId": self.world.bot_id, "data": "logout"}
        )
        self._events.start_scan()

    # ----- internals: records -----------------------------------------------------------------

    def _record(self, message: ChatMessage) -> None:
        """Store a chat line, show it, and deliver it to the bot as a `message` event."""
        self.world.add_message(message)
        if self._transcript:
            self._show(message)
        self._events.emit(EventType.EVENT_TYPE_MESSAGE, {"messageId": message.id})

    def _show(self, message: ChatMessage) -> None:
        world = self.world
        room = world.rooms.get(message.room_id)
        from_bot = message.talker_id == world.bot_id
        line = TranscriptLine(
            message=message,
            talker_name=world.name_of(message.talker_id),
            from_bot=from_bot,
            room_topic=room.topic if room else None,
            private_with=None if room else (message.listener_id if from_bot else message.talker_id),
            mention_names=tuple(world.name_of(i) for i in message.mention_ids),
        )
        for callback in list(self._transcript):
            try:
                callback(line)
            except Exception:  # a broken display must not break the gateway
                log.exception("transcript callback failed")

    def _sent(self, sent: SentMessage) -> None:
        self.sent.append(sent)
        for callback in list(self._sent_listeners):
            try:
                callback(sent)
            except Exception:  # a broken listener must not break the gateway
                log.exception("sent callback failed")
        # Tests get it once the RPC that sent it has answered: one that kills the gateway as
        # soon as it sees a part must not cut that answer off (Python 3.12+ wakes a waiter
        # before the answer is written; 3.11's wait_for happened to take longer).
        rpc = asyncio.current_task()
        if rpc is None:
            self._claimable(sent)
        else:
            rpc.add_done_callback(lambda _: self._claimable(sent))

    def _claimable(self, sent: SentMessage) -> None:
        for waiter in self._waiters:
            predicate, future = waiter
            if not future.done() and (predicate is None or predicate(sent)):
                self._waiters.remove(waiter)
                future.set_result(sent)
                return
        self._unclaimed.append(sent)

    def _bot_said(self, message: ChatMessage, kind: str) -> None:
        """The bot sent `message` (through an RPC): record it, then echo it back as an event."""
        self._sent(
            SentMessage(
                conversation_id=message.room_id or message.listener_id,
                room_id=message.room_id or None,
                text=message.text,
                mention_ids=message.mention_ids,
                message_id=message.id,
                at=time.monotonic(),
                kind=kind,
            )
        )
        self._record(message)  # the bot's own message comes back as an event
