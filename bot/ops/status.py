"""What the running bot is doing, for people (#状态) and for machines (data/status.json).

The bot rewrites status.json every WRITE_EVERY_SECONDS and on every connection change;
`python -m bot health` (Docker's HEALTHCHECK) reads it. The same loop writes a row to the
database, so a database that fails is noticed (and its recovery too) even when nothing is
being posted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.core.messages import State
from bot.core.outbox import Outbox
from bot.core.store import Store
from bot.ops.alerts import Alerts
from bot.ops.health import STATUS_FILE, WRITE_EVERY_SECONDS
from bot.ops.incidents import storage_works

log = logging.getLogger(__name__)

PROBE_KEY = "status_probe"
DAY = 86_400.0
NEXT_POSTS = 3


def version() -> str:
    try:
        return metadata.version("chamber-bot")
    except metadata.PackageNotFoundError:  # running from a source tree that was not installed
        return "unknown"


class ConnectionInfo(Protocol):
    """The connection as the status shows it (bot/wechat/connection.py)."""

    state: State
    state_since: float  # time.time()
    last_event_at: float  # time.monotonic(); 0 until the first event


class Upcoming(Protocol):
    """The coming runs of posts (bot/posts/scheduler.py)."""

    def upcoming(self, count: int) -> list[tuple[datetime, str, str]]: ...  # (at, id, title)


@dataclass(frozen=True)
class NextPost:
    post_id: str
    title: str
    at: datetime


@dataclass(frozen=True)
class Snapshot:
    state: State
    state_since: datetime
    started_at: datetime
    last_event_at: datetime | None  # anything from the gateway, dongs included
    next_posts: list[NextPost]
    outbox_depth: int
    failures_last_day: int
    open_alerts: list[str]  # incident keys: "gateway", "wechat", "token", "storage"
    version: str
    pid: int
    host: str
    updated_at: datetime

    @property
    def connected(self) -> bool:
        return self.state is State.LOGGED_IN

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["connected"] = self.connected
        data["next_posts"] = [{"post_id": p.post_id, "title": p.title, "at": p.at.isoformat()}
                              for p in self.next_posts]
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


class StatusBoard:
    def __init__(self, data_dir: Path, tz: ZoneInfo, connection: ConnectionInfo,
                 scheduler: Upcoming, outbox: Outbox, alerts: Alerts, store: Store) -> None:
        self.path = data_dir / STATUS_FILE
        self.tz = tz
        self.connection = connection
        self.scheduler = scheduler
        self.outbox = outbox
        self.alerts = alerts
        self.store = store
        self.started_at = time.time()
        self._refusals_seen = 0  # the store's count of refused writes at the last probe
        self.version = version()

    def on_state(self, _state: State, _detail: str) -> None:
        """A connection change is written at once: health must not report it seconds late."""
        self.write()

    def _at(self, stamp: float) -> datetime:
        return datetime.fromtimestamp(stamp, self.tz)

    def snapshot(self) -> Snapshot:
        now = time.time()
        last_event = self.connection.last_event_at
        return Snapshot(
            state=self.connection.state,
            state_since=self._at(self.connection.state_since),
            started_at=self._at(self.started_at),
            last_event_at=self._at(now - (time.monotonic() - last_event)) if last_event else None,
            next_posts=[NextPost(post_id, title, when)
                        for when, post_id, title in self.scheduler.upcoming(NEXT_POSTS)],
            outbox_depth=self.outbox.depth,
            failures_last_day=sum(f.at > now - DAY for f in self.outbox.failures),
            open_alerts=sorted(self.alerts.open),
            version=self.version,
            pid=os.getpid(),
            host=socket.gethostname(),
            updated_at=self._at(now),
        )

    def write(self) -> None:
        """Replace status.json atomically: `health` never reads half a file."""
        partial = self.path.with_name(self.path.name + ".partial")
        try:
            partial.write_text(json.dumps(self.snapshot().to_json(), ensure_ascii=False),
                               encoding="utf-8")
            os.replace(partial, self.path)
        except OSError as error:  # health will say the file is stale
            log.warning("could not write %s: %s", self.path, error)

    def probe_store(self) -> None:
        """The database works again when this write works and no other write was refused since
        the last probe (a nearly full disk takes small writes and refuses bigger ones)."""
        refused_before = self._refusals_seen
        try:
            self.store.put(PROBE_KEY, self._at(time.time()).isoformat())
        except sqlite3.Error:
            return  # the store's listener has raised the alert
        finally:
            self._refusals_seen = self.store.refusals
        if self.store.refusals == refused_before:
            storage_works(self.alerts)

    async def run(self) -> None:
        while True:
            self.probe_store()
            self.write()
            await asyncio.sleep(WRITE_EVERY_SECONDS)  # a heartbeat's period, not a wait
