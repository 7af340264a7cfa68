"""The connection to WeChat: one Wechaty puppet-service gateway, kept alive for months.

It drives python-wechaty's gRPC client (`PuppetService`, patched in bot/wechaty_compat.py),
turns its events into plain `Incoming` messages and sends text. It never gives up: a dead
gateway is retried with backoff forever, a hung one is found by ding/dong within
idle_ding_seconds + ding_timeout_seconds, and every state change is logged on one line.

Per answered message it makes two RPCs (the incoming payload and the send): the ids of
messages it sent are remembered, so their echo needs no payload lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError

from bot.core.config import GatewaySettings
from bot.core.messages import Incoming, MessageKind, Outgoing, OutKind
from bot.wechat import compat
from bot.wechat.login_qr import forget_login_qr, show_login_qr

log = logging.getLogger("bot.wechat.connection")

MessageHandler = Callable[[Incoming], Awaitable[None]]

# python-wechaty's MessageType (after its remapping of the wire numbers) -> our kinds.
_KINDS = {
    compat.MessageType.MESSAGE_TYPE_TEXT: MessageKind.TEXT,
    compat.MessageType.MESSAGE_TYPE_EMOTICON: MessageKind.STICKER,
    compat.MessageType.MESSAGE_TYPE_IMAGE: MessageKind.IMAGE,
    compat.MessageType.MESSAGE_TYPE_RED_ENVELOPE: MessageKind.RED_ENVELOPE,
    compat.MessageType.MESSAGE_TYPE_TRANSFER: MessageKind.TRANSFER,
    compat.MessageType.MESSAGE_TYPE_URL: MessageKind.URL,
    compat.MessageType.MESSAGE_TYPE_RECALLED: MessageKind.RECALLED,
}

MENTION_SEPARATOR = "\u2005"  # WeChat puts a four-per-em space after each @name
MENTION_ALL = "notify@all"  # the id WeChat uses for @所有人
SEEN_IDS_KEPT = 20_000  # enough to drop replays after a reconnect, bounded for months of uptime
SENT_IDS_KEPT = 2_000  # our own sends echo back within seconds
NAMES_KEPT = 5_000


class State(enum.Enum):
    STARTING = "starting"
    CONNECTING = "connecting"
    WAITING_FOR_SCAN = "waiting for a QR scan"
    LOGGED_IN = "logged in"
    LOGGED_OUT = "logged out"
    DISCONNECTED = "disconnected"
    TOKEN_REJECTED = "token rejected"
    STOPPED = "stopped"


class GatewayUnavailable(Exception):
    """Sending was attempted while the bot is not logged in; worth retrying later."""


class GatewayRefused(Exception):
    """The gateway or WeChat will not do this (e.g. set the announcement of a group the bot
    does not own); trying again will not help."""


class GatewayHung(Exception):
    pass


class BoundedSet:
    """Remembers the most recent keys only, so memory stays flat over millions of messages."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """Add `key`; False if it was already there."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.capacity:
            self._keys.popitem(last=False)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)


class Gateway:
    def __init__(self, settings: GatewaySettings, tz: ZoneInfo, on_message: MessageHandler,
                 login_qr_png: Path | None = None) -> None:
        self.settings = settings
        self.tz = tz
        self.on_message = on_message
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
        self._seen = BoundedSet(SEEN_IDS_KEPT)
        self._sent_ids = BoundedSet(SENT_IDS_KEPT)
        self._names: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._dong: asyncio.Future[str] | None = None
        self._stopping = asyncio.Event()
        self._dispatches: set[asyncio.Task[None]] = set()

    # --- lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect and stay connected until stop() is called; never raises for the gateway."""
        delay = self.settings.reconnect_min_seconds
        while not self._stopping.is_set():
            connected_at = time.monotonic()
            reason = await self._run_one_connection()
            if self._stopping.is_set():
                break
            if time.monotonic() - connected_at > 60:
                delay = self.settings.reconnect_min_seconds  # it was a good connection
            self._set_state(State.DISCONNECTED if self.state != State.TOKEN_REJECTED
                            else State.TOKEN_REJECTED, f"{reason}; retrying in {delay:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            delay = min(delay * 2, self.settings.reconnect_max_seconds)
        self._set_state(State.STOPPED, "stop requested")

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
        puppet.on("message", self._on_message_event)  # type: ignore[arg-type]
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
            except Exception:
                log.exception("login hook failed")

    def _on_logout(self, payload: Any) -> None:
        self._on_activity()
        self.logged_in.clear()
        self._set_state(State.LOGGED_OUT, f"{getattr(payload, 'data', '') or 'by WeChat'}")

    async def _on_message_event(self, payload: Any) -> None:
        self._on_activity()
        message_id = str(payload.message_id)
        # Our own sends echo back; gateways replay messages after a reconnect.
        if message_id in self._sent_ids or not self._seen.add(message_id):
            return
        puppet = self._puppet
        if puppet is None:
            return
        try:
            raw = await puppet.message_payload(message_id)
        except (GRPCError, OSError, TimeoutError) as error:
            log.warning("could not load message %s: %s", message_id, error)
            return
        if raw.from_id == self.self_id:
            return
        message = self._to_incoming(raw)
        try:
            await self.on_message(message)
        except Exception:
            log.exception("handling message %s failed", message_id)

    def _to_incoming(self, raw: Any) -> Incoming:
        stamp = float(raw.timestamp or time.time())
        if stamp > 1e11:  # some gateways send milliseconds
            stamp /= 1000
        mention_ids = tuple(raw.mention_ids)
        mentions_bot = bool(self.self_id) and self.self_id in mention_ids
        if not mentions_bot and self.self_name:
            mentions_bot = f"@{self.self_name}" in raw.text
        return Incoming(
            message_id=str(raw.id),
            talker_id=raw.from_id,
            text=raw.text or "",
            kind=_KINDS.get(raw.type, MessageKind.OTHER),
            time=datetime.fromtimestamp(stamp, self.tz),
            room_id=raw.room_id or None,
            mention_ids=mention_ids,
            mentions_bot=mentions_bot,
        )

    # --- actions --------------------------------------------------------------------------

    def _require_puppet(self) -> compat.PuppetService:
        if self._puppet is None or not self.logged_in.is_set():
            raise GatewayUnavailable(f"not logged in (gateway {self.state.value})")
        return self._puppet

    async def deliver(self, message: Outgoing) -> str:
        """Send one outgoing message; returns the gateway's message id ('' if it gives none)."""
        if message.kind is OutKind.TEXT:
            return await self.send_text(message.chat_id, message.text, message.mention_ids)
        puppet = self._require_puppet()
        message_id = ""
        if message.kind is OutKind.IMAGE:
            file_box = compat.FileBox.from_file(message.image_path)
            message_id = await puppet.message_send_file(message.chat_id, file_box)
        elif message.kind is OutKind.LINK and message.link is not None:
            card = {"url": message.link.url, "title": message.link.title,
                    "description": message.link.description,
                    "thumbnailUrl": message.link.thumbnail}
            message_id = await puppet.message_send_url(message.chat_id, json.dumps(card))
        elif message.kind is OutKind.ANNOUNCEMENT:
            await self.set_announcement(message.chat_id, message.text)
        if message_id:
            self._sent_ids.add(message_id)
        return str(message_id or "")

    async def send_text(self, chat_id: str, text: str, mention_ids: tuple[str, ...] = ()) -> str:
        """Send one text; mentions are written as '@name' before it, as WeChat shows them."""
        puppet = self._require_puppet()
        if mention_ids:
            names = [await self.member_name(chat_id, member) for member in mention_ids]
            text = "".join(f"@{name}{MENTION_SEPARATOR}" for name in names) + text
        message_id: str = await puppet.message_send_text(chat_id, text, list(mention_ids) or None)
        if message_id:
            self._sent_ids.add(message_id)
        return message_id

    async def member_name(self, room_id: str, contact_id: str) -> str:
        """The name a member shows in a group (group alias first), cached."""
        if contact_id == MENTION_ALL:
            return "所有人"
        key = (room_id, contact_id)
        if key in self._names:
            return self._names[key]
        puppet = self._require_puppet()
        name = ""
        try:
            member = await puppet.room_member_payload(room_id, contact_id)
            name = member.room_alias or member.name
        except GRPCError:
            pass
        if not name:
            name = (await puppet.contact_payload(contact_id)).name or contact_id
        self._names[key] = name
        if len(self._names) > NAMES_KEPT:
            self._names.popitem(last=False)
        return name

    async def room_member_ids(self, room_id: str) -> list[str]:
        return [str(member) for member in await self._require_puppet().room_members(room_id)]

    async def room_ids_with_topic(self, topic: str) -> list[str]:
        puppet = self._require_puppet()
        found = []
        for room_id in await puppet.room_list():
            if (await puppet.room_payload(room_id)).topic == topic:
                found.append(room_id)
        return found

    async def set_announcement(self, room_id: str, text: str) -> None:
        """Set the group announcement (群公告); WeChat allows it to the group's owner only."""
        puppet = self._require_puppet()
        room = await puppet.room_payload(room_id)
        if room.owner_id != self.self_id:
            raise GatewayRefused(
                f"机器人不是“{room.topic or room_id}”的群主，不能设置群公告"
                " (the bot does not own the group, so it cannot set its announcement)"
            )
        await puppet.room_announce(room_id, text)

    async def announcement(self, room_id: str) -> str:
        return str(await self._require_puppet().room_announce(room_id))
