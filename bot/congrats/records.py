"""The congratulations' own tables, in the bot's database: collection windows and records.

A window opens when a collecting post's run starts in a group and closes after its hours (or
at once, if the post did not go out). Each message is recorded once, by its id, whatever
replays it; a record is committed before `record` returns. A database from before the `text`
column gains it at start-up (old rows read as '').
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (   -- a collecting post's window in one group
    post_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    slot TEXT NOT NULL,
    opened_at REAL NOT NULL,
    closes_at REAL NOT NULL,
    PRIMARY KEY (post_id, group_id, slot)
);
CREATE TABLE IF NOT EXISTS congratulations (
    message_id TEXT PRIMARY KEY,  -- a message is counted once, whatever replays it
    post_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    member_name TEXT NOT NULL,   -- the name in the group at that moment
    at REAL NOT NULL,
    kinds TEXT NOT NULL,         -- e.g. "鲜花,文字"
    text TEXT NOT NULL DEFAULT '' -- what was said (its first TEXT_LIMIT characters)
);
CREATE INDEX IF NOT EXISTS congratulations_by_post ON congratulations (post_id, at);
"""
COLUMNS = "message_id, post_id, group_id, member_id, member_name, at, kinds, text"
TEXT_LIMIT = 500  # a congratulation is a line; a pasted essay is not kept whole


@dataclass(frozen=True)
class Collection:
    post_id: str
    group_id: str
    slot: str
    opened_at: float
    closes_at: float


@dataclass(frozen=True)
class Congratulation:
    message_id: str
    post_id: str
    group_id: str
    member_id: str
    member_name: str
    at: float
    kinds: tuple[str, ...]
    text: str = ""


class CongratulationRecords:
    def __init__(self, store: Store) -> None:
        self.db = store.db
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(congratulations)")}
        if "text" not in columns:  # created by a version that did not keep the text
            self.db.execute("ALTER TABLE congratulations ADD COLUMN text TEXT NOT NULL DEFAULT ''")

    def open_collection(self, collection: Collection) -> None:
        """Open a window; one closed because its post did not go out opens again (resumed)."""
        self.db.execute(
            "INSERT INTO collections VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
            " opened_at = excluded.opened_at, closes_at = excluded.closes_at"
            " WHERE collections.closes_at <= collections.opened_at",
            (collection.post_id, collection.group_id, collection.slot, collection.opened_at,
             collection.closes_at))

    def close_collection(self, post_id: str, group_id: str, slot: str) -> None:
        self.db.execute("UPDATE collections SET closes_at = opened_at WHERE post_id = ? AND"
                        " group_id = ? AND slot = ?", (post_id, group_id, slot))

    def collection_at(self, group_id: str, at: float) -> Collection | None:
        """The latest collecting post in the group whose window is open at `at`."""
        row = self.db.execute(
            "SELECT * FROM collections WHERE group_id = ? AND opened_at <= ? AND closes_at >= ?"
            " ORDER BY opened_at DESC LIMIT 1", (group_id, at, at)).fetchone()
        return None if row is None else Collection(*row)

    def collections(self, post_id: str | None = None) -> list[Collection]:
        """Collections of a post (or all), newest first."""
        rows = self.db.execute(
            "SELECT * FROM collections WHERE ? IS NULL OR post_id = ? ORDER BY opened_at DESC",
            (post_id, post_id)).fetchall()
        return [Collection(*row) for row in rows]

    def record(self, record: Congratulation) -> bool:
        """Committed when this returns; False if the message was already counted."""
        cursor = self.db.execute(
            f"INSERT OR IGNORE INTO congratulations ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (record.message_id, record.post_id, record.group_id, record.member_id,
             record.member_name, record.at, ",".join(record.kinds), record.text[:TEXT_LIMIT]))
        return cursor.rowcount == 1

    def counts(self) -> dict[str, tuple[int, int]]:
        """Every post's (messages, members) so far, in one query (a list of posts)."""
        rows = self.db.execute("SELECT post_id, COUNT(*), COUNT(DISTINCT member_id)"
                               " FROM congratulations GROUP BY post_id").fetchall()
        return {str(row[0]): (int(row[1]), int(row[2])) for row in rows}

    def congratulations(self, post_id: str) -> list[Congratulation]:
        rows = self.db.execute(
            f"SELECT {COLUMNS} FROM congratulations WHERE post_id = ? ORDER BY at, rowid",
            (post_id,)).fetchall()
        return [Congratulation(row[0], row[1], row[2], row[3], row[4], row[5],
                               tuple(row[6].split(",")), row[7]) for row in rows]
