"""Wire layouts for the RPCs whose field numbers drifted between gateway generations.

The installed stubs (wechaty-grpc 0.20, "0.x") carry an optional string as a wrapped
StringValue: field 2 in requests, field 1 in replies. The 1.x gateway (wechaty-grpc 1.x, today's
official one) reads a proto3 `optional string` at field 3 and answers a plain string at field 2.

betterproto 1.x has no proto3 `optional`, but proto3 implements it as a one-field oneof, and
betterproto tracks which member of a oneof group was set (and serializes it even when empty),
so `group=` gives exactly the presence semantics the 1.x gateway relies on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Optional

import betterproto
from wechaty_grpc.wechaty import puppet as pb

Generation = Literal["0.x", "1.x"]
GENERATIONS: tuple[Generation, ...] = ("0.x", "1.x")


class _OptionalAt3(betterproto.Message):
    """A 1.x request whose field 3 is a proto3 `optional string` (oneof group `_<name>`).

    betterproto 1.2.5 leaves an empty string off the wire even when it is the chosen member of
    a oneof, which would turn "set to ''" into "get"; this puts it back (tag 3, length 0).
    """

    _group: ClassVar[str]

    def __bytes__(self) -> bytes:
        data = super().__bytes__()
        name, value = betterproto.which_one_of(self, self._group)
        return data + b"\x1a\x00" if name and value == "" else data

    SerializeToString = __bytes__  # the base class alias would skip the override


@dataclass(eq=False, repr=False)
class RoomAnnounceRequestV1(_OptionalAt3):
    id: str = betterproto.string_field(1)
    text: str = betterproto.string_field(3, group="_text")
    _group = "_text"


@dataclass(eq=False, repr=False)
class RoomAnnounceResponseV1(betterproto.Message):
    text: str = betterproto.string_field(2)


@dataclass(eq=False, repr=False)
class RoomTopicRequestV1(_OptionalAt3):
    id: str = betterproto.string_field(1)
    topic: str = betterproto.string_field(3, group="_topic")
    _group = "_topic"


@dataclass(eq=False, repr=False)
class RoomTopicResponseV1(betterproto.Message):
    topic: str = betterproto.string_field(2)


@dataclass(eq=False, repr=False)
class ContactAliasRequestV1(_OptionalAt3):
    id: str = betterproto.string_field(1)
    alias: str = betterproto.string_field(3, group="_alias")
    _group = "_alias"


@dataclass(eq=False, repr=False)
class ContactAliasResponseV1(betterproto.Message):
    alias: str = betterproto.string_field(2)


@dataclass(eq=False, repr=False)
class MessageSendTextResponseV1(betterproto.Message):
    # The 1.x gateway fills both: the deprecated wrapper (what python-wechaty reads) and field 2.
    # typing.Optional, not `str | None`: betterproto 1.x inspects the hint with issubclass().
    id_string_value_deprecated: Optional[str] = betterproto.message_field(
        1, wraps=betterproto.TYPE_STRING
    )
    id: str = betterproto.string_field(2)


@dataclass(frozen=True)
class Layout:
    """Request/reply classes of the get/set RPCs, and the name of their optional field."""

    request: type[betterproto.Message]
    reply: type[betterproto.Message]
    field: str


def layouts(generation: Generation) -> dict[str, Layout]:
    """RPC name -> layout, for the three get/set RPCs whose wire format depends on generation."""
    if generation == "1.x":
        return {
            "RoomAnnounce": Layout(RoomAnnounceRequestV1, RoomAnnounceResponseV1, "text"),
            "RoomTopic": Layout(RoomTopicRequestV1, RoomTopicResponseV1, "topic"),
            "ContactAlias": Layout(ContactAliasRequestV1, ContactAliasResponseV1, "alias"),
        }
    return {
        "RoomAnnounce": Layout(pb.RoomAnnounceRequest, pb.RoomAnnounceResponse, "text"),
        "RoomTopic": Layout(pb.RoomTopicRequest, pb.RoomTopicResponse, "topic"),
        "ContactAlias": Layout(pb.ContactAliasRequest, pb.ContactAliasResponse, "alias"),
    }


def optional_value(request: betterproto.Message, layout: Layout) -> str | None:
    """The optional string of a get/set request: None means "get"."""
    if isinstance(request, _OptionalAt3):
        name, value = betterproto.which_one_of(request, request._group)
        return str(value) if name else None
    value = getattr(request, layout.field)  # 0.x: a wrapped StringValue, None when absent
    return None if value is None else str(value)


def reply_for(layout: Layout, value: str | None) -> betterproto.Message:
    """A reply carrying `value` (a "get"), or the empty reply the gateway gives to a "set"."""
    reply = layout.reply()
    if value is not None:
        setattr(reply, layout.field, value)
    return reply
