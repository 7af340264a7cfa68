"""Which messages are questions for the FAQ, as members really write them."""

from __future__ import annotations

import pytest

from bot.core.config import load_settings
from handlers.faq import FaqBook
from tests.conftest import TEST_CONFIG

SETTINGS = load_settings(TEST_CONFIG, environ={})
BOOK = FaqBook(SETTINGS.faq)
PHONE, EMAIL, POSTCODE, ADDRESS = (
    "0351-8224667", "sxssdsh@163.com", "030006", "山西省太原市长治路306号火炬创业大厦C座15层"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("商会电话多少？", PHONE),
        ("電話多少？", PHONE),  # traditional
        ("传真号码?", PHONE),
        ("请问 商会 的 电话 是多少 🙏", PHONE),  # spaces and emoji
        ("电话", PHONE),  # a bare keyword is a request
        ("请问，邮编", POSTCODE),
        ("郵政編碼是多少呀[微笑]", POSTCODE),  # WeChat smiley code
        ("邮箱地址？", EMAIL),  # the e-mail, not the street address
        ("ＥＭＡＩＬ？", EMAIL),  # full-width letters
        ("商会地址在哪", ADDRESS),
        ("辦公地點怎麼走？", ADDRESS),
    ],
)
def test_questions_get_the_right_answer(text: str, expected: str) -> None:
    found = BOOK.match(text, mentioned=False)
    assert found is not None and expected in found.answer
    assert found.answer.count("\n") == 0  # one fact asked, one line answered


@pytest.mark.parametrize(
    "text",
    ["我回头给你打电话", "明天开会吗？我回头给你打电话", "今天天气不错", "地址我已经发你邮箱了", ""],
)
def test_keywords_in_conversation_get_no_answer(text: str) -> None:
    assert BOOK.match(text, mentioned=False) is None


def test_mentioning_the_bot_makes_a_keyword_a_question() -> None:
    found = BOOK.match("@商会小助手\u2005我回头给你打电话", mentioned=True)
    assert found is not None and PHONE in found.answer


def test_contact_details_come_combined() -> None:
    for text in ("联系方式？", "聯繫方式", "怎么联系商会"):
        found = BOOK.match(text, mentioned=False)
        assert found is not None
        lines = found.answer.splitlines()
        assert lines[0] == "山西省山东商会联系方式："
        assert all(any(fact in line for line in lines) for fact in (PHONE, EMAIL, POSTCODE, ADDRESS))


def test_two_facts_in_one_question_get_both() -> None:
    found = BOOK.match("电话和邮箱是多少", mentioned=False)
    assert found is not None
    assert found.answer.splitlines() == ["电话/传真：0351-8224667", "电子邮件：sxssdsh@163.com"]
