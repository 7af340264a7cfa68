"""What the bot does in WeChat through the connection: send, look people and groups up.

Every failure leaves here in the core's words: `NotSent` when the gateway surely did not act
(not logged in, the gateway busy, WeChat refusing), `MaybeSent` when it may have (it took the
request but did not answer in time). The outbox decides from those alone; no grpclib status
code or wechaty exception travels further.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError

from bot.core.cache import BoundedCache
from bot.core.errors import MaybeSent, NotSent
from bot.core.messages import MENTION_ALL, MENTION_SEPARATOR, Outgoing, OutKind
from bot.wechat import compat
from bot.wechat.connection import Connection

log = logging.getLogger(__name__)

# Statuses that mean the gateway did not act on the request.
NOT_ACTED_ON = {Status.UNAVAILABLE, Status.RESOURCE_EXHAUSTED, Status.ABORTED}
NAMES_KEPT = 5_000
MAX_PICTURE_BYTES = 10 * 2**20


@contextmanager
def _translated(what: str, changes_wechat: bool = True) -> Iterator[None]:
    """The transport's errors as NotSent / MaybeSent, the original kept as the cause. A call
    that only reads (`changes_wechat=False`) failed with nothing done, whatever the error."""
    try:
        yield
    except (NotSent, MaybeSent):
        raise
    except (GRPCError, OSError, TimeoutError, StreamTerminatedError) as error:
        reason = f"{what}: {error}".rstrip(": ")
        acted_on = not isinstance(error, ConnectionRefusedError) and not (
            isinstance(error, GRPCError) and error.status in NOT_ACTED_ON)
        if changes_wechat and acted_on:
            raise MaybeSent(reason) from error
        raise NotSent(reason) from error


class Actions:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.logged_in = connection.logged_in
        self._names: BoundedCache[tuple[str, str], str] = BoundedCache(NAMES_KEPT)

    @property
    def self_id(self) -> str:
        return self.connection.self_id

    async def deliver(self, message: Outgoing) -> str:
        """Send one outgoing message; returns the gateway's message id ('' if it gives none)."""
        if message.kind is OutKind.ANNOUNCEMENT:
            await self.set_announcement(message.chat_id, message.text)
            return ""
        if message.kind is OutKind.TEXT:
            text = await self._with_mentions(message.chat_id, message.text, message.mention_ids)
        puppet = self.connection.puppet()
        if message.kind is OutKind.IMAGE:
            file_box = self._picture(message.image_path)
        with _translated(f"send to {message.chat_id}"):
            if message.kind is OutKind.TEXT:
                message_id = await puppet.message_send_text(
                    message.chat_id, text, list(message.mention_ids) or None)
            elif message.kind is OutKind.IMAGE:
                message_id = await puppet.message_send_file(message.chat_id, file_box)
            elif message.kind is OutKind.LINK and message.link is not None:
                card = {"url": message.link.url, "title": message.link.title,
                        "description": message.link.description,
                        "thumbnailUrl": message.link.thumbnail}
                message_id = await puppet.message_send_url(message.chat_id, json.dumps(card))
            else:
                raise NotSent(f"nothing to send in {message!r}", retryable=False)
        self.connection.remember_sent(str(message_id or ""))
        return str(message_id or "")

    @staticmethod
    def _picture(path: str) -> compat.FileBox:
        """The file, read only if it is a regular file of a picture's size: never a device
        such as /dev/zero, whatever asked for it. Nothing reached the gateway otherwise."""
        try:
            status = os.stat(path)
            if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_PICTURE_BYTES:
                raise NotSent(f"图片不是普通文件或超过 {MAX_PICTURE_BYTES // 2**20} MB：{path}",
                              retryable=False)
            return compat.FileBox.from_file(path)
        except OSError as error:  # reading again will not help
            raise NotSent(f"图片无法读取：{path}（{error}）", retryable=False) from error

    async def _with_mentions(self, chat_id: str, text: str, mention_ids: tuple[str, ...]) -> str:
        """Mentions are written as '@name' before the text, as WeChat shows them."""
        names = [await self.member_name(chat_id, member) for member in mention_ids]
        return "".join(f"@{name}{MENTION_SEPARATOR}" for name in names) + text

    async def member_name(self, room_id: str, contact_id: str) -> str:
        """The name a member shows in a group (group alias first), cached."""
        if contact_id == MENTION_ALL:
            return "所有人"
        known = self._names.get((room_id, contact_id))
        if known is not None:
            return known
        puppet = self.connection.puppet()
        name = ""
        try:
            member = await puppet.room_member_payload(room_id, contact_id)
            name = member.room_alias or member.name
        except GRPCError:
            pass  # not in the group (any more): the contact's own name will do
        if not name:
            with _translated(f"look up {contact_id}", changes_wechat=False):
                name = (await puppet.contact_payload(contact_id)).name or contact_id
        self._names.put((room_id, contact_id), name)
        return name

    async def contact_name(self, contact_id: str) -> str:
        """A person's own WeChat name (for lists such as #历史), cached; the id if unknown."""
        known = self._names.get(("", contact_id))
        if known is not None:
            return known
        puppet = self.connection.puppet()
        with _translated(f"look up {contact_id}", changes_wechat=False):
            name = (await puppet.contact_payload(contact_id)).name or contact_id
        self._names.put(("", contact_id), name)
        return name

    async def room_member_ids(self, room_id: str) -> list[str]:
        with _translated(f"list the members of {room_id}", changes_wechat=False):
            members = await self.connection.puppet().room_members(room_id)
        return [str(member) for member in members]

    async def room_ids_with_topic(self, topic: str) -> list[str]:
        puppet = self.connection.puppet()
        found = []
        with _translated(f"look up the group {topic!r}", changes_wechat=False):
            for room_id in await puppet.room_list():
                if (await puppet.room_payload(room_id)).topic == topic:
                    found.append(room_id)
        return found

    async def set_announcement(self, room_id: str, text: str) -> None:
        """Set the group announcement (群公告); WeChat allows it to the group's owner only."""
        puppet = self.connection.puppet()
        with _translated(f"look up {room_id}", changes_wechat=False):
            room = await puppet.room_payload(room_id)
        if room.owner_id != self.self_id:
            raise NotSent(
                f"机器人不是“{room.topic or room_id}”的群主，不能设置群公告"
                " (the bot does not own the group, so it cannot set its announcement)",
                retryable=False)
        with _translated(f"set the announcement of {room_id}"):
            await puppet.room_announce(room_id, text)
