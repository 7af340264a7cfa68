"""Routing: each incoming message goes to the first route whose rule accepts it.

A route is a rule (where, who, what) plus one small async handler that was given, when it was
built, the services it uses. Routes are registered in one place, in order (handlers/__init__.py).
A message triggers one behaviour unless a route says `stop=False`. A handler that raises is
reported as unexpected (log with traceback, the admins once); the bot goes on.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.core.config import RoleSettings
from bot.core.errors import ReportUnexpected
from bot.core.messages import Incoming

log = logging.getLogger(__name__)

T = TypeVar("T")


class Place(enum.Flag):
    GROUP = enum.auto()
    PRIVATE = enum.auto()
    ANYWHERE = GROUP | PRIVATE

    @staticmethod
    def of(message: Incoming) -> Place:
        return Place.GROUP if message.in_group else Place.PRIVATE


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


Matcher = Callable[[Incoming], T | None]
Handler = Callable[[Incoming, T], Awaitable[None]]


@dataclass(frozen=True)
class Route(Generic[T]):
    """`match` returns what the handler needs (truthy), or None when the route does not apply."""

    name: str
    match: Matcher[T]
    handle: Handler[T]
    place: Place = Place.ANYWHERE
    role: Role = Role.MEMBER
    stop: bool = True


class Router:
    def __init__(self, routes: Sequence[Route[Any]], roles: RoleSettings,
                 report_unexpected: ReportUnexpected) -> None:
        self.routes = list(routes)
        self.roles = roles
        self.report_unexpected = report_unexpected

    def route(self, name: str) -> Route[Any]:
        return next(route for route in self.routes if route.name == name)

    async def dispatch(self, message: Incoming) -> list[str]:
        """Run the handlers the message triggers; returns their route names."""
        role = role_of(message.talker_id, self.roles)
        place = Place.of(message)
        triggered: list[str] = []
        for route in self.routes:
            if not route.place & place or role < route.role:
                continue
            found = route.match(message)
            if found is None:
                continue
            triggered.append(route.name)
            try:
                await route.handle(message, found)
            except Exception as error:
                self.report_unexpected(f"handler {route.name} on message {message.message_id}",
                                       error)
            if route.stop:
                break
        return triggered
