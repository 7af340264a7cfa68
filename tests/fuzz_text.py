"""Hypothesis strategies for what members, secretaries and admins really type, mixed with
arbitrary text: Chinese (simplified and traditional), full-width forms, emoji with skin tones
and joiners, WeChat smiley codes ([强]), @names ended by U+2005, '#'/'＃', line breaks,
zero-width characters, lone surrogates (a gateway may pass them on), and very long messages.

Used by the fuzz tests (tests/test_fuzz_*.py); `make fuzz` runs them 10,000 times each.
"""

from __future__ import annotations

from hypothesis import strategies as st

CHINESE = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
FULL_WIDTH = st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E) | st.just("\u3000")
EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF) | st.sampled_from(
    ["🌹", "👍", "👍🏻", "👏🏿", "❤️", "❤", "🧧", "🎉", "💐", "👨\u200d👩\u200d👧", "🏳️\u200d🌈",
     "\ufe0f", "\U0001f3fb", "\u20e3", "1️⃣"])
SMILEY_CODE = st.sampled_from(
    ["[强]", "[玫瑰]", "[鼓掌]", "[红包]", "[庆祝]", "[抱拳]", "[Smile]", "[捂脸]", "[", "]", "[]"]
) | st.text(CHINESE, min_size=1, max_size=7).map(lambda name: f"[{name}]")
MENTION = st.text(CHINESE | st.characters(max_codepoint=0x7F), max_size=12).map(
    lambda name: f"@{name}\u2005") | st.sampled_from(["@所有人\u2005", "@商会小助手\u2005", "@ ", "@"])
INVISIBLE = st.sampled_from(list("\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e\u2066\u180e"))
SPACING = st.sampled_from(["\n", "\r\n", "\r", "\n\n", " ", "\t", "\u3000", "\u2005", "\u00a0"])
MARKS = st.sampled_from(list("#＃?？!！：:，,。.、「」《》“”()（）-—…~/*>`_=+@'\"\\"))
DIGITS = st.integers(0, 10**6).map(str) | st.sampled_from(
    [*"０１２３４５６７８９一二三四五六七八九十百零〇两", "①", "²", "٣", "𝟗", "\U00010a40"])
# Words of this bot's world: commands, FAQ keywords, congratulations, schedule phrases.
WORDS = st.sampled_from([
    "帮助", "发布", "预览", "公告列表", "祝贺统计", "致谢", "新建", "编辑", "改标题", "取消",
    "查看", "定时", "暂停", "恢复", "删除", "还原", "核对完成", "历史", "状态", "我的ID", "help",
    "PUBLISH", "再次", "确认", "未祝贺", "无", "award-2021", "../../pwn",
    "电话", "電話", "传真", "fax", "邮箱", "郵箱", "email", "E-Mail", "邮编", "郵政編碼", "地址",
    "在哪", "联系方式", "聯繫方式", "怎么联系", "商会", "秘书处", "多少", "请问", "吗", "是不是",
    "恭喜", "祝贺", "恭喜恭喜", "热烈祝贺", "实至名归", "威武", "祝贺什么", "鲜花", "掌声",
    "每天", "每周一", "每週", "工作日", "每月", "最后一天", "每年", "明天", "后天", "周五",
    "下周", "这周", "上午", "下午", "晚上", "中午", "9:00", "9点", "半", "至", "cron:",
    "喜讯", "会长", "山西省山东商会"])
QUOTE_LINE = "- - - - - - - - - - - - - - -"
# Text of any kind: every code point but surrogates (st.characters' default), and surrogates.
ANY_CHAR = st.characters() | st.characters(categories=["Cs"])

PIECE = st.one_of(
    WORDS, CHINESE, FULL_WIDTH, EMOJI, SMILEY_CODE, MENTION, INVISIBLE, SPACING, MARKS, DIGITS,
    st.text(ANY_CHAR, max_size=8),
)


def quoted_reply(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A reply quoting a message, as iPad-protocol gateways render it."""
    return st.builds(lambda who, quoted, reply: f"「{who}：{quoted}」\n{QUOTE_LINE}\n{reply}",
                     text, text, text)


def repeated(piece: st.SearchStrategy[str], most: int) -> st.SearchStrategy[str]:
    """A very long message: a piece pasted over and over (cheap for Hypothesis to generate)."""
    return st.builds(lambda text, times: text * times, piece, st.integers(1, most))


SHORT_TEXT = st.lists(PIECE, max_size=30).map("".join)
MEMBER_TEXT = st.one_of(
    SHORT_TEXT,
    st.text(ANY_CHAR, max_size=200),
    quoted_reply(SHORT_TEXT),
    st.builds("".join, st.tuples(st.sampled_from(["#", "＃", " #", "\u200b#"]), SHORT_TEXT)),
    repeated(SHORT_TEXT.filter(bool), 5_000).map(lambda text: text[:100_000]),
)


def utf8(text: str) -> str:
    """The text as it reads after a trip through a UTF-8 file: lone surrogates become '?'."""
    return text.encode("utf-8", "replace").decode("utf-8")


FILE_TEXT = MEMBER_TEXT.map(utf8)
# A word an operator puts in config.toml: anything a file holds, even what normalises to
# nothing ("🌹" for the FAQ, " " or "\ufe0f").
CONFIGURED_WORD = (PIECE | SHORT_TEXT).map(utf8)

# What an admin writes after `#定时 编号` or in a post file's `schedule = "..."`.
SCHEDULE_WORDS = st.sampled_from([
    "每天", "每日", "天天", "工作日", "每个工作日", "每周", "每个星期", "礼拜", "每月", "每个月",
    "每年", "今天", "明天", "后天", "大后天", "周", "星期", "这周", "本周", "下周", "下个星期",
    "cron:", "cron: ", "CRON:", "每週", "點", "一", "二", "三", "五", "六", "日", "天", "末",
    "一至五", "一三五", "、", "和", "至", "到", "~", "-", "/", ".", "年", "月", "号", "最后一天",
    "月底", "的", "上午", "下午", "晚上", "中午", "凌晨", "傍晚", "点", "时", "半", "整", "分",
    ":", "：", "截止", "截至", "直到", "为止", "止", ",", "，", "*", "*/5", "0-7", "1,2",
    "mon-fri", "L", "last", "?", "T", "无"])
NUMBER = DIGITS | st.integers(0, 99).map("{:02d}".format)
SCHEDULE_TEXT = st.one_of(
    # word, number, space, word, number ...: 每月 1 日 9 : 30
    st.lists(st.tuples(SCHEDULE_WORDS, NUMBER, SPACING | st.just("")).map("".join),
             max_size=6).map("".join),
    st.lists(SCHEDULE_WORDS | DIGITS | SPACING, max_size=14).map("".join),
    st.lists(SCHEDULE_WORDS | DIGITS | SPACING | PIECE, max_size=14).map("".join),
    st.builds("{}-{:02d}-{:02d} {}:{:02d}{}".format, st.integers(0, 9999), st.integers(0, 99),
              st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
              st.sampled_from(["", ":00", ":60", ":5"])),
    st.builds("cron: {} {} {} {} {}".format,
              *[st.sampled_from(["*", "0", "9", "59", "60", "*/0", "*/15", "1-5", "5-1", "L",
                                 "last", "mon", "0,7", "?", "31", "2", "-", ",", "99999"])] * 5),
    MEMBER_TEXT,
)
