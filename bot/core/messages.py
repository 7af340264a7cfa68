"""Plain data at the edges: what came in from WeChat and what goes out.

Handlers see only these, never wechaty objects, so wechaty's quirks stay in bot/gateway.py.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from bot.core.store import LedgerKey


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


@dataclass(frozen=True)
class LinkCard:
    url: str
    title: str
    description: str = ""
    thumbnail: str = ""


# Reasons of messages whose failure is not reported to the admins: a failed report (or a
# reply to a command) would only fail again, or the person is told another way.
ADMIN_NOTICE = "admin notice"
COMMAND_REPLY = "command reply"
UNREPORTED = frozenset({ADMIN_NOTICE, COMMAND_REPLY})


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
