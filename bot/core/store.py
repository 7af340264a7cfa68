"""SQLite, owned by the bot process: the send ledger, the audit log, small state (heartbeat).

Other owners keep their own tables in the same database, on the same connection
(bot/congrats/records.py: congratulations).

The ledger is what makes "never twice" hold across restarts and crashes: when a run of a post
starts, each of its parts (per group and scheduled slot) is written down as `pending`; a part
becomes `sending` just before it goes to the gateway and `sent` after. After a crash, `pending`
parts of a recent run are sent (the run resumes where it stopped); a part found `sending' may
or may not have reached WeChat: it becomes `unknown` and is reported, never resent.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS send_ledger (
    post_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    slot TEXT NOT NULL,          -- the scheduled run (ISO time) or 'manual:...'
    part INTEGER NOT NULL,       -- 1-based
    parts INTEGER NOT NULL,
    state TEXT NOT NULL,         -- pending | sending | sent | unknown | abandoned
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
    detail TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '微信'  -- where the change was made: 微信 | 网页 | 命令行
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

DATABASE = "bot.sqlite3"  # in the data directory
# How long a write waits for another program's lock. SQLite waits by blocking the thread, here
# the event loop: its default 5 s froze the bot for 5 s per write while something held the
# lock. The writes that matter are tried again (retry.until_written) without blocking.
BUSY_TIMEOUT_SECONDS = 0.5
THANKS_SUFFIX = "#thanks"  # a post's thank-you in the ledger: "<post id>#thanks"
CHAT, WEB = "微信", "网页"  # where a change was made, as the audit log and #历史 say it
PENDING, SENDING, SENT, UNKNOWN, ABANDONED = "pending", "sending", "sent", "unknown", "abandoned"


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
    source: str = CHAT


@dataclass(frozen=True)
class RunSummary:
    """One run of a post in one group, as the ledger has it."""

    post_id: str
    slot: str  # the scheduled time (ISO) or 'manual:<time>'
    group_id: str
    parts: int
    sent: int
    failed: int  # outcome unknown, or abandoned
    at: float  # the last change


ErrorListener = Callable[[sqlite3.Error], None]


class ReportingConnection(sqlite3.Connection):
    """Tells its listeners about every database error (disk full, file read-only, corrupt),
    wherever in the bot it happens, then raises it as usual: the alerts hear of it once, here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listeners: list[ErrorListener] = []

    def _report(self, error: sqlite3.Error) -> None:
        for listener in self.listeners:
            listener(error)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as error:
            self._report(error)
            raise

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.Error as error:
            self._report(error)
            raise

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(script)
        except sqlite3.Error as error:
            self._report(error)
            raise


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection, used from the event loop's thread only; autocommit per statement
        # so a row is on disk before the handler that wrote it returns.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                  factory=ReportingConnection, timeout=BUSY_TIMEOUT_SECONDS)
        self.error_listeners = self.db.listeners  # e.g. the alerts
        self.refusals = 0  # database errors so far: a recovery is a while without one
        self.error_listeners.append(self._count_refusal)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A database written by an older version gains the newer columns, defaults filled."""
        audit = {row[1] for row in self.db.execute("PRAGMA table_info(audit)")}
        if "source" not in audit:
            self.db.execute(f"ALTER TABLE audit ADD COLUMN source TEXT NOT NULL DEFAULT '{CHAT}'")

    def close(self) -> None:
        self.db.close()

    def _count_refusal(self, _error: sqlite3.Error) -> None:
        self.refusals += 1

    # --- the send ledger ------------------------------------------------------------------

    def plan(self, keys: list[LedgerKey]) -> None:
        """Write down the parts of a run as `pending` (parts already there are kept)."""
        now = time.time()
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO send_ledger VALUES (?, ?, ?, ?, ?, ?, '', ?)",
                [(k.post_id, k.group_id, k.slot, k.part, k.parts, PENDING, now) for k in keys],
            )

    def claim(self, key: LedgerKey) -> bool:
        """Mark a pending part `sending`; False if it is sent, being sent, or unknown."""
        self.plan([key])
        cursor = self.db.execute(
            "UPDATE send_ledger SET state = ?, updated_at = ? WHERE post_id = ? AND group_id = ?"
            " AND slot = ? AND part = ? AND state = ?",
            (SENDING, time.time(), key.post_id, key.group_id, key.slot, key.part, PENDING),
        )
        return cursor.rowcount == 1

    def mark(self, key: LedgerKey, state: str, message_id: str = "") -> None:
        self.db.execute(
            "UPDATE send_ledger SET state = ?, message_id = ?, updated_at = ? "
            "WHERE post_id = ? AND group_id = ? AND slot = ? AND part = ?",
            (state, message_id, time.time(), key.post_id, key.group_id, key.slot, key.part),
        )

    def release(self, key: LedgerKey) -> None:
        """A claimed part surely did not reach the gateway: `pending` again, to resume later."""
        self.db.execute(
            "UPDATE send_ledger SET state = ?, updated_at = ? WHERE post_id = ? AND group_id = ?"
            " AND slot = ? AND part = ? AND state = ?",
            (PENDING, time.time(), key.post_id, key.group_id, key.slot, key.part, SENDING),
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
            "SELECT 1 FROM send_ledger WHERE post_id = ? AND group_id = ? AND state IN (?, ?)"
            " AND updated_at >= ? LIMIT 1",
            (post_id, group_id, SENT, UNKNOWN, since),
        ).fetchone()
        return row is not None

    def interrupted_sends(self) -> list[LedgerRow]:
        """Parts left `sending` by a crash: they become `unknown` and are returned to report."""
        rows = self.ledger(state=SENDING)
        for row in rows:
            self.mark(row.key, UNKNOWN)
        return rows

    def unfinished_runs(self) -> list[tuple[str, str]]:
        """(post id, slot) of runs with parts still `pending`, oldest first."""
        rows = self.db.execute(
            "SELECT post_id, slot, MIN(updated_at) AS first FROM send_ledger WHERE state = ?"
            " GROUP BY post_id, slot ORDER BY first", (PENDING,)).fetchall()
        return [(str(row[0]), str(row[1])) for row in rows]

    def abandon(self, post_id: str, slot: str) -> int:
        """Give up the pending parts of a run (too late to send); returns how many."""
        cursor = self.db.execute(
            "UPDATE send_ledger SET state = ?, updated_at = ? WHERE post_id = ? AND slot = ?"
            " AND state = ?", (ABANDONED, time.time(), post_id, slot, PENDING))
        return cursor.rowcount

    def runs(self, post_id: str | None, limit: int = 20, before: float = float("inf")
             ) -> list[RunSummary]:
        """The runs per group of a post (of every post: None) last changed before `before`,
        newest first: how many parts reached which state."""
        where, arguments = ("WHERE post_id = ?", (post_id,)) if post_id is not None else ("", ())
        rows = self.db.execute(
            "SELECT post_id, slot, group_id, MAX(parts), SUM(state = ?), SUM(state IN (?, ?)),"
            f" MAX(updated_at) AS at FROM send_ledger {where} GROUP BY post_id, slot, group_id"
            " HAVING at < ? ORDER BY at DESC LIMIT ?",
            (SENT, UNKNOWN, ABANDONED, *arguments, before, limit)).fetchall()
        return [RunSummary(*row) for row in rows]

    def last_sent_at(self, post_id: str) -> float | None:
        row = self.db.execute("SELECT MAX(updated_at) FROM send_ledger WHERE post_id = ?"
                              " AND state = ?", (post_id, SENT)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def last_sent_times(self) -> dict[str, float]:
        """Post id -> when a part of it was last sent, for every post at once (lists)."""
        rows = self.db.execute("SELECT post_id, MAX(updated_at) FROM send_ledger WHERE state = ?"
                               " GROUP BY post_id", (SENT,)).fetchall()
        return {str(post_id): float(at) for post_id, at in rows}

    # --- audit log ------------------------------------------------------------------------

    def audit(self, actor_id: str, action: str, post_id: str, detail: str = "",
              source: str = CHAT) -> None:
        self.db.execute(
            "INSERT INTO audit (at, actor_id, action, post_id, detail, source)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), actor_id, action, post_id, detail, source),
        )

    def history(self, post_id: str | None, limit: int = 20, before: float = float("inf")
                ) -> list[AuditEntry]:
        """The newest changes made before `before` of one post, or of all posts (None), newest
        first."""
        where, arguments = ("AND post_id = ?", (post_id,)) if post_id is not None else ("", ())
        rows = self.db.execute(
            f"SELECT at, actor_id, action, post_id, detail, source FROM audit WHERE at < ? {where}"
            " ORDER BY id DESC LIMIT ?",
            (before, *arguments, limit),
        ).fetchall()
        return [AuditEntry(*row) for row in rows]

    # --- small state ----------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, value))
