"""The connection to WeChat: one Wechaty puppet-service gateway, kept alive for months.

It drives python-wechaty's gRPC client (`PuppetService`, patched in bot/wechaty_compat.py),
turns its events into plain `Incoming` messages and sends text. It never gives up: a dead
gateway is retried with backoff forever, a hung one is found by ding/dong within
idle_ding_seconds + ding_timeout_seconds, and every state change is logged on one line.

Per answered message it makes two RPCs (the incoming payload and the send; a third for the
asker's group name, until it is cached): the ids of messages it sent (bot/wechat/actions.py) are
remembered, so their echo needs no payload lookup. Payloads are loaded a few at a time, in
order (bot/wechat/incoming.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError

from bot.core.cache import RecentSet
from bot.core.config import GatewaySettings
from bot.core.errors import NotSent, ReportUnexpected
from bot.core.messages import Incoming, State
from bot.core.retry import backoff
from bot.wechat import compat
from bot.wechat.incoming import LoadingQueue, to_incoming
from bot.wechat.login_qr import forget_login_qr, show_login_qr

log = logging.getLogger(__name__)

MessageHandler = Callable[[Incoming], Awaitable[None]]

SEEN_IDS_KEPT = 20_000  # enough to drop replays after a reconnect, bounded for months of uptime
SENT_IDS_KEPT = 2_000  # our own sends echo back within seconds
GOOD_CONNECTION_SECONDS = 60  # after a connection this long, reconnecting starts fast again
# Messages loaded from the gateway at once. A burst of 2,000 messages otherwise opened 2,000
# HTTP/2 streams together: h2 counts the open ones on every new stream (quadratic CPU), and
# their buffers held ~30 MB that Python keeps after the burst (tests/bench, docs/benchmarks.md).
MESSAGES_LOADED_AT_ONCE = 16


class GatewayHung(Exception):
    pass


class Connection:
    def __init__(self, settings: GatewaySettings, tz: ZoneInfo, on_message: MessageHandler,
                 report_unexpected: ReportUnexpected, login_qr_png: Path | None = None) -> None:
        self.settings = settings
        self.tz = tz
        self.on_message = on_message
        self.report_unexpected = report_unexpected
        self.login_qr_png = login_qr_png  # where a scan request's QR code is saved, if anywhere
        self.on_login: Callable[[], Awaitable[None]] | None = None
        # Called on every state change with (state, detail): alerts, status, tests.
        self.state_listeners: list[Callable[[State, str], None]] = []
        self.state = State.STARTING
        self.state_since = time.time()
        self.last_event_at = 0.0
        self.self_id = ""
        self.self_name = ""
        self.logged_in = asyncio.Event()
        self._puppet: compat.PuppetService | None = None
        self._seen = RecentSet(SEEN_IDS_KEPT)
        self._sent_ids = RecentSet(SENT_IDS_KEPT)
        self._dong: asyncio.Future[str] | None = None
        self._stopping = asyncio.Event()
        self._incoming = LoadingQueue(MESSAGES_LOADED_AT_ONCE, self._load, self._handle)
        # wechaty modules imported by now have made loggers of their own: route them into ours.
        compat.route_wechaty_logging()

    def puppet(self) -> compat.PuppetService:
        """The client of the current session, for actions; only while logged in."""
        if self._puppet is None or not self.logged_in.is_set():
            raise NotSent(f"not logged in (gateway {self.state.value})")
        return self._puppet

    def remember_sent(self, message_id: str) -> None:
        """A message we sent: its echo from the gateway is ours, not a member's."""
        if message_id:
            self._sent_ids.add(message_id)

    # --- lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect and stay connected until stop() is called; never raises for the gateway."""
        delays = self._backoff()
        while not self._stopping.is_set():
            connected_at = time.monotonic()
            reason = await self._run_one_connection()
            if self._stopping.is_set():
                break
            if time.monotonic() - connected_at > GOOD_CONNECTION_SECONDS:
                delays = self._backoff()  # it was a good connection: start fast again
            delay = next(delays)
            self._set_state(State.DISCONNECTED if self.state != State.TOKEN_REJECTED
                            else State.TOKEN_REJECTED, f"{reason}; retrying in {delay:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        self._set_state(State.STOPPED, "stop requested")

    def _backoff(self) -> Iterator[float]:
        return backoff(self.settings.reconnect_min_seconds, self.settings.reconnect_max_seconds)

    async def stop(self) -> None:
        self._stopping.set()
        self._close_channel()

    async def _run_one_connection(self) -> str:
        """One connection attempt, until it fails; returns why it ended."""
        self._set_state(State.CONNECTING, f"to {self.settings.endpoint}")
        puppet = compat.new_puppet(
            self.settings.endpoint, self.settings.token, self.settings.rpc_timeout_seconds
        )
        self._puppet = puppet
        self._listen_to(puppet)
        stop_waiter = asyncio.create_task(self._stopping.wait())
        session = asyncio.create_task(self._session(puppet))
        try:
            await asyncio.wait({session, stop_waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (session, stop_waiter):
                task.cancel()
            self.logged_in.clear()
            self._close_channel()
            self._puppet = None
        if stop_waiter.done() and not stop_waiter.cancelled():
            return "stopped"
        return self._describe_end(session)

    async def _session(self, puppet: compat.PuppetService) -> None:
        await compat.open_session(puppet)
        self.last_event_at = time.monotonic()
        watchdog = asyncio.create_task(self._watchdog(puppet))
        listener = asyncio.create_task(compat.listen_for_events(puppet))
        try:
            done, _ = await asyncio.wait({watchdog, listener}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise why it ended
            raise ConnectionError("the gateway closed the event stream")
        finally:
            watchdog.cancel()
            listener.cancel()

    def _describe_end(self, session: asyncio.Task[None]) -> str:
        error = session.exception() if session.done() and not session.cancelled() else None
        if isinstance(error, GRPCError) and error.status == Status.UNAUTHENTICATED:
            self._set_state(State.TOKEN_REJECTED, "the gateway rejected the token")
            log.error(
                "gateway %s rejected the token: set WECHATY_PUPPET_SERVICE_TOKEN to the "
                "token the gateway was started with (网关拒绝了令牌，请检查该环境变量)",
                self.settings.endpoint,
            )
            return "token rejected"
        if isinstance(error, GatewayHung):
            return str(error)
        if error is None:
            return "connection ended"
        if isinstance(error, GRPCError | OSError | TimeoutError | ConnectionError
                      | StreamTerminatedError):  # the gateway went away mid-stream
            return f"{type(error).__name__}: {error}"
        log.error("unexpected error on the gateway connection", exc_info=error)
        return f"unexpected {type(error).__name__}: {error}"

    def _close_channel(self) -> None:
        if self._puppet is not None and self._puppet.channel is not None:
            self._puppet.channel.close()

    def _set_state(self, state: State, detail: str = "") -> None:
        previous, self.state, self.state_since = self.state, state, time.time()
        suffix = f" ({detail})" if detail else ""
        log.info("gateway: %s -> %s%s", previous.value, state.value, suffix)
        for listener in self.state_listeners:
            listener(state, detail)

    # --- liveness -------------------------------------------------------------------------

    async def _watchdog(self, puppet: compat.PuppetService) -> None:
        """After idle_ding_seconds of silence, ding; no dong within ding_timeout means hung."""
        loop = asyncio.get_running_loop()
        while True:
            idle_for = time.monotonic() - self.last_event_at
            if idle_for < self.settings.idle_ding_seconds:
                await asyncio.sleep(self.settings.idle_ding_seconds - idle_for)
                continue
            self._dong = loop.create_future()
            nonce = f"watchdog-{time.monotonic_ns()}"
            try:
                async with asyncio.timeout(self.settings.ding_timeout_seconds):
                    await puppet.ding(nonce)
                    await self._dong
            except (TimeoutError, GRPCError, OSError) as error:
                silent = time.monotonic() - self.last_event_at
                raise GatewayHung(
                    f"gateway hung: no answer to ding, silent for {silent:.0f} s "
                    f"({type(error).__name__})"
                ) from None
            finally:
                self._dong = None

    # --- events ---------------------------------------------------------------------------

    def _listen_to(self, puppet: compat.PuppetService) -> None:
        # pyee runs coroutine listeners as tasks; python-wechaty's hint says plain callables.
        puppet.on("message", self._on_message_event)
        puppet.on("login", self._on_login)  # type: ignore[arg-type]
        puppet.on("logout", self._on_logout)
        puppet.on("scan", self._on_scan)
        puppet.on("dong", self._on_dong)
        puppet.on("heartbeat", self._on_activity)
        puppet.on("ready", self._on_activity)
        # An 'error' event with no listener makes pyee raise inside the event loop of the
        # client and ends the stream; the gateway's errors are worth a line, not a crash.
        puppet.on("error", self._on_gateway_error)

    def _on_activity(self, _payload: Any = None) -> None:
        self.last_event_at = time.monotonic()

    def _on_dong(self, payload: Any) -> None:
        self._on_activity()
        if self._dong is not None and not self._dong.done():
            self._dong.set_result(str(getattr(payload, "data", "")))

    def _on_gateway_error(self, payload: Any) -> None:
        self._on_activity()
        log.warning("gateway reported an error: %s", getattr(payload, "message", payload))

    def _on_scan(self, payload: Any) -> None:
        self._on_activity()
        qrcode = getattr(payload, "qrcode", None)
        status = getattr(payload, "status", None)
        if qrcode:
            status_name = getattr(status, "name", status)
            self._set_state(State.WAITING_FOR_SCAN, f"scan status {status_name}")
            show_login_qr(qrcode, self.login_qr_png)

    async def _on_login(self, payload: Any) -> None:
        self._on_activity()
        puppet = self._puppet
        self.self_id = str(payload.contact_id)
        if puppet is not None:
            try:
                contact = await puppet.contact_payload(self.self_id)
                self.self_name = contact.name
            except (GRPCError, OSError, TimeoutError) as error:
                log.warning("could not read the bot's own name: %s", error)
        self._set_state(State.LOGGED_IN, f"as {self.self_id} {self.self_name}".rstrip())
        self.logged_in.set()
        forget_login_qr(self.login_qr_png)
        if self.on_login is not None:
            try:
                await self.on_login()
            except Exception as error:
                self.report_unexpected("the login hook", error)

    def _on_logout(self, payload: Any) -> None:
        self._on_activity()
        self.logged_in.clear()
        self._set_state(State.LOGGED_OUT, f"{getattr(payload, 'data', '') or 'by WeChat'}")

    def _on_message_event(self, payload: Any) -> None:
        self._on_activity()
        message_id = str(payload.message_id)
        # Our own sends echo back; gateways replay messages after a reconnect.
        if message_id in self._sent_ids or not self._seen.add(message_id):
            return
        self._incoming.add(message_id)

    async def _load(self, message_id: str) -> Any:
        """The message's payload, or None: not ours to handle, or not to be had."""
        puppet = self._puppet
        if puppet is None:  # the connection it came on has ended
            self._incoming.clear()
            return None
        if message_id in self._sent_ids:  # an echo that came before its send's answer
            return None
        try:
            raw = await puppet.message_payload(message_id)
        except (GRPCError, OSError, TimeoutError, StreamTerminatedError) as error:
            log.warning("could not load message %s: %s", message_id, error)
            return None
        return None if raw.from_id == self.self_id else raw

    async def _handle(self, message_id: str, raw: Any) -> None:
        try:
            await self.on_message(to_incoming(raw, self.tz, self.self_id, self.self_name))
        except Exception as error:
            self.report_unexpected(f"message {message_id}", error)
