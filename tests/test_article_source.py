"""Getting an article's text: trafilatura takes the body from a page, httpx fetches it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bot.posts.article import draft_post
from bot.posts.article_source import FetchError, extract_text, fetch_url
from tests.test_article import cleaned, split_post

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
