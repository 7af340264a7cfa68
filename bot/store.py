"""SQLite, owned by the bot process: the send ledger, the audit log, the scheduler's heartbeat.

The ledger is what makes "never twice" hold across restarts and crashes: every part of every
post, per group and scheduled slot, is written down as `sending` before it goes to the gateway
and as `sent` after. A part found `sending` after a crash may or may not have reached WeChat:
it is reported, never resent.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS send_ledger (
    post_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    slot TEXT NOT NULL,          -- the scheduled run (ISO time) or 'manual:...'
    part INTEGER NOT NULL,       -- 1-based
    parts INTEGER NOT NULL,
    state TEXT NOT NULL,         -- sending | sent | unknown | failed
    message_id TEXT NOT NULL DEFAULT '',
    updated_at REAL NOT NULL,
    PRIMARY KEY (post_id, group_id, slot, part)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    post_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

SENDING, SENT, UNKNOWN, FAILED = "sending", "sent", "unknown", "failed"


@dataclass(frozen=True)
class LedgerKey:
    post_id: str
    group_id: str
    slot: str
    part: int
    parts: int

    def describe(self) -> str:
        return f"{self.post_id} → {self.group_id} @ {self.slot} part {self.part}/{self.parts}"


@dataclass(frozen=True)
class LedgerRow:
    key: LedgerKey
    state: str
    message_id: str
    updated_at: float


@dataclass(frozen=True)
class AuditEntry:
    at: float
    actor_id: str
    action: str
    post_id: str
    detail: str


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection, used from the event loop's thread only; autocommit per statement
        # so a row is on disk before the handler that wrote it returns.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- the send ledger ------------------------------------------------------------------

    def claim(self, key: LedgerKey) -> bool:
        """Mark a part `sending`; False if the ledger already has it (in any state)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO send_ledger VALUES (?, ?, ?, ?, ?, ?, '', ?)",
            (key.post_id, key.group_id, key.slot, key.part, key.parts, SENDING, time.time()),
        )
        return cursor.rowcount == 1

    def mark(self, key: LedgerKey, state: str, message_id: str = "") -> None:
        self.db.execute(
            "UPDATE send_ledger SET state = ?, message_id = ?, updated_at = ? "
            "WHERE post_id = ? AND group_id = ? AND slot = ? AND part = ?",
            (state, message_id, time.time(), key.post_id, key.group_id, key.slot, key.part),
        )

    def release(self, key: LedgerKey) -> None:
        """Forget a claim that surely did not reach the gateway, so it may be tried again."""
        self.db.execute(
            "DELETE FROM send_ledger WHERE post_id = ? AND group_id = ? AND slot = ? AND part = ?"
            " AND state = ?",
            (key.post_id, key.group_id, key.slot, key.part, SENDING),
        )

    def ledger(self, post_id: str | None = None, state: str | None = None) -> list[LedgerRow]:
        query = "SELECT * FROM send_ledger WHERE (? IS NULL OR post_id = ?)" \
                " AND (? IS NULL OR state = ?) ORDER BY updated_at, part"
        rows = self.db.execute(query, (post_id, post_id, state, state)).fetchall()
        return [
            LedgerRow(LedgerKey(r[0], r[1], r[2], r[3], r[4]), r[5], r[6], r[7]) for r in rows
        ]

    def sent_since(self, post_id: str, group_id: str, since: float) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM send_ledger WHERE post_id = ? AND group_id = ? AND state != ?"
            " AND updated_at >= ? LIMIT 1",
            (post_id, group_id, FAILED, since),
        ).fetchone()
        return row is not None

    def interrupted_sends(self) -> list[LedgerRow]:
        """Parts left `sending` by a crash: they become `unknown` and are returned to report."""
        rows = self.ledger(state=SENDING)
        for row in rows:
            self.mark(row.key, UNKNOWN)
        return rows

    # --- audit log ------------------------------------------------------------------------

    def audit(self, actor_id: str, action: str, post_id: str, detail: str = "") -> None:
        self.db.execute(
            "INSERT INTO audit (at, actor_id, action, post_id, detail) VALUES (?, ?, ?, ?, ?)",
            (time.time(), actor_id, action, post_id, detail),
        )

    def history(self, post_id: str, limit: int = 20) -> list[AuditEntry]:
        rows = self.db.execute(
            "SELECT at, actor_id, action, post_id, detail FROM audit WHERE post_id = ?"
            " ORDER BY id DESC LIMIT ?",
            (post_id, limit),
        ).fetchall()
        return [AuditEntry(*row) for row in rows]

    # --- small state ----------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, value))
