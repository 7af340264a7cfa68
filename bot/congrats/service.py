"""The congratulations service: windows, records, the tally and the thank-you, in one owner.

It hears from the publisher when a collecting post's run starts in a group (the window opens
at once: members answer within milliseconds) and when its first part did not go out (the
window closes). Group messages the detector finds are recorded once each, attributed to the
group's latest open window. The thank-you is keyed in the send ledger, so it goes out once
per group, whoever asks and however often.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque
from dataclasses import dataclass

from bot.congrats.detector import RED_ENVELOPE, STICKER, CongratulationDetector, quote_in
from bot.congrats.records import Collection, Congratulation, CongratulationRecords
from bot.congrats.report import Tally, tally, thanks_text
from bot.core.config import RoleSettings
from bot.core.errors import UserError
from bot.core.messages import Incoming, MessageKind, Outgoing, People
from bot.core.outbox import Outbox, Outcome
from bot.core.retry import until_written
from bot.core.store import THANKS_SUFFIX, LedgerKey, Store
from bot.posts.files import Post
from bot.posts.library import PostLibrary

COUNTABLE = {MessageKind.RED_ENVELOPE, MessageKind.STICKER, MessageKind.TEXT}
LOOKBACK_SECONDS = 24 * 3600.0  # auto thanks: windows closed this recently
HELD_LIMIT = 10_000  # congratulations kept while the database refuses writes
log = logging.getLogger(__name__)
# What the CSV shows for a message that has no words of its own.
SAID_WITHOUT_WORDS = {MessageKind.RED_ENVELOPE: f"[{RED_ENVELOPE}]",
                      MessageKind.STICKER: f"[{STICKER}]"}


@dataclass(frozen=True)
class Candidate:
    """A group message that may congratulate (recording checks the post's window)."""

    kinds: tuple[str, ...]


class Congratulations:
    def __init__(self, records: CongratulationRecords, store: Store, outbox: Outbox,
                 library: PostLibrary, people: People, detector: CongratulationDetector,
                 window_hours: float, roles: RoleSettings) -> None:
        self.records = records
        self.store = store
        self.outbox = outbox
        self.library = library
        self.people = people
        self.detector = detector
        self.window_hours = window_hours
        # The secretariat sends the posts: it is never counted as "not yet congratulated".
        self.staff = {*roles.secretaries, *roles.admins}
        self._held: deque[Congratulation] = deque(maxlen=HELD_LIMIT)  # the database refused
        self._writer: asyncio.Task[None] | None = None

    # --- windows (the publisher's RunWatcher) ------------------------------------------------

    def run_started(self, post: Post, group_id: str, slot: str) -> None:
        if post.meta.collect_congratulations:
            hours = post.meta.congratulation_window_hours or self.window_hours
            now = time.time()
            self.records.open_collection(
                Collection(post.id, group_id, slot, now, now + hours * 3600))

    def first_part_unsent(self, post: Post, group_id: str, slot: str) -> None:
        if post.meta.collect_congratulations:
            self.records.close_collection(post.id, group_id, slot)

    # --- records ------------------------------------------------------------------------------

    def candidate(self, message: Incoming) -> Candidate | None:
        if message.room_id is None or message.kind not in COUNTABLE:
            return None
        kinds = self.detector.kinds_in(message)
        if kinds or quote_in(message.text):
            return Candidate(kinds)
        return None

    async def record(self, message: Incoming, candidate: Candidate) -> bool:
        """Counted once per message id, attributed to the group's latest open collecting post;
        committed before this returns. False if it does not count."""
        assert message.room_id is not None
        # Attributed by when the bot sees it: the gateway's clock may be off from ours.
        collection = self.records.collection_at(message.room_id, time.time())
        if collection is None:
            return False
        kinds = candidate.kinds
        if quote_in(message.text) is not None:  # only a quote needs the post's title to judge
            title = self.library.title_of(collection.post_id)
            kinds = self.detector.kinds_in(message, title) or kinds
        if not kinds:
            return False
        name = await self.people.member_name(message.room_id, message.talker_id)
        said = SAID_WITHOUT_WORDS.get(message.kind, message.text)
        return self._record(Congratulation(
            message.message_id, collection.post_id, message.room_id, message.talker_id, name,
            message.time.timestamp(), kinds, said))

    def _record(self, congratulation: Congratulation) -> bool:
        """Committed now; or, while the database refuses writes (locked, the disk full), held
        and committed by one writer once it takes them again: none lost, none twice (by id)."""
        if self._writer is None:
            try:
                return self.records.record(congratulation)
            except sqlite3.OperationalError:
                self._writer = asyncio.ensure_future(self._write_held())
        self._held.append(congratulation)
        return True

    def _commit_held(self) -> None:
        """As many held congratulations as the database takes now, in order; raises at the
        first it refuses."""
        while self._held:
            self.records.record(self._held[0])
            self._held.popleft()

    async def _write_held(self) -> None:
        try:
            await until_written(self._commit_held)
            log.info("the congratulations held while the database refused them are recorded")
        except sqlite3.Error as error:  # closed: the bot stopped first
            log.error("%d congratulation(s) held while the database refused them are not "
                      "recorded: %s", len(self._held), error)
        finally:
            self._writer = None

    # --- reports ------------------------------------------------------------------------------

    def tally(self, post_id: str | None = None) -> Tally:
        """The tally of a post (the latest collecting one if None), or a UserError."""
        if post_id is None:
            latest = self.records.collections()
            if not latest:
                raise UserError("还没有征集祝贺的公告发出过。公告文件里设 collect_congratulations = true。")
            post_id = latest[0].post_id
        with contextlib.suppress(sqlite3.OperationalError):
            self._commit_held()  # the report counts them all, if the database takes them now
        title = self.library.title_of(post_id)
        found = tally(self.records, post_id, title)
        if found is None:
            raise UserError(f"“{title}”还没有发到群里，或没有征集祝贺。")
        return found

    async def not_congratulated(self, found: Tally) -> list[str]:
        """Names of the members of the post's groups who have not congratulated, each once;
        the bot, the secretaries and the admins are not asked to."""
        done = {*found.members, self.people.self_id, *self.staff}
        missing: dict[str, str] = {}
        for group in dict.fromkeys(c.group_id for c in self.records.collections(found.post_id)):
            for member in await self.people.room_member_ids(group):
                if member not in done and member not in missing:
                    missing[member] = await self.people.member_name(group, member)
        return list(missing.values())

    # --- thanks -------------------------------------------------------------------------------

    async def thank(self, post_id: str) -> tuple[Tally, bool]:
        """One thank-you to each group of the post; (the tally, whether any went out now)."""
        found = tally(self.records, post_id, self.library.title_of(post_id))
        if found is None or not found.records:
            raise UserError(f"“{self.library.title_of(post_id)}”还没有收到祝贺，暂不致谢。")
        results = [await outcome for outcome in self._send_thanks(found)]
        return found, Outcome.SENT in results

    def _send_thanks(self, found: Tally) -> list[asyncio.Future[Outcome]]:
        """The thank-you for each group of the post's collections, keyed in the send ledger."""
        text = thanks_text(found)
        futures = []
        for collection in self.records.collections(found.post_id):
            key = LedgerKey(found.post_id + THANKS_SUFFIX, collection.group_id, collection.slot,
                            1, 1)
            self.store.plan([key])
            futures.append(self.outbox.send(Outgoing(collection.group_id, text, reason="thanks",
                                                     ledger=key)))
        return futures

    async def thank_closed_windows(self, now: float | None = None) -> int:
        """auto_thanks: when a collecting post's window has closed (within the lookback, so a
        bot down over the closing still thanks), one thank-you per group; returns how many."""
        now = time.time() if now is None else now
        thanked = 0
        for post_id in dict.fromkeys(c.post_id for c in self.records.collections()
                                     if now - LOOKBACK_SECONDS <= c.closes_at <= now):
            if self.store.ledger(post_id=post_id + THANKS_SUFFIX):
                continue
            found = tally(self.records, post_id, self.library.title_of(post_id))
            if found is not None and found.records:
                self._send_thanks(found)
                thanked += 1
        return thanked
