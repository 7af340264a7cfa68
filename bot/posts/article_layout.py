"""Flags about how a scraped page's lines fit together, rather than about damaged characters.

A scraper takes the page's whole text column, so after (or between) the article's paragraphs
come the headlines of other articles (a 相关新闻 list, 上一篇/下一篇), and a line break in the
page can cut an address in two. Neither can be repaired by rule: whether a headline-like line
belongs to this article, and whether two lines are one, is for a person to decide. So import
keeps such lines where they are and only flags them.
"""

from __future__ import annotations

import re

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE_MARK = re.compile("[。！？；!?;]")
# A line ending like this leads into the next one or stops mid-sentence: no headline does.
_OPEN_END = ("：", ":", "，", ",", "、", "——", "……", "…")
_HEADLINE_MAX = 60  # characters; longer lines are prose
_HEADLINE_MIN_HAN = 6  # fewer Han characters is a date, a name or a label, not a headline
# "相关新闻", "推荐阅读", "延伸阅读：", "【热点推荐】": the page's list of other articles begins.
_RELATED_MARKER = re.compile(
    r"^[【\[]?(?:相关|推荐|延伸阅读|扩展阅读|热点|热门|往期|猜你喜欢|更多)[\u4e00-\u9fff]{0,4}"
    r"[】\]]?[：:]?$"
)
_PREV_NEXT = re.compile(r"^(?:上一篇|下一篇|上一条|下一条)[：:]")
# Contact and byline labels: "电话/传真：…", "联系地址：…", "来源：…" are the article's own.
_LABEL = re.compile(
    r"^[^：:，。]{0,8}?(?:电话|传真|手机|邮箱|邮件|邮编|邮政编码|地址|网址|网站|联系人|微信|QQ"
    r"|来源|作者|编辑|记者|摄影|通讯员|时间|日期)[^：:，。]{0,4}[：:]"
)
# "一、", "（二）", "3.", "第四部分": the article's own section headings.
_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．]"
                       r"|第[一二三四五六七八九十\d]+[章节部分条])")
# The article's signature: an organisation's name alone ("山西省山东商会秘书处").
_SIGNATURE = re.compile("^[\u4e00-\u9fff]{2,24}(?:商会|协会|联合会|工商联|秘书处|办公室|办公厅|委员会"
                        "|党委|党支部|理事会)$")
# An address: a label, or several administrative or street units in one line.
_ADDRESS_LABEL = re.compile("地址|住址|地点|位于|坐落")
_ADDRESS_UNIT = re.compile("省|市|区|县|镇|乡|路|街|大道|巷|弄|号|大厦|大楼|广场|座|栋|幢|层|室")
_ADDRESS_CUT_END = re.compile("(?:省|市|区|县|镇|乡|村|路|街|大道|巷|弄|里|号|大厦|大楼|广场|中心"
                              "|园|座|栋|幢|楼|层|室|单元)$")
# What follows the cut: a number and its unit ("306号…", "15层"), or a building's parts.
_ADDRESS_GOES_ON = re.compile(r"^[A-Za-z]?\d+[号栋幢座楼层室单-]|号|座|栋|幢|楼|层|室|单元|大厦")
_CONTINUATION_MAX = 30


def layout_flags(lines: list[str]) -> list[tuple[int, str, str]]:
    """(0-based line index, snippet, why) for related headlines and addresses cut in two.

    `lines` are the cleaned article's lines, blank lines between paragraphs included.
    """
    found = _split_addresses(lines)
    # Both halves of a cut address are short and unpunctuated, but they are no headline.
    halves = {index for index, _, _ in found} | {_next_text_line(lines, i) for i, _, _ in found}
    found += _related_headlines(lines, skip=halves)
    return sorted(found)


def _related_headlines(lines: list[str], skip: set[int | None]) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []
    under_marker = False
    first = next((i for i, line in enumerate(lines) if line), None)
    for index, line in enumerate(lines):
        if not line or index == first or index in skip:  # the first line is this article's
            continue
        if _RELATED_MARKER.match(line):
            under_marker = True
            found.append((index, line, f"“{line}”是网页上其他文章列表的栏目名，不属于正文：核对后删去"))
        elif _PREV_NEXT.match(line):
            found.append((index, line, "上一篇/下一篇是其他文章的链接，不属于正文：核对后删去"))
        elif under_marker and _headline_like(line, min_han=1):
            found.append((index, line, "相关文章栏目下的标题，是其他文章，不属于正文：核对后删去"))
        elif _headline_like(line, min_han=_HEADLINE_MIN_HAN):
            why = "疑似其他文章的标题（网页上的相关文章链接）：不属于本文就删去"
            found.append((index, line, why))
        else:
            under_marker = False
    return found


def _headline_like(line: str, *, min_han: int) -> bool:
    """Short, no sentence inside; not a lead-in, a label, a section heading or a signature."""
    return (len(line) <= _HEADLINE_MAX and len(_HAN.findall(line)) >= min_han
            and not _SENTENCE_MARK.search(line) and not line.endswith(_OPEN_END)
            and not _LABEL.match(line) and not _NUMBERED.match(line) and not _SIGNATURE.match(line))


def _split_addresses(lines: list[str]) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []
    for index, line in enumerate(lines):
        following = _next_text_line(lines, index)
        if not line or following is None or not _ADDRESS_CUT_END.search(line):
            continue
        if not (_ADDRESS_LABEL.search(line) or len(_ADDRESS_UNIT.findall(line)) >= 3):
            continue
        rest = lines[following]
        if (len(rest) <= _CONTINUATION_MAX and _ADDRESS_GOES_ON.search(rest)
                and not _SENTENCE_MARK.search(rest) and not _LABEL.match(rest)):
            why = (f"地址被断成两行，下一行（正文第 {following + 1} 行“{rest}”）是它的后半："
                   "核对后合成一行")
            found.append((index, line[-_CONTINUATION_MAX:], why))
    return found


def _next_text_line(lines: list[str], index: int) -> int | None:
    """The next non-blank line, if at most one blank line (a paragraph break) comes first."""
    for following in (index + 1, index + 2):
        if following >= len(lines):
            return None
        if lines[following]:
            return following
    return None
