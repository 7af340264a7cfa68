"""From a scraped article to a draft post: the cleaner, the flagger, the draft file.

The page side is in test_article_source.py, the shipped award post in test_article_award.py."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.posts.article import Flag, clean_article, draft_post
from bot.posts.files import parse_post

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seeds" / "000_0fa0870774f01a57.txt"
T2S = opencc.OpenCC("t2s")

CJK = r"\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef“”‘’"
BRACKETED_PINYIN = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü1-5' ]+[)）]")


def cleaned(text: str) -> str:
    return clean_article(text).text


def seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"the raw seed is not beside the repo: {SEED}")
    return SEED.read_text(encoding="utf-8")


def split_post(text: str) -> tuple[dict[str, object], str, str]:
    """(front matter values, front matter text, body) of a post file."""
    assert text.startswith("+++\n")
    front, _, body = text[4:].partition("\n+++\n")
    return tomllib.loads(front), front, body.strip("\n")


# --- cleaning rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("六一兒童節(jié)來臨", "六一儿童节来临"),  # ASCII brackets, tone marks
        ("省工商聯（lián）又傳來", "省工商联又传来"),  # full-width brackets
        ("兒童節(jie)來臨", "儿童节来临"),  # no tone marks
        ("兒童節(jie2)來臨", "儿童节来临"),  # tone digit
        ("綠(lǜ)色", "绿色"),  # ü
        ("兩會建設“四創(chuàng)四聯(lián)”活動", "两会建设“四创四联”活动"),
    ],
)
def test_bracketed_pinyin_after_a_character_is_removed(raw: str, expected: str) -> None:
    assert cleaned(raw) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "认定为全国“四好”商会(2019)",  # a year
        "全国“四好”商会（简称“四好”）",  # a real aside
        "世界卫生组织(WHO)发布",  # an abbreviation
        "下载商会(app)即可",  # English, not a syllable
        "工作计划(role)",
        "Python(jie)语言",  # after latin, not after a character
        "方案(2)",
    ],
)
def test_real_parentheses_are_kept(kept: str) -> None:
    assert cleaned(kept) == kept


def test_traditional_characters_become_simplified() -> None:
    assert cleaned("山西省山東商會榮獲全國工商聯表彰") == "山西省山东商会荣获全国工商联表彰"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("从省工商联又传来喜讯,我会获评", "从省工商联又传来喜讯，我会获评"),
        ("喜讯传来,群情振奋!", "喜讯传来，群情振奋！"),
        ("由左至右:", "由左至右："),
        ("电话/传真:0351-8224667", "电话/传真：0351-8224667"),
        ("如何加强商会党建工作?如何破解难题?", "如何加强商会党建工作？如何破解难题？"),
        ("朱英海;梁荣", "朱英海；梁荣"),
        ("美名远扬.", "美名远扬。"),
        ("实至名归...", "实至名归……"),
        ("2021年11月5日,《中华工商时报》", "2021年11月5日，《中华工商时报》"),
    ],
)
def test_ascii_punctuation_in_chinese_text_becomes_full_width(raw: str, expected: str) -> None:
    assert cleaned(raw) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "捐赠109.3万元",
        "电子邮件：sxssdsh@163.com",
        "详见 https://www.example.cn/a?b=1,2",
        "比分 3:2",
        "Hello, world!",
    ],
)
def test_ascii_punctuation_in_numbers_addresses_and_english_is_kept(kept: str) -> None:
    assert cleaned(kept) == kept


def test_spaces_between_characters_are_removed_but_not_around_latin() -> None:
    assert cleaned("全面打赢疫情防控攻堅戰——山 西 省 山 東 商 會 再 次 發(fā) 力") == (
        "全面打赢疫情防控攻坚战——山西省山东商会再次发力"
    )
    assert cleaned("小店区红十字会 接收 山西省山东商会防疫物资") == (
        "小店区红十字会接收山西省山东商会防疫物资"
    )
    assert cleaned("以优异成绩向建党百年华诞献礼 。") == "以优异成绩向建党百年华诞献礼。"
    assert cleaned("请在 WeChat 里打开") == "请在 WeChat 里打开"


def test_a_space_inside_a_number_is_removed() -> None:
    assert cleaned("慈善义捐331 .1万元") == "慈善义捐331.1万元"
    assert cleaned("慈善义捐331. 1万元") == "慈善义捐331.1万元"
    assert cleaned("共 2019 年") == "共 2019 年"  # a number between words keeps its spaces


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("## 喜讯：我会获评“四好”商会", "喜讯：我会获评“四好”商会"),
        ("这是**最高规格**的荣誉", "这是最高规格的荣誉"),
        ("这是*最高*的荣誉", "这是最高的荣誉"),
        ("请回复`收到`", "请回复收到"),
        ("> 春花秋实，瓜熟蒂落。", "春花秋实，瓜熟蒂落。"),
        ("详见[商会官网](https://www.example.cn)", "详见商会官网 https://www.example.cn"),
        ("合影![合影](photo.jpg)留念", "合影留念"),
        ("* 朱英海", "· 朱英海"),
        ("3#楼", "3#楼"),  # a building number, not a heading
    ],
)
def test_markdown_symbols_are_stripped(raw: str, expected: str) -> None:
    assert cleaned(raw) == expected


def test_a_markdown_rule_line_disappears() -> None:
    assert cleaned("第一段。\n\n---\n\n第二段。") == "第一段。\n\n第二段。"


def test_whitespace_one_blank_line_between_paragraphs() -> None:
    raw = "　　第一段。  \n\n\n\n第二段第一行\n第二段第二行\n\n\n"
    assert cleaned(raw) == "第一段。\n\n第二段第一行\n第二段第二行"


def test_scraped_text_without_blank_lines_has_one_paragraph_per_line() -> None:
    assert cleaned("喜讯传来，群情振奋！\r\n这个荣誉来之不易。\n") == (
        "喜讯传来，群情振奋！\n\n这个荣誉来之不易。"
    )


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from(list("山東商會節著华A座1 3.,!?:;()（）*#>`-\n　“”《》。！jiéshù\ufffd腥阏")),
               max_size=40))
def test_cleaning_clean_text_changes_nothing(raw: str) -> None:
    once = cleaned(raw)
    assert cleaned(once) == once


# --- flags --------------------------------------------------------------------------------


def flag_on(text: str) -> list[Flag]:
    return clean_article(text).flags


def test_replacement_characters_are_flagged_with_the_cleaned_line_number() -> None:
    flags = flag_on("第一段。\n商会\ufffd\ufffd捐赠物资。")
    assert [flag.line for flag in flags] == [3]  # a blank line now separates the paragraphs
    assert "\ufffd" in flags[0].snippet and "编码" in flags[0].why


def test_a_question_mark_glued_where_no_question_is_asked_is_flagged() -> None:
    (flag,) = flag_on("充分彰显了泰山担当?的家国情怀")
    assert "担当？的" in flag.snippet  # quoted as the cleaned text reads
    assert "?" in flag.why


def test_real_questions_and_exclamations_are_not_flagged() -> None:
    assert flag_on("如何加强新时代商会党建工作?如何与时俱进?") == []
    assert flag_on("获奖之后,怎么办?对此,他指出") == []
    assert flag_on("喜讯传来,群情振奋!") == []


def test_an_exclamation_mark_glued_between_characters_is_flagged() -> None:
    (flag,) = flag_on("经过半年多的实践已初见成效!吨报刊登长篇报道")
    assert "！吨" in flag.snippet


def test_a_lone_latin_letter_inside_characters_is_flagged_but_not_a_label() -> None:
    (flag,) = flag_on("《中华工商时报》和《腥A工商时报》")
    assert "腥A工" in flag.snippet and "A" in flag.why
    assert flag_on("联系地址：火炬创业大厦C座15层") == []
    assert flag_on("在A股上市") == []


def test_a_run_of_mojibake_characters_is_flagged_a_rare_name_is_not() -> None:
    garbled = "充分彰显了".encode().decode("gbk", errors="ignore")  # UTF-8 read as GBK
    assert len(flag_on(f"商会{garbled}家国情怀")) == 1
    assert flag_on("会长张堃出席") == []  # one rare character: a name, not damage
    assert len(flag_on("锟斤拷锟斤拷")) == 1


def test_a_lost_pinyin_annotation_is_flagged() -> None:
    (flag,) = flag_on("泰山擔當?shù)的家國情懷")
    assert "shù)" in flag.snippet and "注音" in flag.why


def test_t2s_leftover_zhe_is_pointed_out_for_review() -> None:
    (flag,) = flag_on("时时、事事、处处发揮著“桥梁纽带”作用")
    assert "著" in flag.snippet and "着" in flag.why
    assert flag_on("著名企业家") == []


def test_the_two_damaged_places_of_the_raw_seed_are_flagged() -> None:
    article = clean_article(seed_text())
    snippets = " | ".join(flag.snippet for flag in article.flags)
    # …美名远扬。 … 已初见成效!吨腥A工商时报》 (the GBK bytes of “！《中華” one byte short)
    assert "吨腥A" in snippets
    # 泰山担当?shù)募覈閼, (the GBK bytes of 當的家國情懷 read one byte out of step)
    assert "shù)" in snippets
    for flag in article.flags:
        assert flag.snippet in article.text.split("\n")[flag.line - 1]


def test_the_raw_seed_cleans_to_simplified_text_without_pinyin() -> None:
    text = cleaned(seed_text())
    assert not re.search(f"[{CJK}]{BRACKETED_PINYIN.pattern}", text)
    assert T2S.convert(text) == text
    assert "慈善义捐331.1万元" in text
    assert "全面打赢疫情防控攻坚战——山西省山东商会再次发力" in text
    assert "电话/传真：0351-8224667" in text


# --- flags on the page's layout: other articles' headlines, an address cut in two ----------


def flagged_lines(text: str) -> dict[str, str]:
    """The flagged lines of the cleaned text, each with why it was flagged."""
    article = clean_article(text)
    lines = article.text.split("\n")
    return {lines[flag.line - 1]: flag.why for flag in article.flags}


ARTICLE_WITH_RELATED_HEADLINES = """喜讯：我会获评全国“四好”商会
六一儿童节来临之际，从省工商联传来特大喜讯：我会获评全国“四好”商会。
由左至右：
一、加强商会党建
2021年6月1日
山西省山东商会秘书处
商会荣获全国工商联“抗击新冠肺炎疫情先进商会组织”
全面打赢疫情防控攻坚战——山西省山东商会再次发力
电话/传真：0351-8224667"""


def test_headlines_of_other_articles_after_the_body_are_flagged() -> None:
    flagged = flagged_lines(ARTICLE_WITH_RELATED_HEADLINES)
    assert list(flagged) == ["商会荣获全国工商联“抗击新冠肺炎疫情先进商会组织”",
                             "全面打赢疫情防控攻坚战——山西省山东商会再次发力"]
    assert all("其他文章的标题" in why for why in flagged.values())
    # The article's own headline (line 1), a lead-in, a section heading, the date, the
    # signature and the contact lines are short and unpunctuated too, but none is flagged.
    assert cleaned(ARTICLE_WITH_RELATED_HEADLINES).split("\n\n")[:6] == [
        "喜讯：我会获评全国“四好”商会", "六一儿童节来临之际，从省工商联传来特大喜讯：我会获评全国“四好”商会。",
        "由左至右：", "一、加强商会党建", "2021年6月1日", "山西省山东商会秘书处"]


def test_every_line_under_a_related_news_marker_is_flagged() -> None:
    flagged = flagged_lines("全体会员为阳曲县教育局慈善义捐331.1万元。\n\n相关新闻\n"
                            "商会十周年庆典 2021-12-21\n鲁晋座谈会\n上一篇：商会召开会长办公会议\n"
                            "电子邮件：sxssdsh@163.com")
    assert list(flagged) == ["相关新闻", "商会十周年庆典 2021-12-21", "鲁晋座谈会",
                             "上一篇：商会召开会长办公会议"]
    assert "栏目名" in flagged["相关新闻"] and "相关文章栏目下" in flagged["鲁晋座谈会"]
    assert "上一篇" in flagged["上一篇：商会召开会长办公会议"]
    assert flagged_lines("推荐阅读：\n商会党支部开展党史学习教育")  # under the marker, a headline
    assert flagged_lines("喜讯：我会获评全国“四好”商会") == {}  # one line: the article's own


@pytest.mark.parametrize(
    "raw",
    [
        "联系地址：山西省太原市长治路\n306号火炬创业大厦C座15层",  # one line a paragraph
        "联系地址：山西省太原市长治路\n\n306号火炬创业大厦C座15层",
        "商会新址在山西省太原市小店区长治路\n火炬创业大厦C座15层",  # no label: three units
    ],
)
def test_an_address_cut_over_two_lines_is_flagged_once(raw: str) -> None:
    article = clean_article(raw)
    (flag,) = article.flags
    first, second = [line for line in article.text.split("\n") if line]
    assert flag.line == 1 and flag.snippet in first
    assert "地址被断成两行" in flag.why and second in flag.why  # names the other half
    assert f"正文第 {article.text.split(chr(10)).index(second) + 1} 行" in flag.why
    assert article.text.replace("\n", "") == raw.replace("\n", "")  # flagged, not joined


@pytest.mark.parametrize(
    "raw",
    [
        "联系地址：山西省太原市长治路306号火炬创业大厦C座15层\n邮政编码：030006",
        "联系地址：山西省太原市长治路\n电话：0351-8224667",  # the next line is another label
        "会议地点：太原市长治路\n欢迎各位会员莅临指导，共商发展大计。",  # prose follows
        "商会总部位于山西省太原市\n2021年6月1日",  # a date is no house number
    ],
)
def test_an_address_that_is_not_cut_is_not_flagged(raw: str) -> None:
    assert clean_article(raw).flags == []


def test_the_seed_flags_its_related_headlines_and_its_cut_address() -> None:
    flagged = flagged_lines(seed_text())
    headlines = [line for line, why in flagged.items() if "标题" in why]
    assert headlines == [
        "全面打赢新冠肺炎保卫战——小店区红十字会接收山西省山东商会防疫物资捐赠仪式",
        "全面打赢疫情防控攻坚战——山西省山东商会再次发力",
        "喜讯丨山西省山东商会荣获全国工商联“抗击新冠肺炎疫情先进商会组织”",
        "喜讯：山西省山东商会被全国工商联评为——2019-2020年度全国“四好”商会",
    ]
    addresses = [line for line, why in flagged.items() if "地址" in why]
    assert addresses == ["联系地址：山西省太原市长治路"]
    assert "306号火炬创业大厦C座15层" in flagged["联系地址：山西省太原市长治路"]


# --- draft post ---------------------------------------------------------------------------


def test_a_draft_post_is_paused_unscheduled_and_lists_the_flags() -> None:
    raw = "喜讯傳來,群情振奮!\n已初見成效!吨腥A工商時報》和《學習強國》頭條刊登"
    draft = draft_post(raw, source="https://www.example.cn/news/1.html", post_id="award-draft")
    meta, front, body = split_post(draft)
    assert meta["id"] == "award-draft"
    assert meta["paused"] is True
    assert "schedule" not in meta
    assert meta["title"] == "喜讯传来，群情振奋！"
    assert body == "喜讯传来，群情振奋！\n\n已初见成效！吨腥A工商时报》和《学习强国》头条刊登"
    assert "https://www.example.cn/news/1.html" in front
    review = meta["review"]
    assert isinstance(review, list) and len(review) == 1  # one flag, one entry
    assert review[0].startswith("正文第 3 行：") and "吨腥A" in review[0]


def test_a_draft_with_nothing_suspicious_says_so() -> None:
    _, front, _ = split_post(draft_post("喜讯传来。", source="secretariat", post_id="x1"))
    assert "待核对" not in front and "未发现" in front


def test_a_draft_needs_a_usable_id_and_some_text() -> None:
    with pytest.raises(ValueError):
        draft_post("喜讯", source="s", post_id="喜讯 2021")
    with pytest.raises(ValueError):
        draft_post("\n\n", source="s", post_id="empty")


def seed_sentences_by_hand(raw: str) -> list[str]:
    """The seed's sentences with only the documented cleaning, done here independently."""
    text = re.sub(f"(?<=[{CJK}]){BRACKETED_PINYIN.pattern}", "", raw)
    text = T2S.convert(text).translate(str.maketrans(",!?:;", "，！？：；"))
    return sentences(text)


def sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[。！？])", re.sub(r"\s+", "", text)) if part]


def test_the_seed_as_a_draft_keeps_its_order_and_adds_nothing() -> None:
    raw = seed_text()
    _, _, body = split_post(draft_post(raw, source="seed", post_id="sihao-draft"))
    assert sentences(body) == seed_sentences_by_hand(raw)
    # Line for line too: no line joined, split, moved or dropped, not even a flagged one.
    raw_lines = [line for line in raw.splitlines() if line.strip()]
    body_lines = [line for line in body.split("\n") if line]
    assert len(body_lines) == len(raw_lines)
    for body_line, raw_line in zip(body_lines, raw_lines, strict=True):
        assert sentences(body_line) == seed_sentences_by_hand(raw_line)


def test_the_seed_draft_lists_every_flag_in_review_and_loads_as_a_paused_post(tmp_path: Path) -> None:
    raw = seed_text()
    draft = draft_post(raw, source="seed", post_id="sihao-draft")
    meta, _, body = split_post(draft)  # tomllib: the front matter is valid TOML
    flags = clean_article(raw).flags
    body_lines = body.split("\n")
    assert meta["review"] == [f"正文第 {flag.line} 行：{flag.snippet} —— {flag.why}" for flag in flags]
    assert len(flags) == 10  # 2 damaged places, 3 “著”, 4 headlines of other articles, 1 cut address
    for flag in flags:
        assert flag.snippet in body_lines[flag.line - 1]
    path = tmp_path / "sihao-draft.md"
    post = parse_post(path, draft, ZoneInfo("Asia/Shanghai"), datetime.now(ZoneInfo("Asia/Shanghai")))
    assert post.meta.paused is True and post.meta.review == meta["review"]
