"""The bot assembled: gateway -> router -> handlers -> outbox -> gateway, plus the scheduler."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from bot.core.config import Settings
from bot.core.messages import ADMIN_NOTICE, UNREPORTED, Incoming, Outgoing
from bot.core.outbox import Failure, Outbox
from bot.core.router import Context, Route, Router
from bot.core.store import DATABASE, Store
from bot.ops.alerts import Alerts
from bot.ops.incidents import ConnectionWatch, storage_failed
from bot.ops.status import StatusBoard
from bot.posts.desk import PostDesk
from bot.posts.publisher import Publisher
from bot.posts.scheduler import PostScheduler
from bot.wechat.connection import Gateway, GatewayUnavailable
from bot.wechat.login_qr import PNG_NAME as LOGIN_QR_PNG
from handlers import build_routes, congrats

log = logging.getLogger("bot.app")
# On SIGTERM the part being sent gets this long to finish, so the whole stop stays well within
# the 10 s a container manager (docker stop) waits before it kills.
STOP_SEND_SECONDS = 5.0
ALERTS_FLUSH_SECONDS = 2.0  # then the last alerts (a webhook down) stay in the log only


class ChamberBot:
    def __init__(self, settings: Settings, routes: Sequence[Route[Any]] | None = None) -> None:
        self.settings = settings
        tz = settings.general.tz
        self.store = Store(settings.data_dir / DATABASE)
        self.alerts = Alerts(settings.alerts, tz, self._tell_admins)
        self.store.error_listeners.append(storage_failed(self.alerts, self.store.path))
        self.gateway = Gateway(settings.gateway, tz, self.on_message,
                               login_qr_png=settings.data_dir / LOGIN_QR_PNG)
        self.gateway.state_listeners.append(ConnectionWatch(
            self.alerts, settings.gateway.endpoint, settings.alerts.hung_after_seconds))
        self.gateway.on_login = self.resolve_groups
        self.outbox = Outbox(settings.sending, self.gateway, self.store)
        self.outbox.failure_listeners.append(self._report_failure)
        self.publisher = Publisher(self.outbox, self.groups_named, settings.sending.max_text_length,
                                   self.store, settings.congratulations.window_hours)
        self.scheduler = PostScheduler(settings.posts_dir, tz, self.store, self.publisher,
                                       self.gateway.logged_in, self.notify_admins)
        self.desk = PostDesk(self.scheduler, self.store, settings.data_dir / "deleted-posts")
        self.status = StatusBoard(settings.data_dir, tz, self.gateway, self.scheduler,
                                  self.outbox, self.alerts, self.store)
        self.gateway.state_listeners.append(self.status.on_state)
        routes = build_routes(settings) if routes is None else routes
        self.router = Router(routes, Context(self.outbox, settings.roles, self.desk, self.gateway,
                                             self.status))
        self.served_rooms: set[str] = {group.id for group in settings.groups if group.id}
        self.topics: dict[str, set[str]] = {
            group.topic: {group.id} for group in settings.groups if group.id and group.topic
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping: asyncio.Task[None] | None = None
        if settings.congratulations.auto_thanks:
            self.scheduler.aps.add_job(self.thank_closed_windows, "interval", minutes=1,
                                       id="auto-thanks", coalesce=True, max_instances=1)

    async def thank_closed_windows(self) -> None:
        await congrats.thank_closed_windows(self.router.context, time.time())

    async def on_message(self, message: Incoming) -> None:
        if self._stopping is not None:
            return  # a stopping bot takes no new work
        # Groups the bot does not serve are none of its business, whatever is said there.
        if message.room_id is not None and message.room_id not in self.served_rooms:
            return
        await self.router.dispatch(message)

    def groups_named(self, names: list[str]) -> list[str]:
        """Served group ids for post targets given by id or topic; none named = all served."""
        if not names:
            return sorted(self.served_rooms)
        found: list[str] = []
        for name in names:
            ids = {name} & self.served_rooms or self.topics.get(name, set())
            if not ids:
                log.warning("post target %r is not a group this bot serves", name)
            found.extend(sorted(ids - set(found)))
        return found

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
                self.topics.setdefault(group.topic, set()).add(room_id)

    async def notify_admins(self, text: str) -> None:
        """The scheduler's reports (missed or incomplete posts, bad post files): through the
        alerts, so to the log, the admins in WeChat and the webhook."""
        self.alerts.notice(text)

    def _tell_admins(self, text: str) -> None:
        """The alerts' way into WeChat: a private message to each admin."""
        for admin in self.settings.roles.admins:
            self.outbox.send(Outgoing(admin, text, reason=ADMIN_NOTICE))

    async def _report_failure(self, failure: Failure) -> None:
        if failure.message.reason in UNREPORTED:
            return
        key = failure.message.ledger
        what = key.describe() if key else f"发往 {failure.message.chat_id} 的消息"
        # One report per run of a post in a group, however many of its parts failed.
        once = f"send:{key.post_id}@{key.group_id}@{key.slot}" if key else None
        self.alerts.notice(f"发送失败（{failure.outcome.value}）：{what}；{failure.error}",
                           event="send_failed", once=once)

    async def run(self) -> None:
        """Run until stop() or cancellation."""
        self._tasks = [
            asyncio.create_task(self.gateway.run(), name="gateway"),
            asyncio.create_task(self.outbox.run(), name="outbox"),
            asyncio.create_task(self.alerts.run(), name="alerts"),
            asyncio.create_task(self.status.run(), name="status"),
        ]
        try:
            await self.scheduler.start()
            await self._tasks[0]
        finally:
            self.scheduler.shutdown()
            await self.alerts.close(ALERTS_FLUSH_SECONDS)
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self.store.close()

    async def stop(self) -> None:
        """Stop gracefully: no new runs or messages, the part being sent finishes, the parts
        not sent stay pending in the ledger; then run() closes the store and returns."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)  # a second signal waits for the same stop

    async def _stop(self) -> None:
        log.info("stopping: no new work; the message being sent finishes")
        self.scheduler.pause()
        await self.outbox.close(STOP_SEND_SECONDS)
        await self.gateway.stop()
