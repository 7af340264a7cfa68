"""FAQ: members ask for the chamber's phone, fax, e-mail, postcode or address; the bot answers.

It answers a question ("电话多少？", "商会地址在哪", a bare "邮编") or anything that @-mentions
it, never a keyword in passing ("我回头给你打电话"). In a group the same answer is not repeated
within the cooldown unless the asker @-mentions the bot, and no member gets more than
MEMBER_ANSWERS_PER_WINDOW answers per MEMBER_WINDOW_SECONDS, @-mention or not. Every decision in
a group is logged at INFO (answered, or held back and for how long): a silence can be explained
afterwards.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.cache import RecentTimes
from bot.core.config import FaqEntry, FaqSettings
from bot.core.messages import Incoming, MessageKind
from bot.core.replies import Replies
from bot.core.textnorm import normalize

log = logging.getLogger(__name__)

COMBINED_KEY = "contact"
# In groups, at most 3 FAQ answers to one member in 10 minutes, @-mention or not. The facts are
# four lines that do not change: a member answered three times has them, and more only fills
# 150 screens (an @-mention skipped the cooldown: 10 @-mentions got 10 answers). Everyone else
# is still answered; private chats are left to the outbox's reply limits ([sending]).
MEMBER_ANSWERS_PER_WINDOW = 3
MEMBER_WINDOW_SECONDS = 600
# A clause is a question if it has a question mark or one of these words.
QUESTION_WORDS = (
    "多少", "什么", "啥", "哪", "吗", "么", "几", "请问", "求", "告诉", "给个", "给一下",
    "发一下", "发个", "问一下", "问下", "麻烦", "咋", "如何", "怎", "有没有", "是不是",
)
# Words that may surround a bare keyword ("商会的电话") without making it conversation.
FILLER = re.compile(r"商会|秘书处|我们|咱们|咱|的|请|一下|呢|呀|啊|吧|了|是")
CLAUSE_END = re.compile(r"(?<=[,.!?;:。，！？；：、~…])")


@dataclass(frozen=True)
class FaqMatch:
    keys: tuple[str, ...]
    answer: str


class FaqBook:
    """The configured entries and how to find them in what members write."""

    def __init__(self, settings: FaqSettings) -> None:
        self.settings = settings
        self.combined = FaqEntry(
            key=COMBINED_KEY,
            keywords=settings.combined_keywords or [COMBINED_KEY],
            answer="\n".join([settings.combined_title, *(e.answer for e in settings.entries)]),
        )
        entries = [*settings.entries, self.combined] if settings.combined_keywords else [
            *settings.entries
        ]
        # Longest keyword first, so "邮箱地址" is the e-mail, not the address.
        pairs = [(normalize(word), entry) for entry in entries for word in entry.keywords]
        self._keywords = sorted(pairs, key=lambda pair: -len(pair[0]))

    def _entries_in(self, clause: str) -> tuple[list[FaqEntry], str]:
        """The entries named in a clause, and the clause with their keywords blanked out."""
        found: list[FaqEntry] = []
        for word, entry in self._keywords:
            if word and word in clause:
                clause = clause.replace(word, "\0")
                if entry not in found:
                    found.append(entry)
        return found, clause

    @staticmethod
    def _is_question(clause: str, entries_removed: str) -> bool:
        if "?" in clause or any(word in clause for word in QUESTION_WORDS):
            return True
        rest = FILLER.sub("", entries_removed)
        return not re.sub(r"[\W_\0]", "", rest)

    def match(self, text: str, mentioned: bool) -> FaqMatch | None:
        """The entries a message asks for, in the order of the configuration, or None."""
        normalized = normalize(text)
        if not normalized:
            return None
        wanted: list[FaqEntry] = []
        for clause in CLAUSE_END.split(normalized):
            entries, removed = self._entries_in(clause)
            if not entries:
                continue
            if mentioned or self._is_question(clause, removed):
                wanted.extend(entry for entry in entries if entry not in wanted)
        if not wanted:
            return None
        return self._answer_for(wanted)

    def _answer_for(self, wanted: list[FaqEntry]) -> FaqMatch:
        singles = [entry for entry in wanted if entry.key != COMBINED_KEY]
        if len(singles) < len(wanted) or len(singles) >= 3:
            return FaqMatch((COMBINED_KEY,), self.combined.answer)
        ordered = [entry for entry in self.settings.entries if entry in singles]
        return FaqMatch(
            tuple(entry.key for entry in ordered), "\n".join(entry.answer for entry in ordered)
        )


class FaqResponder:
    """Matcher and handler for the router, with the per-group cooldown and the member limit."""

    def __init__(self, settings: FaqSettings, replies: Replies,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.book = FaqBook(settings)
        self.replies = replies
        self.cooldown = settings.cooldown_seconds
        self.clock = clock
        self._last_answered: dict[tuple[str, tuple[str, ...]], float] = {}
        self._answered_member = RecentTimes(MEMBER_WINDOW_SECONDS, 10_000)

    def matches(self, message: Incoming) -> FaqMatch | None:
        if message.kind is not MessageKind.TEXT:
            return None
        return self.book.match(message.text, mentioned=message.mentions_bot)

    async def answer(self, message: Incoming, found: FaqMatch) -> None:
        if message.in_group and not self._group_allows(message, found.keys):
            return
        self.replies.reply(message, found.answer)

    def _group_allows(self, message: Incoming, keys: tuple[str, ...]) -> bool:
        """The member limit first (an @-mention does not skip it), then the cooldown."""
        what = f"faq {'+'.join(keys)} in {message.chat_id} asked by {message.talker_id}"
        now = self.clock()
        answered = self._answered_member.within(message.talker_id, now)
        if len(answered) >= MEMBER_ANSWERS_PER_WINDOW:
            log.info("%s: held back by the member limit (%d answers to this member in the last "
                     "%d s, the next one in %d s)", what, len(answered), MEMBER_WINDOW_SECONDS,
                     math.ceil(answered[0] + MEMBER_WINDOW_SECONDS - now))
            return False
        count = (f"answer {len(answered) + 1} of {MEMBER_ANSWERS_PER_WINDOW} to this member "
                 f"in {MEMBER_WINDOW_SECONDS} s")
        if message.mentions_bot:
            log.info("%s: answered (the bot was @-mentioned: no cooldown); %s", what, count)
        elif not self._cooldown_allows(message.chat_id, keys, what, count, now):
            return False
        self._answered_member.add(message.talker_id, now)
        return True

    def _cooldown_allows(self, group: str, keys: tuple[str, ...], what: str, count: str,
                         now: float) -> bool:
        """Whether the group may get this answer now (then the cooldown starts again)."""
        last = self._last_answered.get((group, keys))
        if last is not None and now - last < self.cooldown:
            log.info("%s: held back by the cooldown (answered %d s ago, %d s left)",
                     what, int(now - last), math.ceil(self.cooldown - (now - last)))
            return False
        self._last_answered[(group, keys)] = now
        log.info("%s: answered; the same answer is held back here for %.0f s; %s",
                 what, self.cooldown, count)
        return True
