"""The simulator: a Wechaty puppet-service gateway over gRPC, backed by a `World`.

It behaves like the official gateway (npm wechaty-puppet-service 1.x) as python-wechaty sees it:
one event stream at a time, `login` then `ready` when a stream opens on a logged-in account,
scan events while logged out, the bot's own messages echoed back as `message` events, and
`Stop` ending the current event stream. Tests drive it in-process through the methods below.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from grpclib.const import Cardinality, Status
from grpclib.const import Handler as MethodHandler
from grpclib.exceptions import GRPCError
from grpclib.server import Stream
from wechaty_grpc.wechaty import puppet as pb

from bot.simulator.protocol import (
    Generation,
    Layout,
    MessageSendTextResponseV1,
    layouts,
    optional_value,
    reply_for,
)
from bot.simulator.transport import GatewayServer, MethodTable
from bot.simulator.world import IMAGE, TEXT, URL, ChatMessage, Room, World, new_message_id

log = logging.getLogger("bot.simulator")

EventType = pb.EventType
SCAN_WAITING = 2
SCAN_CONFIRMED = 4


@dataclass(frozen=True)
class SentMessage:
    """A text the bot sent (MessageSendText)."""

    conversation_id: str
    room_id: str | None  # None for a private chat
    text: str
    mention_ids: tuple[str, ...]
    message_id: str
    at: float  # time.monotonic() when the gateway received it
    kind: str = "text"  # "text", "file" (images and files: text is "[文件] name") or "url"


@dataclass(frozen=True)
class TranscriptLine:
    """One chat line, from a member or from the bot, for displays such as the terminal."""

    message: ChatMessage
    talker_name: str
    from_bot: bool
    room_topic: str | None  # None for a private chat
    private_with: str | None  # the member's id in a private chat with the bot
    mention_names: tuple[str, ...]


# The wechaty_grpc stubs ship no type information, so their messages are Any to mypy.
Reply = Any
_Waiter = tuple[Callable[[SentMessage], bool] | None, "asyncio.Future[SentMessage]"]
_END = None  # queued to end the event stream gracefully (Stop RPC)


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
        self.rpc_counts: Counter[str] = Counter()
        self._unclaimed: list[SentMessage] = []  # sent, not yet returned by wait_for_sent
        self._waiters: list[_Waiter] = []
        self._transcript: list[Callable[[TranscriptLine], None]] = []
        self._sent_listeners: list[Callable[[SentMessage], None]] = []
        self._awake = asyncio.Event()
        self._awake.set()
        self._connected = asyncio.Event()
        self._queue: asyncio.Queue[pb.EventResponse | None] | None = None
        self._scan_task: asyncio.Task[None] | None = None
        self._scan_count = 0
        self._qrcode = ""
        self._server: GatewayServer | None = None
        self._layouts = layouts(generation)

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
        server = GatewayServer(self._method_table(), self.token, self._wait_awake)
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
        self._close_stream()
        log.info("simulator on %s stopped", self.endpoint)

    def hang(self) -> None:
        """From now on RPCs and the event stream stop answering; nothing is closed."""
        self._awake.clear()

    def resume(self) -> None:
        self._awake.set()

    async def _wait_awake(self) -> None:
        await self._awake.wait()

    @property
    def hung(self) -> bool:
        return not self._awake.is_set()

    @property
    def connected(self) -> bool:
        """Whether a client has an event stream open."""
        return self._queue is not None

    async def wait_connected(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

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
        if room_id is not None:
            self._room(room_id, talker_id)
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

    async def emit_raw_event(self, event_type: int, payload_json: str) -> None:
        """Send any event as-is, e.g. 27 (DIRTY) or 4 (POST) the Python enum lacks."""
        self._emit_response(pb.EventResponse(type=event_type, payload=payload_json))

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
        self._cancel_scan()
        self.world.logged_in = True
        self._emit(EventType.EVENT_TYPE_SCAN, {"status": SCAN_CONFIRMED, "qrcode": self._qrcode})
        self._emit_login()

    async def logout(self) -> None:
        """The account is logged out (from the phone, or kicked): scan events start again."""
        if not self.world.logged_in:
            return
        self.world.logged_in = False
        self._emit(EventType.EVENT_TYPE_LOGOUT, {"contactId": self.world.bot_id, "data": "logout"})
        self._start_scan()

    # ----- internals: events -------------------------------------------------------------------

    def _emit(self, event_type: int, payload: dict[str, Any]) -> None:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        self._emit_response(pb.EventResponse(type=event_type, payload=text))

    def _emit_response(self, response: pb.EventResponse) -> None:
        if self._queue is None:
            log.debug("no event stream, dropped event %s", response.type)
            return
        self._queue.put_nowait(response)

    def _emit_login(self) -> None:
        self._emit(EventType.EVENT_TYPE_LOGIN, {"contactId": self.world.bot_id})
        self._emit(EventType.EVENT_TYPE_READY, {"data": "ready"})

    def _start_scan(self) -> None:
        if self._queue is not None and not self.world.logged_in and self._scan_task is None:
            self._scan_task = asyncio.get_running_loop().create_task(self._scan_loop())

    def _cancel_scan(self) -> None:
        if self._scan_task is not None:
            self._scan_task.cancel()
            self._scan_task = None

    async def _scan_loop(self) -> None:
        # A real puppet shows a fresh QR code whenever the previous one expires.
        while True:
            self._scan_count += 1
            self._qrcode = f"https://login.weixin.qq.com/l/sim-{self._scan_count}"
            self._emit(
                EventType.EVENT_TYPE_SCAN,
                {"status": SCAN_WAITING, "qrcode": self._qrcode, "data": ""},
            )
            await asyncio.sleep(self.scan_interval)

    def _close_stream(self) -> None:
        self._cancel_scan()
        self._queue = None
        self._connected.clear()

    def _record(self, message: ChatMessage) -> None:
        """Store a chat line, show it, and deliver it to the bot as a `message` event."""
        self.world.add_message(message)
        if self._transcript:
            self._show(message)
        self._emit(EventType.EVENT_TYPE_MESSAGE, {"messageId": message.id})

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
        for waiter in self._waiters:
            predicate, future = waiter
            if not future.done() and (predicate is None or predicate(sent)):
                self._waiters.remove(waiter)
                future.set_result(sent)
                return
        self._unclaimed.append(sent)

    def _room(self, room_id: str, member_id: str | None = None) -> Room:
        room = self.world.rooms.get(room_id)
        if room is None:
            raise GRPCError(Status.NOT_FOUND, f"room {room_id} not found")
        if member_id is not None and member_id not in room.member_ids:
            raise ValueError(f"{member_id} is not a member of {room_id}")
        return room

    # ----- internals: RPC handlers -------------------------------------------------------------

    def _method_table(self) -> MethodTable:
        unary: dict[str, tuple[Callable[[Any], Reply], type, type]] = {
            "Start": (self._start_rpc, pb.StartRequest, pb.StartResponse),
            "Stop": (self._stop_rpc, pb.StopRequest, pb.StopResponse),
            "Logout": (self._logout_rpc, pb.LogoutRequest, pb.LogoutResponse),
            "Ding": (self._ding, pb.DingRequest, pb.DingResponse),
            "Version": (self._version, pb.VersionRequest, pb.VersionResponse),
            "MessagePayload": (
                self._message_payload,
                pb.MessagePayloadRequest,
                pb.MessagePayloadResponse,
            ),
            "MessageSendText": (
                self._send_text,
                pb.MessageSendTextRequest,
                MessageSendTextResponseV1
                if self.generation == "1.x"
                else pb.MessageSendTextResponse,
            ),
            "MessageSendFile": (
                self._send_file, pb.MessageSendFileRequest, pb.MessageSendFileResponse),
            "MessageSendUrl": (
                self._send_url, pb.MessageSendUrlRequest, pb.MessageSendUrlResponse),
            "ContactPayload": (
                self._contact_payload,
                pb.ContactPayloadRequest,
                pb.ContactPayloadResponse,
            ),
            "ContactSelfQRCode": (
                self._self_qrcode,
                pb.ContactSelfQrCodeRequest,
                pb.ContactSelfQrCodeResponse,
            ),
            "ContactList": (self._contact_list, pb.ContactListRequest, pb.ContactListResponse),
            "RoomList": (self._room_list, pb.RoomListRequest, pb.RoomListResponse),
            "RoomPayload": (self._room_payload, pb.RoomPayloadRequest, pb.RoomPayloadResponse),
            "RoomMemberList": (
                self._member_list,
                pb.RoomMemberListRequest,
                pb.RoomMemberListResponse,
            ),
            "RoomMemberPayload": (
                self._member_payload,
                pb.RoomMemberPayloadRequest,
                pb.RoomMemberPayloadResponse,
            ),
            "DirtyPayload": (
                lambda _: pb.DirtyPayloadResponse(),
                pb.DirtyPayloadRequest,
                pb.DirtyPayloadResponse,
            ),
        }
        setters = {
            "RoomAnnounce": self._room_announce,
            "RoomTopic": self._room_topic,
            "ContactAlias": self._contact_alias,
        }
        for name, setter in setters.items():
            layout = self._layouts[name]
            unary[name] = (self._get_set(layout, setter), layout.request, layout.reply)

        table: MethodTable = {
            f"/wechaty.Puppet/{name}": MethodHandler(
                self._unary(name, fn), Cardinality.UNARY_UNARY, req, reply
            )
            for name, (fn, req, reply) in unary.items()
        }
        table["/wechaty.Puppet/Event"] = MethodHandler(
            self._event_stream, Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse
        )
        return table

    def _unary(self, name: str, fn: Callable[[Any], Reply]) -> Callable[[Stream[Any, Any]], Any]:
        async def handle(stream: Stream[Any, Any]) -> None:
            request = await stream.recv_message()
            await self._awake.wait()
            self.rpc_counts[name] += 1
            await stream.send_message(fn(request))

        return handle

    async def _event_stream(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        await self._awake.wait()
        self.rpc_counts["Event"] += 1
        if self._queue is not None:
            # The official gateway serves one event stream at a time.
            raise GRPCError(Status.ALREADY_EXISTS, "Event() can not be called twice")
        queue: asyncio.Queue[pb.EventResponse | None] = asyncio.Queue()
        self._queue = queue
        self._connected.set()
        log.info("event stream opened by %s", stream.peer.addr())
        try:
            await stream.send_initial_metadata()
            if self.world.logged_in:
                self._emit_login()
            else:
                self._start_scan()
            while (response := await queue.get()) is not _END:
                await self._awake.wait()
                await stream.send_message(response)
        finally:
            if self._queue is queue:
                self._close_stream()
            log.info("event stream closed")

    def _start_rpc(self, _: Any) -> Reply:
        return pb.StartResponse()

    def _stop_rpc(self, _: Any) -> Reply:
        # Like the official gateway: Stop ends the current event stream (the account stays
        # logged in; the puppet behind keeps its session).
        if self._queue is not None:
            self._queue.put_nowait(_END)
            self._close_stream()
        return pb.StopResponse()

    def _logout_rpc(self, _: Any) -> Reply:
        if self.world.logged_in:
            asyncio.get_running_loop().create_task(self.logout())
        return pb.LogoutResponse()

    def _ding(self, request: Any) -> Reply:
        self._emit(EventType.EVENT_TYPE_DONG, {"data": request.data})
        return pb.DingResponse()

    def _version(self, _: Any) -> Reply:
        return pb.VersionResponse(version=f"chamber-simulator/{self.generation}")

    def _message_payload(self, request: Any) -> Reply:
        message = self.world.messages.get(request.id)
        if message is None:
            raise GRPCError(Status.NOT_FOUND, f"message {request.id} not found")
        return pb.MessagePayloadResponse(
            id=message.id,
            text=message.text,
            timestamp=message.timestamp_ms,  # milliseconds, as the 1.x gateway sends
            type=message.type,
            from_id=message.talker_id,
            room_id=message.room_id,
            to_id=message.listener_id,
            mention_ids=list(message.mention_ids),
        )

    def _send_text(self, request: Any) -> Reply:
        world = self.world
        if not world.logged_in:
            raise GRPCError(Status.FAILED_PRECONDITION, "not logged in")
        conversation = request.conversation_id
        in_room = conversation in world.rooms
        if not in_room and conversation not in world.contacts:
            raise GRPCError(Status.NOT_FOUND, f"conversation {conversation} not found")
        message = ChatMessage(
            id=new_message_id(),
            talker_id=world.bot_id,
            text=request.text,
            room_id=conversation if in_room else "",
            listener_id="" if in_room else conversation,
            mention_ids=tuple(request.mentonal_ids),
        )
        self._sent(
            SentMessage(
                conversation_id=conversation,
                room_id=conversation if in_room else None,
                text=message.text,
                mention_ids=message.mention_ids,
                message_id=message.id,
                at=time.monotonic(),
            )
        )
        self._record(message)  # the bot's own message comes back as an event
        if self.generation == "1.x":
            return MessageSendTextResponseV1(id_string_value_deprecated=message.id, id=message.id)
        return pb.MessageSendTextResponse(id=message.id)

    def _send_file(self, request: Any) -> Reply:
        """A file or image: shown as "[文件] name" (its content is not kept)."""
        name = json.loads(request.filebox or "{}").get("name", "?")
        return pb.MessageSendFileResponse(
            id=self._send_other(request.conversation_id, "file", f"[文件] {name}", IMAGE))

    def _send_url(self, request: Any) -> Reply:
        """A link card: shown as "[链接] title url"."""
        card = json.loads(request.url_link or "{}")
        text = f"[链接] {card.get('title', '')} {card.get('url', '')}"
        return pb.MessageSendUrlResponse(
            id=self._send_other(request.conversation_id, "url", text, URL))

    def _send_other(self, conversation: str, kind: str, text: str, message_type: int) -> str:
        world = self.world
        if not world.logged_in:
            raise GRPCError(Status.FAILED_PRECONDITION, "not logged in")
        in_room = conversation in world.rooms
        if not in_room and conversation not in world.contacts:
            raise GRPCError(Status.NOT_FOUND, f"conversation {conversation} not found")
        message = ChatMessage(id=new_message_id(), talker_id=world.bot_id, text=text,
                              type=message_type, room_id=conversation if in_room else "",
                              listener_id="" if in_room else conversation)
        self._sent(SentMessage(conversation, conversation if in_room else None, text, (),
                               message.id, time.monotonic(), kind))
        self._record(message)
        return message.id

    def _contact_payload(self, request: Any) -> Reply:
        contact = self.world.contacts.get(request.id)
        if contact is None:
            raise GRPCError(Status.NOT_FOUND, f"contact {request.id} not found")
        return pb.ContactPayloadResponse(
            id=contact.id,
            gender=contact.gender,
            type=1,  # personal
            name=contact.name,
            alias=contact.alias,
            friend=contact.friend,
            weixin=contact.id,
        )

    def _self_qrcode(self, _: Any) -> Reply:
        return pb.ContactSelfQrCodeResponse(qrcode=f"https://u.wechat.com/sim/{self.world.bot_id}")

    def _contact_list(self, _: Any) -> Reply:
        return pb.ContactListResponse(ids=list(self.world.contacts))

    def _room_list(self, _: Any) -> Reply:
        return pb.RoomListResponse(ids=list(self.world.rooms))

    def _room_payload(self, request: Any) -> Reply:
        room = self._room(request.id)
        return pb.RoomPayloadResponse(
            id=room.id,
            topic=room.topic,
            owner_id=room.owner_id,
            admin_ids=list(room.admin_ids),
            member_ids=list(room.member_ids),
        )

    def _member_list(self, request: Any) -> Reply:
        return pb.RoomMemberListResponse(member_ids=list(self._room(request.id).member_ids))

    def _member_payload(self, request: Any) -> Reply:
        room = self._room(request.id)
        contact = self.world.contacts.get(request.member_id)
        if contact is None or contact.id not in room.member_ids:
            raise GRPCError(Status.NOT_FOUND, f"{request.member_id} is not in {room.id}")
        return pb.RoomMemberPayloadResponse(
            id=contact.id, name=contact.name, room_alias=room.member_aliases.get(contact.id, "")
        )

    def _get_set(
        self, layout: Layout, access: Callable[[str, str | None], str]
    ) -> Callable[[Any], Reply]:
        def handle(request: Any) -> Reply:
            value = optional_value(request, layout)
            current = access(request.id, value)
            return reply_for(layout, current if value is None else None)

        return handle

    def _room_announce(self, room_id: str, text: str | None) -> str:
        room = self._room(room_id)
        if text is not None:
            # WeChat lets only the owner and admins post a group announcement (群公告).
            if self.world.bot_id != room.owner_id and self.world.bot_id not in room.admin_ids:
                raise GRPCError(Status.PERMISSION_DENIED, "only the owner or an admin can")
            room.announce = text
        return room.announce

    def _room_topic(self, room_id: str, topic: str | None) -> str:
        room = self._room(room_id)
        if topic is not None:
            room.topic = topic
        return room.topic

    def _contact_alias(self, contact_id: str, alias: str | None) -> str:
        contact = self.world.contacts.get(contact_id)
        if contact is None:
            raise GRPCError(Status.NOT_FOUND, f"contact {contact_id} not found")
        if alias is not None:
            contact.alias = alias
        return contact.alias
