"""Members ask, the bot answers: end to end through the simulator with the real client."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import pytest

from bot.core.messages import Incoming
from bot.core.router import Route
from bot.simulator import Simulator
from handlers.faq import MEMBER_ANSWERS_PER_WINDOW, MEMBER_WINDOW_SECONDS, FaqResponder
from tests.conftest import BOT_ID, PRESIDENTS, TEA, RunningBot, settings_for

ADMIN = "wxid_admin_wang"

PHONE_ANSWER = "电话/传真：0351-8224667"
POSTCODE_ANSWER = "邮政编码：030006"
ADDRESS_ANSWER = "联系地址：山西省太原市长治路306号火炬创业大厦C座15层"


async def test_group_question_gets_an_answer_mentioning_the_asker(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    await simulator.say("wxid_vp_001", "商会电话多少？", room_id=PRESIDENTS)
    sent = await simulator.wait_for_sent(timeout=5)
    assert sent.conversation_id == PRESIDENTS
    assert sent.text == f"@朱会长\u2005{PHONE_ANSWER}"
    assert list(sent.mention_ids) == ["wxid_vp_001"]


async def test_traditional_fullwidth_and_emoji_questions(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    await simulator.say("wxid_vp_002", "郵政編碼是多少呀？🙏", room_id=PRESIDENTS)
    sent = await simulator.wait_for_sent(timeout=5)
    assert sent.text.endswith(POSTCODE_ANSWER)
    await simulator.say("wxid_vp_003", "  ＥＭＡＩＬ 地址？[微笑]", room_id=PRESIDENTS)
    sent = await simulator.wait_for_sent(timeout=5)
    assert sent.text == "@周会长\u2005电子邮件：sxssdsh@163.com"


async def test_keyword_in_conversation_gets_no_answer(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    await simulator.say("wxid_vp_001", "我回头给你打电话", room_id=PRESIDENTS)
    await simulator.say("wxid_vp_002", "邮编？", room_id=PRESIDENTS)
    # The outbox keeps order: had the first message been answered, it would come first.
    sent = await simulator.wait_for_sent(timeout=5)
    assert sent.text.endswith(POSTCODE_ANSWER)
    assert [s.text for s in simulator.sent] == [sent.text]


async def test_same_answer_not_repeated_within_cooldown_unless_mentioned(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    await simulator.say("wxid_vp_001", "电话多少？", room_id=PRESIDENTS)
    first = await simulator.wait_for_sent(timeout=5)
    await simulator.say("wxid_vp_002", "電話是多少", room_id=PRESIDENTS)  # within cooldown
    await simulator.say("wxid_vp_003", "@商会小助手\u2005电话？", room_id=PRESIDENTS,
                        mention_ids=(BOT_ID,))
    second = await simulator.wait_for_sent(timeout=5)
    assert first.text == f"@朱会长\u2005{PHONE_ANSWER}"
    assert second.text == f"@周会长\u2005{PHONE_ANSWER}"
    assert len(simulator.sent) == 2


async def test_private_chat_question(simulator: Simulator, running_bot: RunningBot) -> None:
    await simulator.say("wxid_vp_004", "联系方式", room_id=None)
    sent = await simulator.wait_for_sent(timeout=5)
    assert sent.conversation_id == "wxid_vp_004"
    assert sent.room_id in (None, "")
    assert list(sent.mention_ids) == []
    assert sent.text.splitlines() == [
        "山西省山东商会联系方式：",
        PHONE_ANSWER,
        "电子邮件：sxssdsh@163.com",
        POSTCODE_ANSWER,
        "联系地址：山西省太原市长治路306号火炬创业大厦C座15层",
    ]


async def test_own_messages_and_other_groups_are_ignored(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    # Someone typing on the bot's own phone, and a question in a group the bot does not serve.
    await simulator.say(BOT_ID, "电话多少？", room_id=PRESIDENTS)
    await simulator.say("wxid_vp_001", "电话多少？", room_id=TEA)
    await simulator.say("wxid_vp_005", "邮编多少？", room_id=PRESIDENTS)
    sent = await simulator.wait_for_sent(timeout=5)
    assert sent.text == f"@李会长\u2005{POSTCODE_ANSWER}"
    assert len(simulator.sent) == 1


async def test_a_failing_handler_is_logged_alerted_once_and_the_bot_goes_on(
    simulator: Simulator, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(message: Incoming, found: bool) -> None:
        raise RuntimeError("handler bug")

    boom: Route[bool] = Route("boom", lambda m: True if m.text == "炸" else None, explode)
    running: RunningBot = await start_bot(settings_for(simulator.endpoint))
    running.bot.router.routes.insert(0, boom)
    with caplog.at_level(logging.ERROR, logger="bot.ops.unexpected"):
        await simulator.say("wxid_vp_001", "炸", room_id=PRESIDENTS)
        alert = await simulator.wait_for_sent(lambda s: s.conversation_id == ADMIN, timeout=5)
        await simulator.say("wxid_vp_002", "炸", room_id=PRESIDENTS)  # the same incident again
        await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
        sent = await simulator.wait_for_sent(lambda s: s.conversation_id == PRESIDENTS, timeout=5)
    assert sent.text.endswith(POSTCODE_ANSWER)
    assert alert.text.startswith("机器人内部出错（handler boom on message ")
    assert "RuntimeError: handler bug" in alert.text
    assert [s.conversation_id for s in simulator.sent].count(ADMIN) == 1  # once per incident
    failures = [r for r in caplog.records if "unexpected error in handler boom" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None and "handler bug" in str(failures[0].exc_info[1])


class FaqDecisions(logging.Handler):
    """The FAQ's log lines as they are written, to wait for a decision that sends nothing.
    (Handlers run in the event loop's thread, inside the FAQ handler.)"""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.changed.set()

    async def wait_for(self, text: str, timeout: float = 5) -> str:
        async with asyncio.timeout(timeout):
            while not (found := [line for line in self.lines if text in line]):
                self.changed.clear()
                await self.changed.wait()
        return found[0]


async def test_every_cooldown_decision_is_logged_and_the_held_back_asker_gets_silence(
    simulator: Simulator, running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="handlers.faq")
    decisions = FaqDecisions()
    logging.getLogger("handlers.faq").addHandler(decisions)
    try:
        await simulator.say("wxid_vp_001", "商会地址在哪？", room_id=PRESIDENTS)
        first = await simulator.wait_for_sent(timeout=5)
        await simulator.say("wxid_vp_002", "商會地址在哪裡？", room_id=PRESIDENTS)
        held = await decisions.wait_for("wxid_vp_002")
        await simulator.say("wxid_vp_003", "@商会小助手\u2005地址？", room_id=PRESIDENTS,
                            mention_ids=(BOT_ID,))
        second = await simulator.wait_for_sent(timeout=5)
        mentioned = await decisions.wait_for("wxid_vp_003")
    finally:
        logging.getLogger("handlers.faq").removeHandler(decisions)
    assert first.text == f"@朱会长\u2005{ADDRESS_ANSWER}"
    assert second.text == f"@周会长\u2005{ADDRESS_ANSWER}"  # the held-back asker got nothing
    assert [s.text for s in simulator.sent] == [first.text, second.text]

    logged = [r.getMessage() for r in caplog.records if r.name == "handlers.faq"]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "handlers.faq")
    assert logged[0] == (f"faq address in {PRESIDENTS} asked by wxid_vp_001: answered; "
                         "the same answer is held back here for 300 s; "
                         "answer 1 of 3 to this member in 600 s")
    found = re.fullmatch(rf"faq address in {PRESIDENTS} asked by wxid_vp_002: held back by the "
                         r"cooldown \(answered (\d+) s ago, (\d+) s left\)", held)
    assert found is not None, held
    ago, left = int(found.group(1)), int(found.group(2))
    assert ago + left == 300 and 290 <= left <= 300
    assert mentioned == (f"faq address in {PRESIDENTS} asked by wxid_vp_003: answered "
                         "(the bot was @-mentioned: no cooldown); "
                         "answer 1 of 3 to this member in 600 s")
    assert logged == [logged[0], held, mentioned]


def faq_responder(running: RunningBot) -> FaqResponder:
    responder = running.bot.router.route("faq").handle.__self__  # type: ignore[attr-defined]
    assert isinstance(responder, FaqResponder)
    return responder


async def test_a_member_mentioning_the_bot_ten_times_gets_three_answers_and_others_still_one(
    simulator: Simulator, running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """An @-mention skips the group cooldown, not the per-member limit (issue 9, item 5)."""
    caplog.set_level(logging.INFO, logger="handlers.faq")
    decisions = FaqDecisions()
    logging.getLogger("handlers.faq").addHandler(decisions)
    try:
        for number in range(10):  # @ by tapping the name (mention_ids) or by typing it
            tapped = number % 2 == 0
            await simulator.say("wxid_vp_001", f"@商会小助手\u2005电话？{number}", room_id=PRESIDENTS,
                                mention_ids=(BOT_ID,) if tapped else ())
        await decisions.wait_for(f"asked by wxid_vp_001: held back by the member limit "
                                 f"(3 answers to this member in the last {MEMBER_WINDOW_SECONDS} s")
        async with asyncio.timeout(10):
            while sum("asked by wxid_vp_001" in line for line in decisions.lines) < 10:
                decisions.changed.clear()
                await decisions.changed.wait()
        await simulator.say("wxid_vp_002", "@商会小助手 电话多少", room_id=PRESIDENTS)
        other = await simulator.wait_for_sent(lambda sent: "@黄会长" in sent.text, timeout=5)
    finally:
        logging.getLogger("handlers.faq").removeHandler(decisions)
    assert other.text == f"@黄会长\u2005{PHONE_ANSWER}"
    # The outbox keeps order: every answer to 朱会长 went out before 黄会长's.
    assert [s.text for s in simulator.sent] == [f"@朱会长\u2005{PHONE_ANSWER}"] * 3 + [other.text]

    logged = [r.getMessage() for r in caplog.records if r.name == "handlers.faq"]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "handlers.faq")
    mine = [line for line in logged if "asked by wxid_vp_001" in line]
    assert [line.split(": ", 1)[1] for line in mine[:3]] == [
        f"answered (the bot was @-mentioned: no cooldown); answer {n} of 3 to this member "
        f"in {MEMBER_WINDOW_SECONDS} s" for n in (1, 2, 3)]
    for line in mine[3:]:
        found = re.fullmatch(rf"faq phone in {PRESIDENTS} asked by wxid_vp_001: held back by the "
                             rf"member limit \(3 answers to this member in the last "
                             rf"{MEMBER_WINDOW_SECONDS} s, the next one in (\d+) s\)", line)
        assert found is not None, line
        assert MEMBER_WINDOW_SECONDS - 30 <= int(found.group(1)) <= MEMBER_WINDOW_SECONDS


async def test_the_member_limit_ends_with_its_window_and_spares_private_chats(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    responder = faq_responder(running_bot)
    for _ in range(MEMBER_ANSWERS_PER_WINDOW):
        await simulator.say("wxid_vp_001", "@商会小助手 邮编？", room_id=PRESIDENTS,
                            mention_ids=(BOT_ID,))
        await simulator.wait_for_sent(timeout=5)
    # Over the limit in the group; a private question is the outbox's business, answered.
    await simulator.say("wxid_vp_001", "@商会小助手 邮编？", room_id=PRESIDENTS, mention_ids=(BOT_ID,))
    await simulator.say("wxid_vp_001", "邮编？", room_id=None)
    private = await simulator.wait_for_sent(timeout=5)
    assert (private.conversation_id, private.text) == ("wxid_vp_001", POSTCODE_ANSWER)
    # Ten minutes on (the responder's clock moved, nothing else), the member is answered again.
    responder.clock = lambda: time.monotonic() + MEMBER_WINDOW_SECONDS + 1
    await simulator.say("wxid_vp_001", "@商会小助手 邮编？", room_id=PRESIDENTS, mention_ids=(BOT_ID,))
    again = await simulator.wait_for_sent(timeout=5)
    assert (again.conversation_id, again.text) == (PRESIDENTS, f"@朱会长\u2005{POSTCODE_ANSWER}")
    assert len(simulator.sent) == MEMBER_ANSWERS_PER_WINDOW + 2
