"""The bot assembled: gateway -> router -> handlers -> outbox -> gateway."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from bot.config import Settings
from bot.gateway import Gateway, GatewayUnavailable
from bot.messages import Incoming
from bot.outbox import Outbox
from bot.router import Context, Route, Router
from handlers import build_routes

log = logging.getLogger("bot.app")


class ChamberBot:
    def __init__(self, settings: Settings, routes: Sequence[Route[Any]] | None = None) -> None:
        self.settings = settings
        self.gateway = Gateway(settings.gateway, settings.general.tz, self.on_message)
        self.gateway.on_login = self.resolve_groups
        self.outbox = Outbox(settings.sending, self.gateway)
        routes = build_routes(settings) if routes is None else routes
        self.router = Router(routes, Context(self.outbox, settings.roles))
        self.served_rooms: set[str] = {group.id for group in settings.groups if group.id}
        self._tasks: list[asyncio.Task[None]] = []

    async def on_message(self, message: Incoming) -> None:
        # Groups the bot does not serve are none of its business, whatever is said there.
        if message.room_id is not None and message.room_id not in self.served_rooms:
            return
        await self.router.dispatch(message)

    async def resolve_groups(self) -> None:
        """Find the ids of groups configured by topic only (ids never change, topics may)."""
        for group in self.settings.groups:
            if group.id:
                continue
            try:
                ids = await self.gateway.room_ids_with_topic(group.topic)
            except (GatewayUnavailable, OSError, TimeoutError) as error:
                log.warning("could not look up group %r: %s", group.topic, error)
                continue
            if not ids:
                log.warning("no group named %r found: the bot is not a member yet?", group.topic)
            for room_id in ids:
                if room_id not in self.served_rooms:
                    log.info("serving group %s (id %s); put the id in config.toml to pin it",
                             group.topic, room_id)
                self.served_rooms.add(room_id)

    async def run(self) -> None:
        """Run until stop() or cancellation."""
        self._tasks = [
            asyncio.create_task(self.gateway.run(), name="gateway"),
            asyncio.create_task(self.outbox.run(), name="outbox"),
        ]
        try:
            await self._tasks[0]
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        await self.gateway.stop()
