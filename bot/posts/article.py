"""From a scraped news article to a clean draft post for the presidents' group.

Scraped Chinese pages arrive damaged: pinyin in brackets after characters (`節(jié)`),
traditional characters, ASCII punctuation, spaced-out characters, Markdown, and mojibake
(text decoded with the wrong encoding). WeChat shows all of it raw to members, so
`clean_article` repairs what can be repaired by rule and *flags* what cannot: a garbled
character's meaning can only be restored by a person reading the context, never guessed.

This module is the cleaning alone, text in and text out: the rules (pinyin, characters,
punctuation, Markdown), the damage flags and the draft post file. Getting the text from a
URL or an HTML page is article_source.py's: network and HTML parsing stay out of the rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import opencc
import tomlkit

from bot.core.textnorm import to_simplified
from bot.posts.article_layout import layout_flags

# --- character classes --------------------------------------------------------------------

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Han plus the punctuation that lives inside Chinese text (、。《》「」…, full-width forms,
# curly quotes, dashes): ASCII punctuation or spaces next to these belong to Chinese text.
_CJK = _HAN + r"\u3000-\u303f\uff00-\uffef\u2018-\u201d\u2014\u2026"
_HAN_CHAR = re.compile(f"[{_HAN}]")

# --- cleaning rules -----------------------------------------------------------------------

# Bracketed latin after a Han character: a pinyin annotation if every word is a syllable.
_PINYIN_CHARS = "a-z1-5\u00e0-\u01dc\u1e3f' "  # with tone marks (ǎ, ü, ḿ) or tone digits
_ANNOTATION = re.compile(f"(?<=[{_HAN}])[(（]([{_PINYIN_CHARS}]{{1,30}})[)）]")
# An annotation whose character (and maybe its opening bracket) was lost: `?shù)`.
_ORPHAN_ANNOTATION = re.compile(
    f"(?<![A-Za-z0-9\u00c0-\u024f])([(（]?)([{_PINYIN_CHARS}]{{1,30}})[)）]"
)
_TONED = re.compile("[1-5\u00e0-\u01dc\u1e3f]")
_SYLLABLE = re.compile(
    r"(?:[bpmfdtnlgkhjqxrzcsyw]|[zcs]h)?"
    r"(?:a(?:i|o|ng?)?|o(?:u|ng)?|e(?:i|r|ng?)?|i(?:a(?:o|ng?)?|e|u|o?ng|n)?"
    r"|u(?:a(?:i|ng?)?|o|i|e|n)?|v(?:e|n)?)[1-5]?"
)
# Spaces between characters, also around the ASCII punctuation about to become full-width.
_SPACE_IN_CJK = re.compile(f"(?:(?<=[{_CJK}])|(?<=[{_CJK}][,!?:;.])) +(?=[{_CJK},!?:;.])")
_SPACED_DECIMAL = re.compile(r"(?<=\d) *\. *(?=\d)")
_ASCII_ELLIPSIS = re.compile(f"(?<=[{_CJK}])(?:\\.{{3,}}|。{{3,}})")
# ASCII punctuation right after Chinese text (电话:0351, 振奋!) is Chinese punctuation typed
# on the wrong keyboard; after latin or digits (3.5, a:b, https://) it is left alone.
_HALF_PUNCT = re.compile(f"(?<=[{_CJK}])(?:[,!?:;]|\\.(?![A-Za-z0-9]))+")  # runs: ?!
_FULL_WIDTH = str.maketrans(",.!?:;", "，。！？：；")

# Markdown: WeChat shows the symbols raw, so keep the words and drop the markup.
_MD_RULE = re.compile(r"^\s*([-*_=+])(?:\s*\1){2,}\s*$")  # ---, ***, +++ (our fence too)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_MD_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_MD_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|~~|\*|`+)(?=\S)(.+?)(?<=\S)\1")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

# --- damage signals -----------------------------------------------------------------------

_QUESTION_WORDS = re.compile("吗|么|呢|吧|啊|何|怎|什么|哪|谁|几|多少|是否|能否|可否|难道|岂")
# A lone capital is a label before these (C座, A股, B超); elsewhere it is likely a stray byte.
_LABEL_NOUNS = "座栋楼层区号室股级类型超档轮款字"
_LATIN_IN_HAN = re.compile(f"(?<=[{_HAN}])[A-Za-z](?=[{_HAN}])")
_GLUED_MARK = re.compile(f"(?<=[{_HAN}])[?!](?=[{_HAN}])")
_MARKS = re.compile("[?!？！]")  # their order survives the full-width swap
_CLAUSE_END = re.compile("[。！？!?；;]")
_KNOWN_MOJIBAKE = re.compile("锟斤拷|烫烫烫|屯屯屯")
_UNREADABLE = re.compile("[\ufffd\ue000-\uf8ff]+")  # replacement char, private-use area
_CONTEXT = 8  # characters of context either side of a flagged place
# t2s leaves 著 alone (著名 is simplified too); tw2s knows the phrases where it means 着
# (发挥著 -> 发挥着) but also errs (土著 -> 土着), so it only points a reviewer at them.
_tw2s = opencc.OpenCC("tw2s")


@dataclass(frozen=True)
class Flag:
    """A place in the cleaned text that a person must check against the source."""

    line: int  # 1-based line of the cleaned text
    snippet: str
    why: str


@dataclass(frozen=True)
class CleanedArticle:
    text: str
    flags: list[Flag] = field(default_factory=list)


# --- cleaning -----------------------------------------------------------------------------


def _is_pinyin(words: str) -> bool:
    plain = unicodedata.normalize("NFD", words)  # ǎ -> a + combining caron; ü -> u + ¨
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    # Syllables one by one: `(role)` or `(app)` after a word is English, not pinyin.
    return all(_SYLLABLE.fullmatch(word) for word in re.split(r"[ ']+", plain.strip()))


def _strip_markdown(line: str) -> str:
    # Until nothing changes: markup nests (> **x**, ***x***) and removing one kind can
    # uncover another at the start of the line.
    while True:
        if _MD_RULE.match(line):
            return ""
        before = line
        line = _MD_HEADING.sub(r"\1", line)
        line = _MD_QUOTE.sub("", line)
        line = _MD_BULLET.sub(r"\1· ", line)
        line = _MD_IMAGE.sub("", line)
        line = _MD_LINK.sub(lambda m: m[2] if m[1] == m[2] else f"{m[1]} {m[2]}", line)
        line = _MD_EMPHASIS.sub(r"\2", line).replace("`", "").replace("*", "")
        if line == before:
            return line


def _repair(line: str) -> tuple[str, list[tuple[int, str]]]:
    """The line with every rule applied that needs no person, and its glued `?`/`!` marks.

    A half-width mark glued between characters, outside a question, is a sign of a lost
    character; it must be seen before the marks turn full-width. It is returned as the
    index among the line's ?！ marks, which the full-width swap keeps in order.
    """
    line = line.translate(_INVISIBLE)
    line = re.sub(r"[\t\u00a0\u3000]", " ", line)
    line = _strip_markdown(line)
    # Pinyin first: it annotates traditional characters, and t2s must not see it.
    line = _ANNOTATION.sub(lambda m: "" if _is_pinyin(m[1]) else m[0], line)
    line = to_simplified(line)
    line = re.sub(" {2,}", " ", line)
    line = _SPACE_IN_CJK.sub("", line)
    line = _SPACED_DECIMAL.sub(".", line)
    marks = _glued_marks(line)
    while True:  # a full-width mark can make a space removable, and so on
        swapped = _HALF_PUNCT.sub(lambda m: m[0].translate(_FULL_WIDTH), line)
        swapped = _ASCII_ELLIPSIS.sub("……", _SPACE_IN_CJK.sub("", swapped))
        if swapped == line:
            return line.strip(), marks
        line = swapped


def _glued_marks(line: str) -> list[tuple[int, str]]:
    """(index among the ?！ marks, mark) of each `!`, and each `?` ending no question."""
    glued = set()
    for m in _GLUED_MARK.finditer(line):
        clause = _CLAUSE_END.split(line[: m.start()])[-1]
        if m[0] == "!" or not _QUESTION_WORDS.search(clause):
            glued.add(m.start())
    return [(k, m[0]) for k, m in enumerate(_MARKS.finditer(line)) if m.start() in glued]


def _uncommon(char: str) -> bool:
    """Outside GB2312's level-1 set (the 3,755 everyday characters)."""
    try:
        return char.encode("gb2312")[0] >= 0xD8
    except UnicodeEncodeError:
        return True


def _signals(line: str, marks: list[tuple[int, str]]) -> list[tuple[int, int, str, bool]]:
    """(start, end, why, strong) of every sign of damage; weak ones never flag alone."""
    found: list[tuple[int, int, str, bool]] = []
    positions = [m.start() for m in _MARKS.finditer(line)]
    for k, mark in marks:
        why = f"半角“{mark}”夹在汉字中间：可能是乱码替换符"
        found.append((positions[k], positions[k] + 1, why, True))
    for m in _UNREADABLE.finditer(line):
        found.append((m.start(), m.end(), "无法识别的字符（编码损坏）", True))
    for m in _KNOWN_MOJIBAKE.finditer(line):
        found.append((m.start(), m.end(), f"典型乱码“{m[0]}”", True))
    for m in _ORPHAN_ANNOTATION.finditer(line):
        after_han = _HAN_CHAR.fullmatch(line[m.start() - 1 : m.start()]) is not None
        # Toneless latin in brackets is too often English to count as a lost annotation.
        if _TONED.search(m[2]) and _is_pinyin(m[2]) and not (m[1] and after_han):
            start = m.start() - (line[m.start() - 1 : m.start()] in ("?", "？", "\ufffd"))
            why = f"拼音注音残片“{line[start : m.end()]}”：被注音的字已丢失"
            found.append((start, m.end(), why, True))
    for m in _LATIN_IN_HAN.finditer(line):
        if not (m[0].isupper() and line[m.end()] in _LABEL_NOUNS):
            why = f"汉字中间孤立的字母“{m[0]}”：可能是乱码残留"
            found.append((m.start(), m.end(), why, True))
    if "著" in line and len(particle := _tw2s.convert(line)) == len(line):
        for i, (old, new) in enumerate(zip(line, particle, strict=True)):
            if old != new == "着":
                found.append((i, i + 1, "“著”作助词、动词时简体写“着”（t2s 不改）", True))
    han = [(i, char) for i, char in enumerate(line) if _HAN_CHAR.match(char)]
    for k, (i, char) in enumerate(han):
        if _uncommon(char):
            # Mojibake strings many rare characters together; names hold one at a time.
            near = [j for j, c in han[max(0, k - 2) : k + 3] if j != i and _uncommon(c)]
            found.append((i, i + 1, f"生僻字“{char}”", bool(near)))
    return sorted(found)


def _flags(line: str, marks: list[tuple[int, str]], number: int) -> list[Flag]:
    """One Flag per damaged place: signals closer than _CONTEXT characters are one place."""
    places: list[list[tuple[int, int, str, bool]]] = []
    for signal in _signals(line, marks):
        if places and signal[0] - places[-1][-1][1] < _CONTEXT:
            places[-1].append(signal)
        else:
            places.append([signal])
    flags = []
    for place in places:
        if any(strong for *_, strong in place):
            start = max(0, place[0][0] - _CONTEXT)
            end = max(stop for _, stop, _, _ in place) + _CONTEXT
            whys = dict.fromkeys(why for _, _, why, _ in place)  # ordered, no repeats
            flags.append(Flag(number, line[start:end], "；".join(whys)))
    return flags


def _paragraphs(text: str) -> list[list[str]]:
    """Blank lines separate paragraphs; text without any (typical of scrapes) has one a line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if re.search(r"\n[ \t\u3000]*\n", text.strip()):
        return [chunk.split("\n") for chunk in re.split(r"\n[ \t\u3000]*\n", text)]
    return [[line] for line in text.split("\n")]


def clean_article(text: str) -> CleanedArticle:
    """Repair scraped article text by rule; flag what needs a person (line, snippet, why).

    Lines keep their order and words: nothing is moved, joined, added or dropped (a blank or
    Markdown-rule line aside), so a headline of another article or an address cut in two is
    flagged (article_layout.py) and left where it is.
    """
    lines: list[str] = []
    flags: list[Flag] = []
    for paragraph in _paragraphs(text):
        repaired = [(line, marks) for line, marks in map(_repair, paragraph) if line]
        if repaired and lines:
            lines.append("")
        for line, marks in repaired:
            flags.extend(_flags(line, marks, len(lines) + 1))
            lines.append(line)
    flags.extend(Flag(index + 1, snippet, why) for index, snippet, why in layout_flags(lines))
    return CleanedArticle("\n".join(lines), sorted(flags, key=lambda flag: flag.line))


# --- draft post ---------------------------------------------------------------------------

_POST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
_TITLE_MAX = 60


def draft_post(text: str, *, source: str, post_id: str) -> str:
    """A paused post file for `announcements/`: the cleaned body, its flags in `review`.

    `review` holds one line per flag ("正文第 N 行：snippet —— why"): the bot publishes and
    schedules no post while the list has entries; the reviewer deletes each one once checked.
    """
    if not _POST_ID.match(post_id):
        raise ValueError(f"post id {post_id!r}: letters, digits, - and _ only")
    article = clean_article(text)
    if not article.text:
        raise ValueError("the article has no text / 文章没有正文")
    # The first sentence of the first line: a scraped headline, or the lead's core news.
    first = re.split(r"(?<=[。！？])", article.text.split("\n", 1)[0])[0].rstrip("。")
    title = first if len(first) <= _TITLE_MAX else first[: _TITLE_MAX - 1] + "…"
    front = tomlkit.document()
    front.add(tomlkit.comment(f"草稿 / draft from {_comment_safe(source)}"))
    front.add(tomlkit.comment("核对正文后把 paused 改为 false / review, then paused = false"))
    if article.flags:
        front.add(tomlkit.comment("review：待核对之处，行号从正文第一行算起；核对改好一处删一条，"
                                  "删完才能发布 / each flag, by body line; delete it once checked"))
    else:
        front.add(tomlkit.comment("未发现疑似乱码，仍请通读 / no damage found; still read it all"))
    front["id"] = post_id
    front["title"] = title
    front["paused"] = True
    front["mention_all"] = False
    front["set_announcement"] = False
    if article.flags:
        review = tomlkit.array().multiline(True)
        review.extend(f"正文第 {flag.line} 行：{flag.snippet} —— {flag.why}" for flag in article.flags)
        front["review"] = review
    return f"+++\n{tomlkit.dumps(front).rstrip()}\n+++\n{article.text}\n"


def _comment_safe(text: str) -> str:
    """TOML comments may not hold control characters."""
    return "".join(char if char.isprintable() else "\ufffd" for char in text)
