"""The picture a secretary forwards to the group: the post's title, when it went out and was
counted, how many presidents congratulated and how, when (if over time), and every name.

Drawn with Pillow in a CJK font (Debian fonts-wqy-microhei, or fonts-noto-cjk). The card is
1080 px wide, a phone's width, and as tall as its content: nothing is cut, long titles and
long name lists wrap. The layout runs twice, once to measure and once to draw.
"""

from __future__ import annotations

import functools
import math
import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from bot.congrats.report import DAY, Tally, Timeline, local_shift, timeline
from bot.core.chinese_time import weekday

CHAMBER = "山西省山东商会"
FONT_ENV = "CHAMBER_CJK_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
WIDTH, MARGIN = 1080, 64
CONTENT = WIDTH - 2 * MARGIN
RED, GOLD, INK, GREY = "#b3261e", "#f6d58e", "#262626", "#6b6b6b"
PANEL, CHIP, CHIP_INK, RULE = "#fbf3ee", "#fdebe7", "#7a1e16", "#ead8d0"
# Line breaking: Latin words and numbers ("2019-2020") stay whole; closing punctuation hangs
# at the end of a line rather than start the next; an opening one never ends a line.
TOKENS = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_/:%]*|.", re.DOTALL)
HANGING = set("，。、；：？！）」』”’》〉…,.;:?!)]")
OPENING = set("（「『“‘《〈([")
# Time labels under the timeline fall on round times of the clock, at most six of them.
LABEL_EVERY = (1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, DAY, 2 * DAY, 7 * DAY)


class FontMissing(RuntimeError):
    """No font with Chinese characters: labels would be boxes."""


def cjk_font_path() -> Path:
    for candidate in (os.environ.get(FONT_ENV, ""), *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing("no Chinese font found: install fonts-wqy-microhei (apt) or set "
                      f"{FONT_ENV} to a .ttf/.ttc with Chinese characters")


@functools.cache
def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), size)


@functools.cache
def _has_glyph(char: str) -> bool:
    """Whether the font draws `char` (emoji in names are not in a CJK font: a box otherwise)."""
    return char.isspace() or bytes(cjk_font(30).getmask(char)) != bytes(cjk_font(30).getmask("\uffff"))


def drawable(text: str) -> str:
    """`text` without the characters the font would draw as boxes."""
    return "".join(char for char in text if _has_glyph(char)).strip()


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` (hanging punctuation aside); no
    character is dropped: "".join(lines) == text."""
    tokens: list[str] = []
    for token in TOKENS.findall(text):
        tokens += list(token) if font.getlength(token) > width else [token]
    lines: list[str] = []
    line = ""
    for token in tokens:
        if not line or token in HANGING or font.getlength(line + token) <= width:
            line += token
        elif line[-1] in OPENING and len(line) > 1:
            lines.append(line[:-1])
            line = line[-1] + token
        else:
            lines.append(line)
            line = token
    return [*lines, line] if line else lines


def render_png(found: Tally, path: Path, tz: ZoneInfo) -> Path:
    """The card for `found`, saved as PNG at `path`."""
    cjk_font_path()  # FontMissing before anything is drawn
    height = _paint(ImageDraw.Draw(Image.new("RGB", (WIDTH, 1))), found, tz)
    image = Image.new("RGB", (WIDTH, height), "white")
    _paint(ImageDraw.Draw(image), found, tz)
    image.save(path, "PNG", optimize=True)
    return path


def _paint(draw: ImageDraw.ImageDraw, found: Tally, tz: ZoneInfo) -> int:
    """Draws the card from the top; returns its height."""
    y = _header(draw)
    y = _title(draw, found, tz, y + 44)
    y = _totals(draw, found, y + 36)
    y = _kinds(draw, found, y + 56)
    timing = timeline(found, tz)
    if timing is not None:
        y = _timeline(draw, timing, tz, y + 56)
    y = _names(draw, found, y + 56)
    return _footer(draw, found, tz, y + 56)


def _header(draw: ImageDraw.ImageDraw) -> int:
    draw.rectangle((0, 0, WIDTH, 176), fill=RED)
    draw.text((WIDTH / 2, 72), CHAMBER, font=cjk_font(56), fill=GOLD, anchor="mm",
              stroke_width=1, stroke_fill=GOLD)
    caption = "祝 贺 统 计"
    draw.text((WIDTH / 2, 136), caption, font=cjk_font(30), fill="white", anchor="mm")
    half = cjk_font(30).getlength(caption) / 2 + 24
    for side in (-1, 1):  # short gold rules either side of the caption
        draw.line((WIDTH / 2 + side * half, 136, WIDTH / 2 + side * (half + 120), 136),
                  fill=GOLD, width=2)
    return 176


def _title(draw: ImageDraw.ImageDraw, found: Tally, tz: ZoneInfo, y: int) -> int:
    font = cjk_font(46)
    for line in wrap(f"“{drawable(found.title) or found.post_id}”", font, CONTENT):
        draw.text((WIDTH / 2, y), line, font=font, fill=INK, anchor="mt", stroke_width=1,
                  stroke_fill=INK)
        y += 66
    sent = _when(found.opened_at, tz)
    counted = _when(found.counted_at, tz)
    y += 14
    for line in (f"发出时间：{sent}", f"统计截至：{counted}"):
        draw.text((WIDTH / 2, y), line, font=cjk_font(30), fill=GREY, anchor="mt")
        y += 46
    return y


def _when(moment: float, tz: ZoneInfo) -> str:
    at = datetime.fromtimestamp(moment, tz)
    return f"{at.year}年{at.month}月{at.day}日 {weekday(at)} {at:%H:%M}"


def _totals(draw: ImageDraw.ImageDraw, found: Tally, y: int) -> int:
    draw.rounded_rectangle((MARGIN, y, WIDTH - MARGIN, y + 196), radius=24, fill=PANEL)
    halves = ((len(found.members), "位会长祝贺"), (len(found.records), "条祝贺消息"))
    for index, (number, label) in enumerate(halves):
        centre = MARGIN + CONTENT * (index * 2 + 1) / 4
        draw.text((centre, y + 92), str(number), font=cjk_font(88), fill=RED, anchor="ms")
        draw.text((centre, y + 144), label, font=cjk_font(30), fill=INK, anchor="mm")
    draw.line((WIDTH / 2, y + 40, WIDTH / 2, y + 156), fill=RULE, width=2)
    return y + 196


def _heading(draw: ImageDraw.ImageDraw, text: str, y: int) -> int:
    draw.rectangle((MARGIN, y + 2, MARGIN + 8, y + 38), fill=RED)
    draw.text((MARGIN + 24, y), text, font=cjk_font(34), fill=INK, stroke_width=1,
              stroke_fill=INK)
    return y + 64


def _kinds(draw: ImageDraw.ImageDraw, found: Tally, y: int) -> int:
    y = _heading(draw, "按类型", y)
    kinds = list(found.by_kind().items())
    gap, columns, tile_height = 20, 3, 128
    tile_width = (CONTENT - gap * (columns - 1)) / columns
    for index, (kind, count) in enumerate(kinds):
        row, column = divmod(index, columns)
        left = MARGIN + column * (tile_width + gap)
        top = y + row * (tile_height + gap)
        draw.rounded_rectangle((left, top, left + tile_width, top + tile_height), radius=18,
                               fill=PANEL)
        draw.text((left + tile_width / 2, top + 70), str(count), font=cjk_font(56),
                  fill=RED if count else "#c9b8b2", anchor="ms")
        draw.text((left + tile_width / 2, top + 100), kind, font=cjk_font(28), fill=INK,
                  anchor="mm")
    y += math.ceil(len(kinds) / columns) * (tile_height + gap)
    if sum(count for _, count in kinds) > len(found.records):
        draw.text((MARGIN, y), "注：一条消息可同时计入几种类型，各类相加多于消息条数。",
                  font=cjk_font(26), fill=GREY)
        y += 40
    return y


def _timeline(draw: ImageDraw.ImageDraw, timing: Timeline, tz: ZoneInfo, y: int) -> int:
    y = _heading(draw, f"祝贺时间分布（每{_step_words(timing.step)}的祝贺条数）", y)
    top, bottom = y + 36, y + 256
    counts = timing.counts
    slot = CONTENT / len(counts)
    peak = max(counts)
    for index, count in enumerate(counts):
        left = MARGIN + index * slot + slot * 0.14
        right = MARGIN + (index + 1) * slot - slot * 0.14
        bar_top = bottom - (bottom - top) * count / peak
        if count:
            draw.rectangle((left, bar_top, right, bottom), fill="#d9534f")
        if count and (slot >= 30 or count == peak):
            draw.text(((left + right) / 2, bar_top - 6), str(count), font=cjk_font(22),
                      fill=INK, anchor="ms")
    draw.line((MARGIN, bottom, WIDTH - MARGIN, bottom), fill="#9a8a84", width=2)
    span = len(counts) * timing.step
    every = next((every for every in LABEL_EVERY
                  if every >= timing.step and every % timing.step == 0 and span / every <= 6),
                 LABEL_EVERY[-1])
    same_day = _day(timing.start, tz) == _day(timing.bucket_start(len(counts) - 1), tz)
    for index in range(len(counts) + 1):
        moment = timing.bucket_start(index)
        if (moment + local_shift(moment, tz)) % every:
            continue
        x = MARGIN + index * slot
        draw.line((x, bottom, x, bottom + 8), fill="#9a8a84", width=2)
        draw.text((x, bottom + 14), _tick(moment, timing.step, same_day, tz),
                  font=cjk_font(22), fill=GREY, anchor="mt")
    return bottom + 48


def _step_words(step: int) -> str:
    if step == DAY:
        return "天"
    if step % 3600 == 0:
        return "小时" if step == 3600 else f" {step // 3600} 小时"
    return "半小时" if step == 1800 else f" {step // 60} 分钟"


def _day(moment: float, tz: ZoneInfo) -> tuple[int, int]:
    at = datetime.fromtimestamp(moment, tz)
    return at.month, at.day


def _tick(moment: float, step: int, same_day: bool, tz: ZoneInfo) -> str:
    at = datetime.fromtimestamp(moment, tz)
    if step >= DAY:
        return f"{at.month}月{at.day}日"
    return f"{at:%H:%M}" if same_day else f"{at.day}日 {at:%H:%M}"


def _names(draw: ImageDraw.ImageDraw, found: Tally, y: int) -> int:
    names = found.names_in_order
    y = _heading(draw, f"祝贺名单（按祝贺先后，共 {len(names)} 位）", y)
    if not names:
        draw.text((MARGIN, y), "还没有人祝贺。", font=cjk_font(30), fill=GREY)
        return y + 48
    font, pad, chip_height, gap = cjk_font(32), 22, 60, 14
    x: float = MARGIN
    row_top = row_bottom = y
    for name in names:
        lines = wrap(drawable(name) or "（昵称为表情）", font, CONTENT - 2 * pad)
        width = max(font.getlength(line) for line in lines) + 2 * pad
        height = chip_height + (len(lines) - 1) * 44  # a very long name wraps inside its chip
        if x > MARGIN and x + width > WIDTH - MARGIN:
            x, row_top = MARGIN, row_bottom + gap
        draw.rounded_rectangle((x, row_top, x + width, row_top + height),
                               radius=chip_height / 2, fill=CHIP)
        for number, line in enumerate(lines):
            draw.text((x + width / 2, row_top + chip_height / 2 + number * 44), line, font=font,
                      fill=CHIP_INK, anchor="mm")
        row_bottom = max(row_bottom, row_top + height)
        x += width + gap
    return row_bottom


def _footer(draw: ImageDraw.ImageDraw, found: Tally, tz: ZoneInfo, y: int) -> int:
    if found.records:
        draw.text((WIDTH / 2, y), "衷心感谢各位会长的祝贺与支持！", font=cjk_font(36), fill=RED,
                  anchor="mt", stroke_width=1, stroke_fill=RED)
        y += 80
    draw.line((MARGIN, y, WIDTH - MARGIN, y), fill=RULE, width=2)
    at = datetime.fromtimestamp(found.counted_at, tz)
    draw.text((WIDTH / 2, y + 28), f"{CHAMBER}秘书处 · {at.year}年{at.month}月{at.day}日",
              font=cjk_font(26), fill=GREY, anchor="mt")
    return y + 100
