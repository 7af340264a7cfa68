"""Fuzzing what reads files: post files, config.toml and scraped articles.

A post file or config.toml that cannot be used is refused with one message naming the file,
the line and the field (`PostFileError`, `ConfigError`); nothing else escapes, whatever the
file holds. The article cleaner takes any text. 200 cases each in the suite; `make fuzz`
runs 10,000 (tests/conftest.py).
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import tomlkit
from hypothesis import event, example, given
from hypothesis import strategies as st

from bot.core.config import ConfigError, Settings, load_settings
from bot.posts.article import CleanedArticle, clean_article
from bot.posts.files import FENCE, ID_PATTERN, Post, PostFileError, parse_post
from tests.conftest import TEST_CONFIG
from tests.fuzz_text import FILE_TEXT, PIECE, SCHEDULE_TEXT, SHORT_TEXT, repeated, utf8

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# One folder for every example (Hypothesis runs thousands; a folder each would be waste):
# a picture, a folder, a link out of it and a FIFO, for the images a post may name.
HOME = Path(tempfile.mkdtemp(prefix="chamber-fuzz-"))
POSTS = HOME / "announcements"
POSTS.mkdir()
(POSTS / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
(POSTS / "folder").mkdir()
(POSTS / "outside.png").symlink_to("/etc/passwd")
os.mkfifo(POSTS / "pipe.png")
POST_PATH = POSTS / "fuzz-post.md"

# --- TOML values, as a person would write them and as they should never be ----------------

def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three times in four a value that passes, so that most files get to the later checks."""
    return st.sampled_from([good, good, good, bad]).flatmap(lambda chosen: chosen)


TEXT = SHORT_TEXT.map(utf8)  # a field's text; long texts go in the body
SCALAR = st.one_of(TEXT, st.booleans(), st.integers(), st.integers(-10, 10**4), st.floats(),
                   st.dates(), st.times(), st.datetimes())
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(["url", "title", "description", "x"]) | TEXT, inner, max_size=3),
    max_leaves=8)
IMAGES = st.lists(st.sampled_from([
    "pic.png", "folder", "outside.png", "pipe.png", "missing.png", "../config.toml",
    "/etc/passwd", "/dev/zero", "/proc/self/environ", "folder/../pic.png", "", ".", "/",
    "\x00", "a" * 300, "图片.png",
]) | TEXT, max_size=3)
POST_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": mostly(st.from_regex(ID_PATTERN), st.sampled_from(["../../pwn", "a\n", "编号", ""]) | TEXT),
    "title": mostly(TEXT.filter(str.strip), TEXT | VALUE),
    "groups": st.lists(TEXT, max_size=3), "schedule": mostly(st.sampled_from([
        "每周一 09:00", "2027-01-01 09:00", "2020-01-01 09:00", "cron: 0 9 * * 1", "工作日 8:30",
        "每月最后一天 9:00", "每天 8:30 至 2030-12-31", "明天 9:00", "每年2月29日 9:00"]),
        SCHEDULE_TEXT.map(utf8)),
    "paused": st.booleans(), "mention_all": st.booleans(), "set_announcement": st.booleans(),
    "images": mostly(st.just(["pic.png"]), IMAGES), "collect_congratulations": st.booleans(),
    "link": st.fixed_dictionaries({"url": mostly(st.just("https://example.org/a"), TEXT),
                                   "title": mostly(st.just("链接"), TEXT)}),
    "congratulation_window_hours": mostly(st.floats(0.1, 1e4), st.floats() | VALUE),
    "grace_minutes": mostly(st.integers(0, 1440), st.floats() | VALUE),
    "review": st.lists(TEXT, max_size=2),
    "extra": VALUE,
}

# Lines written by hand (or by accident) into front matter or config.toml.
TOML_LINES = st.sampled_from([
    "[link]", "[[groups]]", "[general]", "[faq]", "[[faq.entries]]", "[congratulations.kinds]",
    "[sending]", "[alerts]", "[gateway]", "x = 1", "title = ", 'title = "', "= 1", "[", "]",
    '"""', "'''", "a.b.c = 1", "[a.b]", "[[link]]", 'id = "x"', "# 注释", 'title = """多行',
    "schedule = 每周一 9:00", 'schedule = "每周一 9:00"', 'timezone = "Mars/Olympus"',
    'endpoint = "gateway"', "messages_per_minute = 0", "cooldown_seconds = -1",
    'webhook_url = "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123-SECRET"',
    '"祝福" = ["x"]', 'format = "xml"', "log_level = 3", 'groups = "all"', "[storage]",
    'data_dir = "/"', "window_hours = inf", "window_hours = nan", "max_attempts = 1e9",
    "\ufeff", "+++", "  +++  ", "\t", "",
]) | FILE_TEXT


def toml_of(table: dict[str, Any]) -> str:
    return tomlkit.dumps(table)


@st.composite
def edited(draw: st.DrawFn, text: str) -> str:
    """`text` with a line or two replaced, removed, or added, as a careless hand edits a file;
    most often a new value for a key."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(lines)))
        change = draw(st.sampled_from(["insert", "replace", "delete", "value", "value", "value"]))
        if change == "insert" or at == len(lines):
            lines.insert(at, draw(TOML_LINES))
        elif change == "replace":
            lines[at] = draw(TOML_LINES)
        elif change == "delete":
            del lines[at]
        elif "=" in lines[at]:  # a new value for the same key, written as TOML or not at all
            key = lines[at].split("=", 1)[0]
            value = draw(st.one_of(VALUE.map(lambda v: tomlkit.dumps({"v": v})[4:].strip()),
                                   VALUE.map(lambda v: tomlkit.dumps({"v": v})[4:].strip()),
                                   FILE_TEXT))
            lines[at] = f"{key}= {value}"
    return "\n".join(lines)


# --- post files ---------------------------------------------------------------------------

OTHER_FIELDS = {**POST_FIELDS, "Title": TEXT}
TITLE = OTHER_FIELDS.pop("title")
OTHER_FIELDS.pop("extra")  # a misspelt key, now and then below
FRONT = mostly(
    st.fixed_dictionaries({"title": TITLE}, optional=OTHER_FIELDS),
    st.fixed_dictionaries({}, optional=POST_FIELDS),  # maybe no title, maybe unknown keys
).map(toml_of)
BODY = FILE_TEXT | st.sampled_from(["", "\n\n", "正文第一段。\n\n第二段。", "+++\n正文"])


def now_and_then(draw: st.DrawFn) -> bool:
    """True one time in five: for the rarer mistakes, so most files get past the first check."""
    return draw(st.integers(0, 4)) == 0


@st.composite
def post_files(draw: st.DrawFn) -> str:
    if now_and_then(draw):
        return draw(FILE_TEXT)  # not a post file at all
    front = draw(FRONT.flatmap(edited) if now_and_then(draw) else FRONT)
    opening = draw(st.sampled_from([" +++ ", "++", "\ufeff+++", "---", ""])) if now_and_then(
        draw) else FENCE
    text = f"{opening}\n{front}\n{FENCE}\n{draw(BODY)}"
    if now_and_then(draw):  # doubled line ends, or spaces after each line
        text = text.replace("\n", draw(st.sampled_from(["\n\n", " \n", "\t\n"])))
    return text


def as_read(text: str) -> str:
    """The text as load_posts reads it: `read_text` turns \r\n and \r into \n."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def closing_fence_line(text: str) -> int:
    lines = text.split("\n")
    return next((number for number, line in enumerate(lines[1:], start=2)
                 if line.strip() == FENCE), len(lines))


@given(post_files(), st.datetimes(min_value=datetime(2020, 1, 1),
                                              max_value=datetime(2080, 12, 31)))
@example(f"{FENCE}\ntitle = \"通知\"\nimages = [\"outside.png\"]\n{FENCE}\n正文", datetime(2026, 1, 1))
@example(f"{FENCE}\ntitle = \"通知\"\nschedule = \"每月\U00010a40日 9:00\"\n{FENCE}\n正文",
         datetime(2026, 1, 1))  # a digit int() cannot read: was a bare ValueError
@example(f"{FENCE}\ntitle = \"通知\"\nschedule = \n{FENCE}\n正文",
         datetime(2026, 1, 1))  # tomllib: "at end of document": was said to be line 1
@example(f"{FENCE}\ntitle = \"通知\"\ngrace_minutes = {'1' * 4301}\n{FENCE}\n正文",
         datetime(2026, 1, 1))  # tomllib's int() refuses it with a bare ValueError
def test_a_post_file_is_a_post_or_one_error_naming_file_line_and_field(
    text: str, now: datetime
) -> None:
    text = as_read(text)
    try:
        post = parse_post(POST_PATH, text, SHANGHAI, now.replace(tzinfo=SHANGHAI))
    except PostFileError as failure:  # the admins and `posts check` read it
        error = failure.error
        event(f"refused: {error.field or error.message[:20]}")  # --hypothesis-show-statistics
        assert error.path == POST_PATH and error.message.strip()
        form = rf"{re.escape(str(POST_PATH))}, line {error.line}(, field '{re.escape(error.field)}')?: "
        assert re.match(form, str(failure)), str(failure)
        assert 1 <= error.line <= max(1, len(text.split("\n"))), str(failure)
        if error.field or "TOML" in error.message:  # in the front matter, not on its fences
            assert 2 <= error.line <= closing_fence_line(text), str(failure)
        if error.field == "schedule":
            assert CHINESE.search(error.message), str(failure)
        return
    event("a post" + (" with a schedule" if post.rule else ""))
    assert isinstance(post, Post) and ID_PATTERN.match(post.id)
    assert post.meta.title and post.body.strip()
    assert (post.rule is None) is (not post.meta.schedule)


# --- config.toml --------------------------------------------------------------------------

SHIPPED = TEST_CONFIG.read_text(encoding="utf-8")
SECTIONS = st.dictionaries(
    st.sampled_from(["general", "gateway", "groups", "roles", "faq", "announcements",
                     "congratulations", "sending", "storage", "alerts", "x"]),
    VALUE, max_size=5)
CONFIG_TEXT = st.one_of(edited(SHIPPED), SECTIONS.map(toml_of).flatmap(edited), FILE_TEXT)
CONFIG_PATH = HOME / "config.toml"
CONFIG_ERROR = re.compile(
    rf"{re.escape(str(CONFIG_PATH))}"
    r"(, line \d+, field '.*': .+|: not valid TOML: .+ \((at line \d+, column \d+|at end of document)\)"
    r"|: not valid TOML: Exceeds the limit \(4300 digits\) .+)",  # Python's int() says no line
    re.DOTALL)


@given(CONFIG_TEXT)
@example(SHIPPED.replace('endpoint = ""', 'endpoint = "gateway"'))
@example(SHIPPED.replace("[[groups]]", "[[groups]]\n[[groups]]"))
@example(SHIPPED.replace("cooldown_seconds = 300", "cooldown_seconds = " + "1" * 4301))  # was a
# bare ValueError: tomllib's int() refuses over 4,300 digits, and only TOMLDecodeError was caught
def test_config_is_settings_or_one_error_naming_file_line_and_field(text: str) -> None:
    CONFIG_PATH.write_text(text, encoding="utf-8")
    try:
        settings = load_settings(CONFIG_PATH, environ={})
    except ConfigError as error:  # stops start-up with this one message
        event(f"refused: {str(error).split(': ')[1][:20]}")
        assert CONFIG_ERROR.fullmatch(str(error)), str(error)
        return
    event("settings")
    assert isinstance(settings, Settings) and settings.groups


def test_a_config_saved_as_gbk_is_one_error_naming_the_file() -> None:
    CONFIG_PATH.write_bytes(SHIPPED.encode("gbk", "replace"))
    first_chinese = next(n for n, line in enumerate(SHIPPED.splitlines(), 1) if not line.isascii())
    with pytest.raises(ConfigError, match=re.escape(f"{CONFIG_PATH}, line {first_chinese}: not UTF-8")):
        load_settings(CONFIG_PATH, environ={})


# --- scraped articles ---------------------------------------------------------------------

ARTICLE_PIECE = PIECE.map(utf8) | st.sampled_from([
    "節(jié)", "（shù）", "?shù)", "(app)", "# 标题", "> 引用", "**重点**", "---", "***", "+++",
    "![图](a.png)", "[链接](https://example.org)", "`代码`", "锟斤拷", "烫烫烫", "\ufffd",
    "\ue000", "著名", "发挥著", "商 会", "3 . 5", "...", "。。。", "电话:0351", "C座",
    "山西省太原市", "长治路306号", "相关文章", "上一篇：", "下一篇：", "\u3000\u3000", "\r\n",
    "\n\n", "\n  \n", "腥阏", "A", "?", "!",
])
ARTICLE = st.one_of(
    st.lists(ARTICLE_PIECE, max_size=60).map("".join),
    FILE_TEXT,
    repeated(st.lists(ARTICLE_PIECE, min_size=1, max_size=20).map("".join), 300),
)


@given(ARTICLE)
@example("第一段。\n商会\ufffd\ufffd捐赠物资。")
def test_cleaning_an_article_never_raises_and_flags_lines_that_exist(text: str) -> None:
    article = clean_article(text)
    assert isinstance(article, CleanedArticle) and isinstance(article.text, str)
    lines = article.text.split("\n")
    assert "\r" not in article.text and "\n\n\n" not in article.text
    assert all(line == line.strip() for line in lines)
    for flag in article.flags:
        assert 1 <= flag.line <= len(lines) and lines[flag.line - 1], flag
        assert flag.snippet and CHINESE.search(flag.why), flag
