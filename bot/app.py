"""The bot assembled: wechat -> router -> handlers -> outbox -> wechat, plus the scheduler.

This is the one place that knows every part: it builds each service with what it uses, hands
the handlers theirs (handlers/__init__.py) and runs the long-lived tasks.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.congrats.detector import CongratulationDetector
from bot.congrats.records import CongratulationRecords
from bot.congrats.service import Congratulations
from bot.core.config import Settings
from bot.core.errors import MaybeSent, NotSent, report_if_failed
from bot.core.messages import ADMIN_NOTICE, UNREPORTED, Incoming, Outgoing, Priority
from bot.core.outbox import Failure, Outbox, Outcome
from bot.core.replies import Replies
from bot.core.router import Route, Router
from bot.core.store import DATABASE, Store
from bot.ops.alerts import Alerts
from bot.ops.incidents import ConnectionWatch, storage_failed
from bot.ops.status import StatusBoard
from bot.ops.unexpected import UnexpectedErrors
from bot.posts.desk import PostDesk
from bot.posts.library import PostLibrary
from bot.posts.publisher import Publisher
from bot.posts.scheduler import PostScheduler
from bot.wechat.actions import Actions
from bot.wechat.connection import Connection
from bot.wechat.login_qr import PNG_NAME as LOGIN_QR_PNG
from handlers import Services, build_routes

if TYPE_CHECKING:  # imported only where the console is on: 8 MB of Starlette, uvicorn, Jinja
    from bot.web.context import Web
    from bot.web.server import ConsoleServer

log = logging.getLogger(__name__)
# On SIGTERM the part being sent gets this long to finish, so the whole stop stays well within
# the 10 s a container manager (docker stop) waits before it kills.
STOP_SEND_SECONDS = 5.0
ALERTS_FLUSH_SECONDS = 2.0  # then the last alerts (a webhook down) stay in the log only
WATCH_POSTS_SECONDS = 2.0  # hot reload: how often the post folder is looked at
AUTO_THANKS_SECONDS = 60.0


class ChamberBot:
    def __init__(self, settings: Settings, routes: Sequence[Route[Any]] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        tz = settings.general.tz
        now = clock or (lambda: datetime.now(tz))
        self.store = Store(settings.data_dir / DATABASE)
        self.alerts = Alerts(settings.alerts, tz, self._tell_admins)
        self.report_unexpected = UnexpectedErrors(self.alerts, tz)
        self.store.error_listeners.append(storage_failed(self.alerts, self.store.path))
        self.connection = Connection(settings.gateway, tz, self.on_message,
                                     self.report_unexpected, settings.data_dir / LOGIN_QR_PNG)
        self.connection.state_listeners.append(ConnectionWatch(
            self.alerts, settings.gateway.endpoint, settings.alerts.hung_after_seconds))
        self.connection.on_login = self.resolve_groups
        self.wechat = Actions(self.connection)
        self.outbox = Outbox(settings.sending, self.wechat, self.store)
        self.outbox.failure_listeners.append(self._report_failure)

        self.library = PostLibrary(settings.posts_dir, tz, now, self.notify_admins)
        self.congratulations = Congratulations(
            CongratulationRecords(self.store), self.store, self.outbox, self.library, self.wechat,
            CongratulationDetector(settings.congratulations),
            settings.congratulations.window_hours, settings.roles)
        self.publisher = Publisher(self.outbox, self.store, self.groups_named,
                                   settings.sending.max_text_length, self.congratulations)
        self.scheduler = PostScheduler(self.library, tz, self.store, self.publisher,
                                       self.connection.logged_in, self.notify_admins,
                                       self.report_unexpected, now, receipts=(
                                           # straight to WeChat: a receipt is no alert, so no webhook
                                           self._tell_admins if settings.announcements.receipts
                                           else None))
        self.scheduler.every(WATCH_POSTS_SECONDS, self.library.reload_if_changed, "watch")
        if settings.congratulations.auto_thanks:
            self.scheduler.every(AUTO_THANKS_SECONDS, self.congratulations.thank_closed_windows,
                                 "auto-thanks")
        self.desk = PostDesk(self.library, self.scheduler, self.publisher, self.store,
                             settings.data_dir / "deleted-posts", now)
        self.status = StatusBoard(settings.data_dir, tz, self.connection, self.scheduler,
                                  self.outbox, self.alerts, self.store)
        self.connection.state_listeners.append(self.status.on_state)
        self.web: Web | None = None
        self.console: ConsoleServer | None = None
        if settings.web.enabled:
            from bot.web.context import Web
            from bot.web.server import ConsoleServer

            self.web = Web(settings, self.desk, self.congratulations, self.status, self.wechat,
                           now)
            self.console = ConsoleServer(settings.web, self.web, self.alerts.notice)

        if routes is None:
            replies = Replies(self.outbox, settings.roles, settings.sending)
            routes = build_routes(Services(settings, replies, self.desk,
                                           self.congratulations, self.status, self.wechat,
                                           self.report_unexpected, self.web))
        self.router = Router(routes, settings.roles, self.report_unexpected)
        self.served_rooms: set[str] = {group.id for group in settings.groups if group.id}
        self.topics: dict[str, set[str]] = {
            group.topic: {group.id} for group in settings.groups if group.id and group.topic
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping: asyncio.Task[None] | None = None

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
        """Find the ids of groups configured by topic only (ids never change, topics may).

        A name is no identity: anyone can make a group called the same. When a name matches
        more than one group, none of them is served by name; the admins are told the ids."""
        for group in self.settings.groups:
            if group.id:
                continue
            try:
                ids = await self.wechat.room_ids_with_topic(group.topic)
            except (NotSent, MaybeSent) as error:
                log.warning("could not look up group %r: %s", group.topic, error)
                continue
            if not ids:
                log.warning("no group named %r found: the bot is not a member yet?", group.topic)
            if len(ids) > 1:
                self.alerts.notice(
                    f"有 {len(ids)} 个群都叫“{group.topic}”（{'、'.join(sorted(ids))}），无法确定是哪一个，"
                    "暂不在其中任何一个群里服务。请在 config.toml 的 [[groups]] 里写上正确的 id 后重启。",
                    event="group_ambiguous", once=f"ambiguous:{group.topic}:{','.join(sorted(ids))}")
                continue
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
            self.outbox.send(Outgoing(admin, text, reason=ADMIN_NOTICE, priority=Priority.STAFF))

    async def _report_failure(self, failure: Failure) -> None:
        if failure.message.reason in UNREPORTED:
            return
        key = failure.message.ledger
        what = key.describe() if key else f"发往 {failure.message.chat_id} 的消息"
        # One report per run of a post in a group, however many of its parts failed; but each
        # part whose outcome is unknown, for someone must look whether the group has it.
        unknown = failure.outcome is Outcome.UNKNOWN
        once = None
        if key is not None:
            once = f"send:{key.post_id}@{key.group_id}@{key.slot}" + (f"#{key.part}" if unknown else "")
        step = ("。这部分是否已发到群里不明，机器人不会重发：请到群里看看，缺了就用 #预览 取原文手动补上"
                if unknown and key is not None else "")
        self.alerts.notice(f"发送失败（{failure.outcome.value}）：{what}；{failure.error}{step}",
                           event="send_failed", once=once)

    def _start(self, name: str, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A long-lived task; if it dies, that is reported (a stopped task is not)."""
        task = asyncio.create_task(work, name=name)
        report_if_failed(task, f"task {name}", self.report_unexpected)
        return task

    async def run(self) -> None:
        """Run until stop() or cancellation."""
        self._tasks = [
            self._start("wechat", self.connection.run()),
            self._start("outbox", self.outbox.run()),
            self._start("alerts", self.alerts.run()),
            self._start("status", self.status.run()),
        ]
        if self.console is not None:
            self._tasks.append(self._start("web", self.console.run()))
        try:
            await self.scheduler.start()
            # Start-up's objects (modules, the gRPC stubs, every parsed post) live as long as
            # the bot: out of the collector's way, a full collection no longer walks them
            # (with 1,000 posts one took ~80 ms, in the middle of answers and pages).
            gc.collect()
            gc.freeze()
            await self._tasks[0]
        finally:
            gc.unfreeze()  # a process that runs bots one after another (the tests) frees them
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
        if self.console is not None:
            self.console.stop()
        await self.outbox.close(STOP_SEND_SECONDS)
        await self.connection.stop()
