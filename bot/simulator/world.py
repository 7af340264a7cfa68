"""The simulated WeChat world: the bot account, people, groups and every message said.

Pure data, no networking: the server reads and changes it, tests build their own variants.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field

# Message type numbers as the TypeScript puppet puts them on the wire (python-wechaty remaps
# them through its 16-entry list; the 1.x gateway also sends 16+, so any int is accepted).
TEXT = 7
EMOTICON = 5
IMAGE = 6
TRANSFER = 11
RED_ENVELOPE = 12
RECALLED = 13
URL = 14
VIDEO = 15

# Separator WeChat puts after an @name (U+2005 FOUR-PER-EM SPACE).
MENTION_SEP = "\u2005"

# python-wechaty drops any message id it has seen before, process-wide and forever. A random
# run prefix keeps ids unique even when a standalone simulator restarts under a running bot;
# the module-level counter keeps them unique across Simulator instances and server restarts.
_RUN = secrets.token_hex(3)
_counter = itertools.count(1)


def new_message_id() -> str:
    return f"sim{_RUN}-{next(_counter)}"


@dataclass
class Contact:
    id: str
    name: str
    role: str = ""  # shown by the terminal's member list (会长, 秘书长, 管理员 ...)
    alias: str = ""  # the bot account's remark (备注) for this person
    gender: int = 1  # ContactGender: 1 male, 2 female
    friend: bool = True


@dataclass
class Room:
    id: str
    topic: str
    owner_id: str
    member_ids: list[str]
    admin_ids: list[str] = field(default_factory=list)
    announce: str = ""
    short_name: str = ""  # what the terminal accepts in `/群 <name>`
    member_aliases: dict[str, str] = field(default_factory=dict)  # 群昵称


@dataclass
class ChatMessage:
    id: str
    talker_id: str
    text: str
    type: int = TEXT
    room_id: str = ""  # '' for a private chat
    listener_id: str = ""  # the receiver of a private chat, '' in a room
    mention_ids: tuple[str, ...] = ()
    timestamp_ms: int = field(default_factory=lambda: int(time.time() * 1000))


@dataclass
class World:
    """Everything the simulator knows; survives `Simulator.stop()`/`start()`."""

    bot_id: str
    contacts: dict[str, Contact]
    rooms: dict[str, Room]
    logged_in: bool = True
    messages: dict[str, ChatMessage] = field(default_factory=dict)

    @property
    def bot(self) -> Contact:
        return self.contacts[self.bot_id]

    def name_of(self, contact_id: str) -> str:
        contact = self.contacts.get(contact_id)
        return contact.name if contact else contact_id

    def find_room(self, key: str) -> Room | None:
        """A room by id, topic, short name, or a unique part of the topic."""
        if key in self.rooms:
            return self.rooms[key]
        exact = [r for r in self.rooms.values() if key in (r.topic, r.short_name)]
        if exact:
            return exact[0]
        partial = [r for r in self.rooms.values() if key and key in r.topic]
        return partial[0] if len(partial) == 1 else None

    def add_message(self, message: ChatMessage) -> None:
        self.messages[message.id] = message

    @classmethod
    def presidents_group(cls) -> World:
        """The default world: the chamber's presidents' group and a small tea-talk group."""
        people = [
            Contact("wxid_chamber_bot", "商会小助手", role="机器人"),
            Contact("wxid_president_yi", "伊会长", role="会长"),
            Contact("wxid_secretary_liu", "刘秘书长", role="秘书长"),
            Contact("wxid_admin_wang", "王管理员", role="管理员", gender=2),
            Contact("wxid_vp_001", "朱会长", role="副会长"),
            Contact("wxid_vp_002", "黄会长", role="副会长"),
            Contact("wxid_vp_003", "周会长", role="副会长"),
            Contact("wxid_vp_004", "张会长", role="副会长"),
            Contact("wxid_vp_005", "李会长", role="副会长"),
        ]
        bot_id = people[0].id
        presidents = Room(
            id="presidents@chatroom",
            topic="山西省山东商会会长官方群",
            owner_id=bot_id,
            member_ids=[p.id for p in people],
            admin_ids=["wxid_admin_wang"],
            short_name="会长群",
        )
        tea = Room(
            id="tea@chatroom",
            topic="鲁商老乡茶话会",
            owner_id="wxid_vp_001",
            member_ids=[bot_id, "wxid_vp_001", "wxid_vp_002"],
            short_name="茶话会",
        )
        return cls(
            bot_id=bot_id,
            contacts={p.id: p for p in people},
            rooms={presidents.id: presidents, tea.id: tea},
        )
