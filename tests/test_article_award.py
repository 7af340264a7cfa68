"""The shipped award post: clean for members, and its header lists every edit made to the seed."""

from __future__ import annotations

import difflib
import re

import pytest

from bot.posts.article import clean_article
from tests.test_article import BRACKETED_PINYIN, CJK, REPO, T2S, seed_text, split_post

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


# --- the header: every edit made to the seed, for the secretariat to review ---------------


@pytest.fixture(scope="module")
def header() -> str:
    """The front matter's comments, without their '#'."""
    _, front, _ = split_post(AWARD_POST.read_text(encoding="utf-8"))
    return "\n".join(line[1:].strip() for line in front.splitlines() if line.startswith("#"))


def test_award_post_has_been_reviewed(award: tuple[dict[str, object], str]) -> None:
    meta, _ = award
    assert "review" not in meta  # no flag left: the bot may publish it


def test_award_post_header_names_the_changes_users_found(header: str) -> None:
    # The two repaired places.
    assert "泰山担当？shù)募核阏" in header and "泰山担当的家国情怀" in header
    assert "吨腥A工商时报》" in header and "《中华工商时报》" in header
    # The paragraphs put in another order: 荣誉是对… and 当天，… moved before 这个荣誉来之不易.
    assert "段落顺序" in header
    assert "荣誉是对过去工作的肯定" in header and "当天，他指示秘书处" in header
    assert "这个荣誉来之不易" in header
    # The two dates left out.
    assert "2021年11月5日" in header and "2021年12月21日" in header
    # 病毒爆发 rewritten.
    assert "病毒爆发" in header and "疫情暴发" in header
    # A related article's headline made into a sentence of the body.
    assert "喜讯丨山西省山东商会荣获全国工商联“抗击新冠肺炎疫情先进商会组织”" in header
    assert "商会还荣获全国工商联“抗击新冠肺炎疫情先进商会组织”称号。" in header


_NOT_WORDS = re.compile(r"[^\w]+")  # punctuation, quotes, spaces, line breaks
_CLAUSE_END = re.compile(r"[，。！？；：\n]|——|……")


def _words(text: str) -> str:
    return _NOT_WORDS.sub("", text)


def _clauses(text: str) -> list[str]:
    return [_words(part) for part in _CLAUSE_END.split(text) if _words(part)]


def _undocumented(source: str, target: str, notes: str) -> list[str]:
    """Words of `source` clauses changed in `target` that the notes do not quote.

    Each changed clause is lined up with the most similar run of 1-3 clauses of `target`
    (an edit may split or join clauses); a changed piece counts as quoted when the notes
    hold it with its neighbour on either side. A clause with no counterpart (a deleted
    headline, an added sentence) must be quoted whole. Punctuation is left out: changes
    to it are listed by hand.
    """
    target_words, notes = _words(target), _words(notes)
    parts = _clauses(target)
    runs = ["".join(parts[i : i + n]) for n in (1, 2, 3) for i in range(len(parts) - n + 1)]
    missing = []
    for clause in _clauses(source):
        if clause in target_words:
            continue
        match = max(runs, key=lambda run: difflib.SequenceMatcher(None, clause, run, autojunk=False).ratio())
        aligned = difflib.SequenceMatcher(None, clause, match, autojunk=False)
        if aligned.ratio() < 0.5:
            missing += [] if clause in notes else [clause]
            continue
        for op, i1, i2, j1, j2 in aligned.get_opcodes():
            if op == "equal" or (op == "insert" and i1 in (0, len(clause))):
                continue  # an insert at a clause's edge belongs to its neighbour
            changed = clause[i1:i2] or match[j1:j2]
            around = (clause[i1 - 1 : i1] + changed if i1 else "", changed + clause[i2 : i2 + 1])
            if not any(len(quote) > len(changed) and quote in notes for quote in around):
                missing.append(f"{clause}: {changed}")
    return missing


def test_award_post_header_quotes_every_word_changed_from_the_seed(
    award: tuple[dict[str, object], str], header: str,
) -> None:
    _, body = award
    seed = clean_article(seed_text()).text  # the seed as posts import leaves it
    assert _undocumented(seed, body, header) == []  # left out or rewritten
    assert _undocumented(body, seed, header) == []  # added or rewritten


def test_the_header_check_notices_an_undocumented_edit(
    award: tuple[dict[str, object], str], header: str,
) -> None:
    _, body = award
    seed = clean_article(seed_text()).text
    without_note = "\n".join(line for line in header.splitlines() if "病毒爆发" not in line)
    assert _undocumented(seed, body, without_note) == ["2020年新冠肺炎病毒爆发: 病毒爆"]
    edited = body.replace("群情振奋", "群情激动").replace("不断丰富工作内涵，", "")
    assert _undocumented(seed, edited, header) == ["群情振奋: 振奋", "不断丰富工作内涵"]
    assert _undocumented(edited, seed, header) == ["群情激动: 激动"]
