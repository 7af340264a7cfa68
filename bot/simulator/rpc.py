"""The gRPC method handlers: each `wechaty.Puppet` method the simulator answers, from its `World`.

Kept apart from the test-facing `Simulator`: this is the wire side (request in, reply out, the
generation-dependent layouts, gRPC status codes), and `PuppetMethods.table()` is the method
table `GatewayServer` serves. The handlers read and change the world, emit through the
`EventStream`, and hand what the bot sends back to the `Simulator` to record.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from grpclib.const import Cardinality, Status
from grpclib.const import Handler as MethodHandler
from grpclib.exceptions import GRPCError
from grpclib.server import Stream
from wechaty_grpc.wechaty import puppet as pb

from bot.simulator.events import EventStream, EventType
from bot.simulator.protocol import (
    Generation,
    Layout,
    MessageSendTextResponseV1,
    layouts,
    optional_value,
    reply_for,
)
from bot.simulator.requests import RequestCounts
from bot.simulator.transport import MethodTable
from bot.simulator.world import IMAGE, TEXT, URL, ChatMessage, Room, World, new_message_id

# The wechaty_grpc stubs ship no type information, so their messages are Any to mypy.
Reply = Any


def room_of(world: World, room_id: str) -> Room:
    room = world.rooms.get(room_id)
    if room is None:
        raise GRPCError(Status.NOT_FOUND, f"room {room_id} not found")
    return room


class Host(Protocol):
    """What the handlers read of the simulator that owns them."""

    world: World
    generation: Generation
    rpc_counts: Counter[str]  # answered
    requests: RequestCounts  # received, answered or not

    async def logout(self) -> None: ...


class PuppetMethods:
    """The handlers for one simulator; `table()` maps each gRPC path to its handler."""

    def __init__(
        self,
        sim: Host,
        events: EventStream,
        gate: Callable[[], Awaitable[None]],
        bot_said: Callable[[ChatMessage, str], None],
    ) -> None:
        self._sim = sim  # read for its world, generation and rpc_counts
        self._events = events
        self._gate = gate  # returns when the gateway is not hung
        self._bot_said = bot_said  # records a message the bot sent, of a kind ("text", ...)
        self._layouts = layouts(sim.generation)

    def table(self) -> MethodTable:
        v1 = self._sim.generation == "1.x"
        send_text_reply = MessageSendTextResponseV1 if v1 else pb.MessageSendTextResponse
        unary: dict[str, tuple[Callable[[Any], Reply], type, type]] = {
            "Start": (self._start, pb.StartRequest, pb.StartResponse),
            "Stop": (self._stop, pb.StopRequest, pb.StopResponse),
            "Logout": (self._logout, pb.LogoutRequest, pb.LogoutResponse),
            "Ding": (self._ding, pb.DingRequest, pb.DingResponse),
            "Version": (self._version, pb.VersionRequest, pb.VersionResponse),
            "MessagePayload": (
                self._message_payload, pb.MessagePayloadRequest, pb.MessagePayloadResponse),
            "MessageSendText": (self._send_text, pb.MessageSendTextRequest, send_text_reply),
            "MessageSendFile": (
                self._send_file, pb.MessageSendFileRequest, pb.MessageSendFileResponse),
            "MessageSendUrl": (
                self._send_url, pb.MessageSendUrlRequest, pb.MessageSendUrlResponse),
            "ContactPayload": (
                self._contact_payload, pb.ContactPayloadRequest, pb.ContactPayloadResponse),
            "ContactSelfQRCode": (
                self._self_qrcode, pb.ContactSelfQrCodeRequest, pb.ContactSelfQrCodeResponse),
            "ContactList": (self._contact_list, pb.ContactListRequest, pb.ContactListResponse),
            "RoomList": (self._room_list, pb.RoomListRequest, pb.RoomListResponse),
            "RoomPayload": (self._room_payload, pb.RoomPayloadRequest, pb.RoomPayloadResponse),
            "RoomMemberList": (
                self._member_list, pb.RoomMemberListRequest, pb.RoomMemberListResponse),
            "RoomMemberPayload": (
                self._member_payload, pb.RoomMemberPayloadRequest, pb.RoomMemberPayloadResponse),
            "DirtyPayload": (
                lambda _: pb.DirtyPayloadResponse(), pb.DirtyPayloadRequest, pb.DirtyPayloadResponse),
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
            self._event, Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse
        )
        return table

    def _unary(self, name: str, fn: Callable[[Any], Reply]) -> Callable[[Stream[Any, Any]], Any]:
        async def handle(stream: Stream[Any, Any]) -> None:
            request = await stream.recv_message()
            self._sim.requests.received(name)
            await self._gate()
            self._sim.rpc_counts[name] += 1
            await stream.send_message(fn(request))

        return handle

    async def _event(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        self._sim.requests.received("Event")
        await self._gate()
        self._sim.rpc_counts["Event"] += 1
        await self._events.serve(stream)

    # ----- session -----------------------------------------------------------------------------

    def _start(self, _: Any) -> Reply:
        return pb.StartResponse()

    def _stop(self, _: Any) -> Reply:
        # Like the official gateway: Stop ends the current event stream (the account stays
        # logged in; the puppet behind keeps its session).
        self._events.end()
        return pb.StopResponse()

    def _logout(self, _: Any) -> Reply:
        if self._sim.world.logged_in:
            asyncio.get_running_loop().create_task(self._sim.logout())
        return pb.LogoutResponse()

    def _ding(self, request: Any) -> Reply:
        self._events.emit(EventType.EVENT_TYPE_DONG, {"data": request.data})
        return pb.DingResponse()

    def _version(self, _: Any) -> Reply:
        return pb.VersionResponse(version=f"chamber-simulator/{self._sim.generation}")

    # ----- messages ----------------------------------------------------------------------------

    def _message_payload(self, request: Any) -> Reply:
        message = self._sim.world.messages.get(request.id)
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
        message_id = self._send(
            request.conversation_id, "text", request.text, TEXT, tuple(request.mentonal_ids)
        )
        if self._sim.generation == "1.x":
            return MessageSendTextResponseV1(id_string_value_deprecated=message_id, id=message_id)
        return pb.MessageSendTextResponse(id=message_id)

    def _send_file(self, request: Any) -> Reply:
        """A file or image: shown as "[文件] name" (its content is not kept)."""
        name = json.loads(request.filebox or "{}").get("name", "?")
        return pb.MessageSendFileResponse(
            id=self._send(request.conversation_id, "file", f"[文件] {name}", IMAGE))

    def _send_url(self, request: Any) -> Reply:
        """A link card: shown as "[链接] title url"."""
        card = json.loads(request.url_link or "{}")
        text = f"[链接] {card.get('title', '')} {card.get('url', '')}"
        return pb.MessageSendUrlResponse(
            id=self._send(request.conversation_id, "url", text, URL))

    def _send(
        self, conversation: str, kind: str, text: str, message_type: int,
        mention_ids: tuple[str, ...] = (),
    ) -> str:
        """The bot says `text` in a room or a private chat; returns the new message id."""
        world = self._sim.world
        if not world.logged_in:
            raise GRPCError(Status.FAILED_PRECONDITION, "not logged in")
        in_room = conversation in world.rooms
        if not in_room and conversation not in world.contacts:
            raise GRPCError(Status.NOT_FOUND, f"conversation {conversation} not found")
        message = ChatMessage(
            id=new_message_id(),
            talker_id=world.bot_id,
            text=text,
            type=message_type,
            room_id=conversation if in_room else "",
            listener_id="" if in_room else conversation,
            mention_ids=mention_ids,
        )
        self._bot_said(message, kind)
        return message.id

    # ----- contacts and rooms ------------------------------------------------------------------

    def _contact_payload(self, request: Any) -> Reply:
        contact = self._sim.world.contacts.get(request.id)
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
        bot_id = self._sim.world.bot_id
        return pb.ContactSelfQrCodeResponse(qrcode=f"https://u.wechat.com/sim/{bot_id}")

    def _contact_list(self, _: Any) -> Reply:
        return pb.ContactListResponse(ids=list(self._sim.world.contacts))

    def _room_list(self, _: Any) -> Reply:
        return pb.RoomListResponse(ids=list(self._sim.world.rooms))

    def _room_payload(self, request: Any) -> Reply:
        room = room_of(self._sim.world, request.id)
        return pb.RoomPayloadResponse(
            id=room.id,
            topic=room.topic,
            owner_id=room.owner_id,
            admin_ids=list(room.admin_ids),
            member_ids=list(room.member_ids),
        )

    def _member_list(self, request: Any) -> Reply:
        room = room_of(self._sim.world, request.id)
        return pb.RoomMemberListResponse(member_ids=list(room.member_ids))

    def _member_payload(self, request: Any) -> Reply:
        room = room_of(self._sim.world, request.id)
        contact = self._sim.world.contacts.get(request.member_id)
        if contact is None or contact.id not in room.member_ids:
            raise GRPCError(Status.NOT_FOUND, f"{request.member_id} is not in {room.id}")
        return pb.RoomMemberPayloadResponse(
            id=contact.id, name=contact.name, room_alias=room.member_aliases.get(contact.id, "")
        )

    # ----- get/set RPCs (wire layout depends on the gateway generation) ------------------------

    def _get_set(
        self, layout: Layout, access: Callable[[str, str | None], str]
    ) -> Callable[[Any], Reply]:
        def handle(request: Any) -> Reply:
            value = optional_value(request, layout)
            current = access(request.id, value)
            return reply_for(layout, current if value is None else None)

        return handle

    def _room_announce(self, room_id: str, text: str | None) -> str:
        world = self._sim.world
        room = room_of(world, room_id)
        if text is not None:
            # WeChat lets only the owner and admins post a group announcement (群公告).
            if world.bot_id != room.owner_id and world.bot_id not in room.admin_ids:
                raise GRPCError(Status.PERMISSION_DENIED, "only the owner or an admin can")
            room.announce = text
        return room.announce

    def _room_topic(self, room_id: str, topic: str | None) -> str:
        room = room_of(self._sim.world, room_id)
        if topic is not None:
            room.topic = topic
        return room.topic

    def _contact_alias(self, contact_id: str, alias: str | None) -> str:
        contact = self._sim.world.contacts.get(contact_id)
        if contact is None:
            raise GRPCError(Status.NOT_FOUND, f"contact {contact_id} not found")
        if alias is not None:
            contact.alias = alias
        return contact.alias
