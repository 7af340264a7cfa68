"""From a scraped article to what members read: the cleaner, the flagger, the award post."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import httpx
import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.posts.article import Flag, clean_article, draft_post
from bot.posts.article_source import FetchError, extract_text, fetch_url

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seeds" / "000_0fa0870774f01a57.txt"
AWARD_POST = REPO / "announcements" / "award-2019-2020-sihao.md"
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
    (note,) = [line for line in front.splitlines() if line.startswith("# 待核对")]
    assert note.startswith("# 待核对 line 3: ") and "吨腥A" in note


def test_a_draft_with_nothing_suspicious_says_so() -> None:
    _, front, _ = split_post(draft_post("喜讯传来。", source="secretariat", post_id="x1"))
    assert "待核对" not in front and "未发现" in front


def test_a_draft_needs_a_usable_id_and_some_text() -> None:
    with pytest.raises(ValueError):
        draft_post("喜讯", source="s", post_id="喜讯 2021")
    with pytest.raises(ValueError):
        draft_post("\n\n", source="s", post_id="empty")


# --- HTML and fetching --------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><title>商会新闻</title>
<style>p { color: red }</style><script>var tracker = 1;</script></head>
<body><nav><a href="/">首页</a> <a href="/news">新闻动态</a></nav>
<!-- 广告位 -->
<article><h1>喜讯：我会获评全国“四好”商会</h1>
<p>六一儿童节来临之际，<strong>特大喜讯</strong>传来：
我会获评全国“四好”商会。</p>
<p>联系地址：山西省太原市长治路<br>306号火炬创业大厦C座15层</p>
<script>alert("x")</script></article>
<footer>版权所有</footer></body></html>"""


def test_extract_text_keeps_the_article_paragraphs_and_drops_the_rest() -> None:
    assert extract_text(PAGE) == (
        "喜讯：我会获评全国“四好”商会\n\n"
        "六一儿童节来临之际，特大喜讯传来： 我会获评全国“四好”商会。\n\n"
        "联系地址：山西省太原市长治路\n306号火炬创业大厦C座15层"
    )
    # …and the cleaner removes the space the source's line break left between characters.
    assert "传来：我会获评" in cleaned(extract_text(PAGE))


def test_extract_text_of_a_page_without_article_tags() -> None:
    html = "<p>第一段。</p><div>第二段<span>继续</span>。</div><style>x{}</style>"
    assert extract_text(html) == "第一段。\n\n第二段继续。"


# A Chinese news page as such sites lay it out: header and search, a menu, a breadcrumb, the
# article (headline, date line, paragraphs, a photo), share and previous/next links,
# related news, a sidebar and a footer. Unlike PAGE, nothing is marked <nav>/<footer>.
NEWS_PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>我会被评为2019-2020年度全国“四好”商会_新闻动态_山西省山东商会</title>
<script>var _hmt = _hmt || [];</script></head><body>
<div class="header"><img src="/images/logo.png" alt="山西省山东商会">
<form action="/search"><input name="q" placeholder="请输入关键字"><button>搜索</button></form></div>
<div class="nav"><ul><li><a href="/">网站首页</a></li><li><a href="/about/">商会概况</a></li>
<li><a href="/news/">新闻动态</a></li><li><a href="/members/">会员风采</a></li>
<li><a href="/contact/">联系我们</a></li></ul></div>
<div class="main"><div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/news/">新闻动态</a> &gt; 正文</div>
<div class="left"><div class="article">
<h1 class="title">我会被评为2019-2020年度全国“四好”商会</h1>
<div class="info">发布时间：2021-06-01 10:25　来源：商会秘书处　浏览次数：<span id="hits">1268</span></div>
<div class="content" id="content">
<p>　　六一儿童节来临之际，从省工商联传来特大喜讯：我会被全国工商联认定为<strong>2019-2020年度全国“四好”商会</strong>。这是目前全国工商联所有奖项中最高规格的荣誉。经全国工商联主席办公会议审议通过，全国共有1478家商会获此认定。</p>
<p>　　同日，刘小虎秘书长代表商会在省工商联两会建设“四创四联”活动部署会上喜捧奖牌，并与省工商联领导合影留念。</p>
<p style="text-align:center"><img src="/uploads/2021/06/award.jpg" alt="合影"></p>
<p>　　喜讯传来，群情振奋！《山西省山东商会会长官方群》瞬间爆棚，“群众”们的鲜花、掌声、礼炮、点赞乃至“红包雨”连绵不断、经久不息，真可谓普“群”同庆、赞不绝“群”。</p>
<p>　　荣誉是对过去工作的肯定。获奖之后，怎么办？伊纪余会长头脑非常冷静。他指出：我们的各项工作基础是否扎实？全面建设中是否还有漏项短板？</p>
<p>电话/传真：0351-8224667<br>联系地址：山西省太原市长治路306号火炬创业大厦C座15层</p>
</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>
<div class="prevnext"><p>上一篇：<a href="/news/101.html">商会召开2021年第二次会长办公会议</a></p>
<p>下一篇：<a href="/news/103.html">商会党支部开展党史学习教育专题活动</a></p></div></div>
<div class="related"><h3>相关新闻</h3><ul>
<li><a href="/news/95.html">商会荣获全国工商联“抗击新冠肺炎疫情先进商会组织”称号</a><span>2020-09-08</span></li>
<li><a href="/news/88.html">全体会员为阳曲县教育局慈善义捐331.1万元</a><span>2020-11-20</span></li>
<li><a href="/news/76.html">伊纪余会长出席鲁晋两省民营企业家座谈会</a><span>2020-07-15</span></li>
</ul></div></div>
<div class="right"><h3>热点推荐</h3><ul><li><a href="/news/60.html">商会十周年庆典隆重举行</a></li>
<li><a href="/news/58.html">山西省山东商会第三届会员大会召开</a></li></ul></div></div>
<div class="footer"><p><a href="/about/">关于我们</a> | <a href="/contact/">联系我们</a> | <a href="/sitemap/">网站地图</a></p>
<p>版权所有 © 山西省山东商会　晋ICP备12345678号　技术支持：某某网络</p></div>
<script src="/js/stats.js"></script></body></html>"""


def test_extract_text_of_a_chinese_news_page_keeps_the_body_only() -> None:
    paragraphs = extract_text(NEWS_PAGE).split("\n\n")
    assert paragraphs == [
        "我会被评为2019-2020年度全国“四好”商会",  # the headline leads
        "六一儿童节来临之际，从省工商联传来特大喜讯：我会被全国工商联认定为2019-2020年度全国“四好”商会。"
        "这是目前全国工商联所有奖项中最高规格的荣誉。经全国工商联主席办公会议审议通过，全国共有1478家商会获此认定。",
        "同日，刘小虎秘书长代表商会在省工商联两会建设“四创四联”活动部署会上喜捧奖牌，并与省工商联领导合影留念。",
        "喜讯传来，群情振奋！《山西省山东商会会长官方群》瞬间爆棚，“群众”们的鲜花、掌声、礼炮、点赞乃至“红包雨”"
        "连绵不断、经久不息，真可谓普“群”同庆、赞不绝“群”。",
        "荣誉是对过去工作的肯定。获奖之后，怎么办？伊纪余会长头脑非常冷静。他指出：我们的各项工作基础是否扎实？"
        "全面建设中是否还有漏项短板？",
        "电话/传真：0351-8224667\n联系地址：山西省太原市长治路306号火炬创业大厦C座15层",
    ]
    text = "\n".join(paragraphs)
    for boilerplate in ("网站首页", "商会概况", "搜索", "当前位置", "分享到", "上一篇", "下一篇", "相关新闻",
                        "慈善义捐", "热点推荐", "十周年庆典", "网站地图", "版权所有", "晋ICP备"):
        assert boilerplate not in text
    meta, _, body = split_post(draft_post(extract_text(NEWS_PAGE), source="https://www.example.cn/news/102.html",
                                          post_id="sihao-2021"))
    assert meta["title"] == "我会被评为2019-2020年度全国“四好”商会"
    assert body.startswith("我会被评为2019-2020年度全国“四好”商会\n\n六一儿童节来临之际")


def serve(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def test_fetch_url_reads_a_gbk_page_by_its_meta_charset() -> None:
    # Labelled GB2312 but holding 堃, which only GBK/GB18030 have.
    html = '<html><head><meta charset="gb2312"></head><body><p>会长张堃致辞</p></body></html>'
    transport = serve(lambda request: httpx.Response(200, content=html.encode("gb18030")))
    page = fetch_url("https://www.example.cn/a.html", transport=transport)
    assert "会长张堃致辞" in page


def test_fetch_url_follows_the_header_charset() -> None:
    transport = serve(lambda request: httpx.Response(
        200, content="喜讯".encode(), headers={"Content-Type": "text/html; charset=utf-8"}))
    assert fetch_url("https://www.example.cn/", transport=transport) == "喜讯"


def test_fetch_url_failures_are_explained_in_chinese_and_english() -> None:
    missing = serve(lambda request: httpx.Response(404))
    with pytest.raises(FetchError, match="网站返回错误 404 / the site answered HTTP 404"):
        fetch_url("https://www.example.cn/gone", transport=missing)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(FetchError, match=r"获取文章超时.*timed out after 5 s"):
        fetch_url("https://www.example.cn/slow", timeout=5, transport=serve(slow))

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(FetchError, match="无法获取文章 / could not fetch the article"):
        fetch_url("https://www.example.cn/down", transport=serve(down))


# --- the shipped award post ---------------------------------------------------------------


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
