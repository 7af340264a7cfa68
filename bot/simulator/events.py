"""The gateway's one event stream (the `Event` RPC) and the login/scan events sent down it.

Kept apart from the `Simulator` because it is the gateway's half of the conversation: a queue
of `EventResponse`s for the one connected client, the QR-code scan loop while logged out, and
`Stop` ending the stream. The `Simulator` and the RPC handlers both emit through it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from grpclib.const import Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream
from wechaty_grpc.wechaty import puppet as pb

from bot.simulator.world import World

log = logging.getLogger("bot.simulator")

EventType = pb.EventType
SCAN_WAITING = 2
SCAN_CONFIRMED = 4
_END = None  # queued to end the event stream gracefully (Stop RPC)


class Host(Protocol):
    """What the stream reads of the simulator that owns it."""

    world: World
    scan_interval: float


class EventStream:
    """At most one open event stream, as the official gateway serves, and what it emits."""

    def __init__(self, sim: Host, gate: Callable[[], Awaitable[None]]) -> None:
        self._sim = sim  # read for its world and scan_interval
        self._gate = gate  # returns when the gateway is not hung
        self.opened = asyncio.Event()
        self.closed = asyncio.Event()  # no stream open (the client gone, or never came)
        self.closed.set()
        self._queue: asyncio.Queue[pb.EventResponse | None] | None = None
        self._scan_task: asyncio.Task[None] | None = None
        self._scan_count = 0
        self._qrcode = ""

    @property
    def is_open(self) -> bool:
        return self._queue is not None

    # ----- emitting ----------------------------------------------------------------------------

    def emit(self, event_type: int, payload: dict[str, Any]) -> None:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        self.emit_response(pb.EventResponse(type=event_type, payload=text))

    def emit_response(self, response: pb.EventResponse) -> None:
        if self._queue is None:
            log.debug("no event stream, dropped event %s", response.type)
            return
        self._queue.put_nowait(response)

    def emit_login(self) -> None:
        self.emit(EventType.EVENT_TYPE_LOGIN, {"contactId": self._sim.world.bot_id})
        self.emit(EventType.EVENT_TYPE_READY, {"data": "ready"})

    def emit_scan_confirmed(self) -> None:
        self.emit(EventType.EVENT_TYPE_SCAN, {"status": SCAN_CONFIRMED, "qrcode": self._qrcode})

    # ----- the scan loop -----------------------------------------------------------------------

    def start_scan(self) -> None:
        if self._queue is not None and not self._sim.world.logged_in and self._scan_task is None:
            self._scan_task = asyncio.get_running_loop().create_task(self._scan_loop())

    def cancel_scan(self) -> None:
        if self._scan_task is not None:
            self._scan_task.cancel()
            self._scan_task = None

    async def _scan_loop(self) -> None:
        # A real puppet shows a fresh QR code whenever the previous one expires.
        while True:
            self._scan_count += 1
            self._qrcode = f"https://login.weixin.qq.com/l/sim-{self._scan_count}"
            self.emit(
                EventType.EVENT_TYPE_SCAN,
                {"status": SCAN_WAITING, "qrcode": self._qrcode, "data": ""},
            )
            await asyncio.sleep(self._sim.scan_interval)

    # ----- the stream --------------------------------------------------------------------------

    def end(self) -> None:
        """End the current stream gracefully, as the `Stop` RPC does."""
        if self._queue is not None:
            self._queue.put_nowait(_END)
            self.close()

    def close(self) -> None:
        self.cancel_scan()
        self._queue = None
        self.opened.clear()
        self.closed.set()

    async def serve(self, stream: Stream[Any, Any]) -> None:
        """Answer one `Event` call (its request already read): events until the stream ends."""
        if self._queue is not None:
            # The official gateway serves one event stream at a time.
            raise GRPCError(Status.ALREADY_EXISTS, "Event() can not be called twice")
        queue: asyncio.Queue[pb.EventResponse | None] = asyncio.Queue()
        self._queue = queue
        self.opened.set()
        self.closed.clear()
        log.info("event stream opened by %s", stream.peer.addr())
        try:
            await stream.send_initial_metadata()
            if self._sim.world.logged_in:
                self.emit_login()
            else:
                self.start_scan()
            while (response := await queue.get()) is not _END:
                await self._gate()
                await stream.send_message(response)
        finally:
            if self._queue is queue:
                self.close()
            log.info("event stream closed")
