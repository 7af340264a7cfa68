"""Fuzzing what reads chat text: commands, FAQ questions, congratulations, schedule phrases.

Whatever anyone types, the matchers never raise and answer with their documented types, and
the schedule parser either gives a rule or a `ScheduleError`: a Chinese sentence for the admin,
never anything else. 200 cases each in the suite; `make fuzz` runs 10,000 (tests/conftest.py).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from hypothesis import example, given
from hypothesis import strategies as st

from bot.congrats.detector import CongratulationDetector, Quote, quote_in
from bot.core.commands import PREFIXES, Parsed, parse
from bot.core.config import (
    CONGRATULATION_KINDS,
    CongratulationSettings,
    FaqEntry,
    FaqSettings,
    load_settings,
)
from bot.core.messages import Incoming, MessageKind
from bot.core.textnorm import normalize
from bot.posts.schedule_rules import ScheduleError, ScheduleRule, parse_schedule
from bot.posts.workdays import WorkdayTrigger
from handlers.faq import COMBINED_KEY, FaqBook, FaqMatch
from tests.conftest import TEST_CONFIG
from tests.fuzz_text import CONFIGURED_WORD, MEMBER_TEXT, SCHEDULE_TEXT

SETTINGS = load_settings(TEST_CONFIG, environ={})
BOOK = FaqBook(SETTINGS.faq)
DETECTOR = CongratulationDetector(SETTINGS.congratulations)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=SHANGHAI)
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def incoming(text: str, kind: MessageKind = MessageKind.TEXT) -> Incoming:
    return Incoming("m", "wxid_x", text, kind, NOW, room_id="g@chatroom")


# --- commands -----------------------------------------------------------------------------


@given(MEMBER_TEXT)
@example("#\u200b发布 award")  # a zero-width space does not hide the command's word
@example("＃　定时　gala　每周一 9:00\n第二行")
def test_command_parsing_never_raises_and_gives_a_clean_word(text: str) -> None:
    parsed = parse(text)
    assert parsed is None or parsed.word
    if not text.strip().startswith(PREFIXES):
        assert parsed is None
    if parsed is not None:
        assert isinstance(parsed, Parsed)
        assert parsed.word == parsed.word.lower()
        for word in (parsed.word, *parsed.args):
            assert word and not any(char.isspace() or unicodedata.category(char) == "Cf"
                                    for char in word)
        assert isinstance(parsed.rest, str) and not parsed.rest.startswith("\n")


# --- FAQ ----------------------------------------------------------------------------------


def assert_an_answer_of(book: FaqBook, found: FaqMatch | None) -> None:
    if found is None:
        return
    assert isinstance(found, FaqMatch) and found.answer and found.keys
    keys = {entry.key for entry in book.settings.entries}
    if found.keys == (COMBINED_KEY,):
        assert found.answer == book.combined.answer
    else:
        assert set(found.keys) <= keys
        answers = {entry.key: entry.answer for entry in book.settings.entries}
        assert found.answer == "\n".join(answers[key] for key in found.keys)


@given(MEMBER_TEXT, st.booleans())
@example("電話多少？", False)
@example("@商会小助手\u2005地址", True)
def test_faq_matching_never_raises(text: str, mentioned: bool) -> None:
    found = BOOK.match(text, mentioned)
    assert found is None or found.answer
    assert_an_answer_of(BOOK, found)


FAQ_SETTINGS = st.builds(
    lambda entries, combined: FaqSettings(
        entries=[FaqEntry(key=f"k{number}", keywords=words, answer=answer)
                 for number, (words, answer) in enumerate(entries)],
        combined_keywords=combined),
    st.lists(st.tuples(st.lists(CONFIGURED_WORD, min_size=1, max_size=4), CONFIGURED_WORD.filter(bool)),
             max_size=5),
    st.lists(CONFIGURED_WORD, max_size=3))


@given(FAQ_SETTINGS, MEMBER_TEXT, st.booleans())
def test_faq_matching_never_raises_whatever_the_configured_keywords(
    settings: FaqSettings, text: str, mentioned: bool
) -> None:
    book = FaqBook(settings)
    assert_an_answer_of(book, book.match(text, mentioned))


# --- congratulations ----------------------------------------------------------------------

KINDS = set(CONGRATULATION_KINDS)


@given(MEMBER_TEXT, st.sampled_from(MessageKind), MEMBER_TEXT)
@example("「刘秘书长：喜讯：山西省山东商会」\n- - - - - - - - - - - - - - -\n👍", MessageKind.TEXT,
         "喜讯：山西省山东商会")
def test_congratulation_detection_never_raises(text: str, kind: MessageKind, title: str) -> None:
    kinds = DETECTOR.kinds_in(incoming(text, kind), post_title=title)
    assert isinstance(kinds, tuple) and set(kinds) <= KINDS
    assert list(kinds) == sorted(kinds, key=CONGRATULATION_KINDS.index)  # configured order
    assert len(set(kinds)) == len(kinds)
    quote = quote_in(text)
    assert quote is None or (isinstance(quote, Quote) and text.startswith("「")
                             and all(isinstance(part, str)
                                     for part in (quote.who, quote.quoted, quote.reply)))


CONGRATULATION_SETTINGS = st.dictionaries(
    st.sampled_from(CONGRATULATION_KINDS), st.lists(CONFIGURED_WORD, max_size=5)
).map(lambda kinds: CongratulationSettings(kinds=kinds))


@given(CONGRATULATION_SETTINGS, MEMBER_TEXT, MEMBER_TEXT)
def test_congratulation_detection_never_raises_whatever_the_configured_tokens(
    settings: CongratulationSettings, text: str, title: str
) -> None:
    kinds = CongratulationDetector(settings).kinds_in(incoming(text), post_title=title)
    assert isinstance(kinds, tuple) and set(kinds) <= KINDS


# --- normalising --------------------------------------------------------------------------


@given(MEMBER_TEXT)
@example("\ud83c郵編？")  # a lone surrogate: OpenCC would raise on it
def test_normalizing_never_raises_and_leaves_no_spaces(text: str) -> None:
    normalized = normalize(text)
    assert isinstance(normalized, str)
    assert not any(char.isspace() or char in "\u2005\ufe0f\u200b" for char in normalized)


# --- schedule phrases ---------------------------------------------------------------------

# The bot's zone, and zones with daylight saving time (a configured timezone may be any).
ZONES = st.sampled_from([SHANGHAI, *map(ZoneInfo, ["UTC", "America/New_York",
                                                   "Australia/Lord_Howe", "Pacific/Chatham"])])
MOMENTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2080, 12, 31))


def assert_a_chinese_sentence(error: ScheduleError) -> None:
    assert CHINESE.search(error.problem) and "例如：" in str(error), str(error)


@given(SCHEDULE_TEXT, ZONES, MOMENTS, st.booleans(), st.booleans())
@example("每周一 9:00", SHANGHAI, datetime(2026, 11, 25, 12), False, False)
@example("cron: 0 9 * * 1", SHANGHAI, datetime(2026, 11, 25, 12), False, False)
@example("每月\U00010a40日 9:00", SHANGHAI, datetime(2026, 11, 25, 12), False, False)  # isdigit()
# is true of 𐩀 (Kharosthi one) but int() cannot read it: this was a bare ValueError
def test_a_schedule_phrase_is_a_rule_or_a_chinese_sentence(
    text: str, tz: ZoneInfo, now: datetime, aware: bool, allow_past: bool
) -> None:
    if aware:
        now = now.replace(tzinfo=tz)
    try:
        rule = parse_schedule(text, tz, now, allow_past=allow_past)
    except ScheduleError as error:  # a UserError: the admin reads it
        assert_a_chinese_sentence(error)
        return
    assert isinstance(rule, ScheduleRule) and rule.text
    assert isinstance(rule.trigger, CronTrigger | WorkdayTrigger | DateTrigger)
    assert rule.recurring is not isinstance(rule.trigger, DateTrigger)
    assert rule.timezone == tz
    # The canonical text (written back to the post file) reads as the same rule.
    assert parse_schedule(rule.text, tz, now, allow_past=True).text == rule.text
    if isinstance(rule.trigger, DateTrigger) and not allow_past:
        assert rule.trigger.run_date > (now if now.tzinfo else now.replace(tzinfo=tz))
