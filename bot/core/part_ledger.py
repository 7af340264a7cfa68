"""The outbox's writes to the send ledger, made to hold while SQLite refuses writes for a while
(another program holding its lock, the disk full).

No part goes out unless its claim (`pending` -> `sending`) is written: that is what keeps it from
ever going out twice, so a refused claim is tried again, in the part's place, until the run's
grace ends. A part that went out is written down as `sent` as soon as the database takes it
(the row stays `sending` meanwhile, which nothing sends again). Giving a part back (`pending`,
or `unknown`) is best effort: a row left `sending` is reported at the next start, never resent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

from bot.core.messages import Outgoing
from bot.core.retry import until_written
from bot.core.store import SENT, UNKNOWN, Store

log = logging.getLogger(__name__)


class PartLedger:
    def __init__(self, store: Store | None) -> None:
        self.store = store
        self._marking: set[asyncio.Task[None]] = set()  # `sent` marks waiting for the database

    async def claim(self, message: Outgoing) -> bool:
        """False if the ledger has the part already (sent, being sent, or unknown); raises
        sqlite3.OperationalError if the database refused the claim until the run's grace."""
        store, key = self.store, message.ledger
        if store is None or key is None:
            return True
        return await until_written(lambda: store.claim(key), message.send_by)

    def sent(self, message: Outgoing, message_id: str) -> None:
        store, key = self.store, message.ledger
        if store is None or key is None:
            return
        try:
            store.mark(key, SENT, message_id)
        except sqlite3.OperationalError:
            log.warning("%s went out; it is written down as sent once the database takes it",
                        key.describe())
            task = asyncio.ensure_future(until_written(lambda: store.mark(key, SENT, message_id)))
            self._marking.add(task)
            task.add_done_callback(self._marking.discard)

    def put_back(self, message: Outgoing) -> None:
        """A claimed part that surely did not go out: `pending` again, for a later run."""
        if self.store is not None and message.ledger is not None:
            with contextlib.suppress(sqlite3.OperationalError):
                self.store.release(message.ledger)

    def unknown(self, message: Outgoing) -> None:
        if self.store is not None and message.ledger is not None:
            with contextlib.suppress(sqlite3.OperationalError):
                self.store.mark(message.ledger, UNKNOWN)

    def close(self) -> None:
        """The bot stops: parts sent but not yet written down stay `sending` (reported as
        unknown at the next start)."""
        for task in self._marking:
            log.warning("stopping before a sent part was written down as sent: the next start "
                        "reports it as unknown")
            task.cancel()
