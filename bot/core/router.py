"""Routing: each incoming message goes to the first route whose rule accepts it.

A route is a rule (where, who, what) plus one small async handler. Routes are registered in
one place, in order (handlers/__init__.py). A message triggers one behaviour unless a route
says `stop=False`. A handler that raises is logged with its traceback; the bot goes on.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from bot.core.config import RoleSettings
from bot.core.messages import COMMAND_REPLY, Incoming, Outgoing

if TYPE_CHECKING:
    from bot.ops.status import StatusBoard
    from bot.posts.desk import PostDesk

log = logging.getLogger("bot.core.router")

T = TypeVar("T")


class Place(enum.Flag):
    GROUP = enum.auto()
    PRIVATE = enum.auto()
    ANYWHERE = GROUP | PRIVATE


class Role(enum.IntEnum):
    """Each role may do what the roles below it may do."""

    MEMBER = 0
    SECRETARY = 1
    ADMIN = 2


def role_of(talker_id: str, roles: RoleSettings) -> Role:
    if talker_id in roles.admins:
        return Role.ADMIN
    if talker_id in roles.secretaries:
        return Role.SECRETARY
    return Role.MEMBER


class Sender(Protocol):
    def send(self, message: Outgoing) -> asyncio.Future[Any]: ...


class People(Protocol):
    """Who is who in WeChat, by id (names are for display only)."""

    self_id: str  # the bot's own account

    async def member_name(self, room_id: str, contact_id: str) -> str: ...

    async def room_member_ids(self, room_id: str) -> list[str]: ...


class Context:
    """What a handler may use. Every send goes through the outbox."""

    def __init__(self, outbox: Sender, roles: RoleSettings, desk: PostDesk | None = None,
                 people: People | None = None, status: StatusBoard | None = None) -> None:
        self.outbox = outbox
        self.roles = roles
        self._desk = desk
        self._people = people
        self._status = status

    @property
    def people(self) -> People:
        if self._people is None:
            raise RuntimeError("this bot runs without a gateway directory")
        return self._people

    @property
    def status(self) -> StatusBoard:
        """What the bot is doing (connection, uptime, next posts ...), for #状态."""
        if self._status is None:
            raise RuntimeError("this bot runs without a status board")
        return self._status

    @property
    def desk(self) -> PostDesk:
        """Posts: read, publish, change (only when the bot runs with announcements)."""
        if self._desk is None:
            raise RuntimeError("this bot runs without the announcements desk")
        return self._desk

    async def reply(self, message: Incoming, text: str) -> None:
        """Answer where the message was written; in a group, @-mention the asker."""
        mentions = (message.talker_id,) if message.in_group else ()
        self.outbox.send(
            Outgoing(message.chat_id, text, mentions, reason=f"reply to {message.message_id}")
        )

    def tell(self, chat_id: str, text: str) -> asyncio.Future[Any]:
        """Send a text to one chat (a person's id: privately)."""
        return self.outbox.send(Outgoing(chat_id, text, reason=COMMAND_REPLY))


Matcher = Callable[[Incoming], T | None]
Handler = Callable[[Incoming, Context, T], Awaitable[None]]


@dataclass(frozen=True)
class Route(Generic[T]):
    """`match` returns what the handler needs (truthy), or None when the route does not apply."""

    name: str
    match: Matcher[T]
    handle: Handler[T]
    place: Place = Place.ANYWHERE
    role: Role = Role.MEMBER
    stop: bool = True

    def accepts_place(self, message: Incoming) -> bool:
        return bool(self.place & (Place.GROUP if message.in_group else Place.PRIVATE))


class Router:
    def __init__(self, routes: Sequence[Route[Any]], context: Context) -> None:
        self.routes = list(routes)
        self.context = context

    def route(self, name: str) -> Route[Any]:
        return next(route for route in self.routes if route.name == name)

    async def dispatch(self, message: Incoming) -> list[str]:
        """Run the handlers the message triggers; returns their route names."""
        role = role_of(message.talker_id, self.context.roles)
        triggered: list[str] = []
        for route in self.routes:
            if not route.accepts_place(message) or role < route.role:
                continue
            found = route.match(message)
            if found is None:
                continue
            triggered.append(route.name)
            try:
                await route.handle(message, self.context, found)
            except Exception:
                log.exception("handler %s failed on message %s", route.name, message.message_id)
            if route.stop:
                break
        return triggered
