"""Plain data at the edges: what came in from WeChat, what goes out, and the connection's state.

Everything outside bot/wechat/ sees only these, never wechaty objects, so the client's quirks
and its transport stay in that one package.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.core.store import LedgerKey

MENTION_ALL = "notify@all"  # the id WeChat uses for @所有人
MENTION_SEPARATOR = "\u2005"  # WeChat puts a four-per-em space after each @name


class State(enum.Enum):
    """The connection to WeChat, as people and the health check see it."""

    STARTING = "starting"
    CONNECTING = "connecting"
    WAITING_FOR_SCAN = "waiting for a QR scan"
    LOGGED_IN = "logged in"
    LOGGED_OUT = "logged out"
    DISCONNECTED = "disconnected"
    TOKEN_REJECTED = "token rejected"
    STOPPED = "stopped"


class MessageKind(enum.Enum):
    TEXT = "text"
    STICKER = "sticker"
    IMAGE = "image"
    RED_ENVELOPE = "red_envelope"
    TRANSFER = "transfer"
    URL = "url"
    RECALLED = "recalled"
    OTHER = "other"


@dataclass(frozen=True)
class Incoming:
    message_id: str
    talker_id: str
    text: str
    kind: MessageKind
    time: datetime
    room_id: str | None = None
    mention_ids: tuple[str, ...] = ()
    mentions_bot: bool = False

    @property
    def chat_id(self) -> str:
        """Where a reply goes: the group, or the talker in a private chat."""
        return self.room_id or self.talker_id

    @property
    def in_group(self) -> bool:
        return self.room_id is not None


class OutKind(enum.Enum):
    TEXT = "text"
    IMAGE = "image"
    LINK = "link"
    ANNOUNCEMENT = "announcement"  # the group announcement (群公告)


class LinkCard(BaseModel):
    """A link card after a post's text (a post file's [link] table, validated there)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: Annotated[str, Field(pattern=r"^https?://")]
    title: Annotated[str, Field(min_length=1)]
    description: str = ""
    thumbnail: str = ""


# Reasons of messages whose failure is not reported to the admins: a failed report (or a
# reply to a command) would only fail again, or the person is told another way.
ADMIN_NOTICE = "admin notice"
COMMAND_REPLY = "command reply"
UNREPORTED = frozenset({ADMIN_NOTICE, COMMAND_REPLY})


class Priority(enum.IntEnum):
    """Which queued message goes first: a flood of members' questions must not delay the
    secretary's announcement (lower goes first; equal ones in the order queued)."""

    POST = 0  # announcements, scheduled posts, thanks: the group is waiting
    STAFF = 1  # answers and notices to the secretaries and admins
    MEMBER = 2  # answers to members: limited, and dropped when stale


@dataclass(frozen=True)
class Outgoing:
    chat_id: str
    text: str = ""
    mention_ids: tuple[str, ...] = ()
    # Who or what asked for it, for the log and for failure reports.
    reason: str = ""
    kind: OutKind = OutKind.TEXT
    image_path: str = ""
    link: LinkCard | None = None
    # Set for post parts: the send ledger keeps them from ever going out twice.
    ledger: LedgerKey | None = None
    priority: Priority = Priority.POST
    expires_after: float | None = None  # seconds in the queue after which it is not worth sending
    # While the gateway is away a message waits for it: a post part until this time.time()
    # (the end of its run's grace), then it is given up; None: until the gateway is back.
    send_by: float | None = None


class People(Protocol):
    """Who is who in WeChat, by id (names are for display only)."""

    @property
    def self_id(self) -> str: ...  # the bot's own account

    async def member_name(self, room_id: str, contact_id: str) -> str: ...

    async def contact_name(self, contact_id: str) -> str: ...

    async def room_member_ids(self, room_id: str) -> list[str]: ...
