"""The shipped award post: clean for members, and its header lists every edit made to the seed."""

from __future__ import annotations

import re

import pytest

from bot.posts.article import clean_article
from tests.test_article import BRACKETED_PINYIN, CJK, REPO, T2S, split_post

AWARD_POST = REPO / "announcements" / "award-2019-2020-sihao.md"



@pytest.fixture(scope="module")
def award() -> tuple[dict[str, object], str]:
    meta, _, body = split_post(AWARD_POST.read_text(encoding="utf-8"))
    return meta, body


def test_award_post_settings(award: tuple[dict[str, object], str]) -> None:
    meta, _ = award
    assert meta["id"] == "award-2019-2020-sihao"
    assert meta["title"] == "喜讯：山西省山东商会被全国工商联评为2019-2020年度全国“四好”商会"
    assert meta["groups"] == ["山西省山东商会会长官方群"]
    assert meta["collect_congratulations"] is True
    assert meta["mention_all"] is False
    assert meta["paused"] is False
    assert "schedule" not in meta


def test_award_post_has_no_pinyin_traditional_characters_or_markdown(
    award: tuple[dict[str, object], str],
) -> None:
    _, body = award
    assert not BRACKETED_PINYIN.search(body)
    assert T2S.convert(body) == body
    assert "#" not in body and "*" not in body and "`" not in body
    assert not re.search(r"^\s*>", body, re.M)
    assert not re.search(r"\[[^\]]*\]\([^)]*\)", body)


def test_award_post_has_no_garbled_text(award: tuple[dict[str, object], str]) -> None:
    _, body = award
    assert "\ufffd" not in body
    assert not re.search(f"[{CJK}][?!]|[?!][{CJK}]", body)
    for remnant in ("吨腥", "腥A", "shù", "募", "阏"):
        assert remnant not in body
    assert clean_article(body).flags == []
    assert clean_article(body).text == body  # already as clean as the cleaner makes it


def test_award_post_restores_the_two_damaged_places(award: tuple[dict[str, object], str]) -> None:
    _, body = award
    assert "充分彰显了山西省山东商会厚德鲁商、泰山担当的家国情怀，赢得了社会各界的高度赞扬" in body
    assert "已初见成效！《中华工商时报》和《学习强国》头条刊登了长篇报道。" in body


def test_award_post_leads_with_the_core_news(award: tuple[dict[str, object], str]) -> None:
    _, body = award
    first, second, third, fourth = body.split("\n\n")[:4]
    assert "2019-2020年度全国“四好”商会" in first
    assert "最高规格的荣誉" in first and "1478家商会" in first
    assert "刘小虎秘书长" in second and "喜捧奖牌" in second
    assert "群情振奋" in third
    assert "伊纪余会长" in fourth
    assert "慈善义捐331.1万元" in body and "109.3万元" in body


def test_award_post_ends_with_the_contact_block(award: tuple[dict[str, object], str]) -> None:
    _, body = award
    assert body.split("\n\n")[-1].splitlines() == [
        "电话/传真：0351-8224667",
        "电子邮件：sxssdsh@163.com",
        "邮政编码：030006",
        "联系地址：山西省太原市长治路306号火炬创业大厦C座15层",
    ]


def test_award_post_paragraphs_fit_the_message_parts(award: tuple[dict[str, object], str]) -> None:
    _, body = award
    assert "\n\n\n" not in body
    assert max(len(paragraph) for paragraph in body.split("\n\n")) < 2000
