"""The congratulations on one post: the tally, the secretary's report, a picture, a CSV, thanks.

Secretaries forward pictures, not tables: the PNG shows congratulations per hour and by kind
with Chinese labels, which needs a CJK font (Debian fonts-wqy-microhei, or fonts-noto-cjk).
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from bot.congrats.records import Congratulation, CongratulationRecords
from bot.core.config import CONGRATULATION_KINDS

FONT_ENV = "CHAMBER_CJK_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
NAMES_IN_THANKS = 5


class FontMissing(RuntimeError):
    """No font with Chinese characters: labels would be boxes."""


@dataclass(frozen=True)
class Tally:
    post_id: str
    title: str
    opened_at: float
    records: list[Congratulation]

    @property
    def members(self) -> list[str]:
        """Member ids in order of their first congratulation."""
        return list(dict.fromkeys(record.member_id for record in self.records))

    @property
    def names(self) -> dict[str, str]:
        """Each member's name in the group when they first congratulated."""
        names: dict[str, str] = {}
        for record in self.records:
            names.setdefault(record.member_id, record.member_name)
        return names

    def by_kind(self) -> dict[str, int]:
        """Messages per kind (a message with a flower and words counts for both)."""
        counts = Counter(kind for record in self.records for kind in record.kinds)
        return {kind: counts.get(kind, 0) for kind in CONGRATULATION_KINDS}

    def per_hour(self) -> list[int]:
        """Congratulations in each hour after the post was sent."""
        if not self.records:
            return []
        hours = [int((record.at - self.opened_at) // 3600) for record in self.records]
        counts = Counter(max(hour, 0) for hour in hours)
        return [counts.get(hour, 0) for hour in range(max(counts) + 1)]

    def span(self) -> str:
        """How long after the post the last congratulation came, in words."""
        if not self.records:
            return "0 分钟"
        minutes = max(0, int((self.records[-1].at - self.opened_at) // 60))
        hours, minutes = divmod(minutes, 60)
        return f"{hours} 小时 {minutes} 分钟" if hours else f"{minutes} 分钟"


def tally(records: CongratulationRecords, post_id: str, title: str) -> Tally | None:
    collections = records.collections(post_id)
    if not collections:
        return None
    opened = min(collection.opened_at for collection in collections)
    return Tally(post_id, title, opened, records.congratulations(post_id))


def report_text(found: Tally, tz: ZoneInfo, missing: list[str] | None = None) -> str:
    sent = datetime.fromtimestamp(found.opened_at, tz)
    names = found.names
    kinds = " · ".join(f"{kind} {count}" for kind, count in found.by_kind().items())
    lines = [
        f"“{found.title}”祝贺统计（{sent:%m月%d日 %H:%M} 发出）",
        f"发出后 {found.span()} 内，共 {len(names)} 位会长祝贺，合计 {len(found.records)} 条。",
        kinds,
    ]
    if names:
        lines.append(f"按祝贺先后：{'、'.join(names[m] for m in found.members)}")
    if missing is not None:
        lines.append(f"尚未祝贺（{len(missing)} 位）：{'、'.join(missing) or '无'}")
    return "\n".join(lines)


def thanks_text(found: Tally) -> str:
    """One thank-you for everyone: "感谢X会长、Y会长等28位会长的祝贺与支持！"."""
    names = [found.names[member] for member in found.members]
    shown = "、".join(names[:NAMES_IN_THANKS])
    if len(names) > NAMES_IN_THANKS:
        return f"感谢{shown}等{len(names)}位会长的祝贺与支持！"
    return f"感谢{shown}的祝贺与支持！"


def write_csv(found: Tally, path: Path, tz: ZoneInfo) -> Path:
    """UTF-8 with a BOM, so Excel opens the Chinese intact."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["时间", "微信ID", "群昵称", "类型", "群ID", "消息ID"])
        for record in found.records:
            at = datetime.fromtimestamp(record.at, tz)
            writer.writerow([f"{at:%Y-%m-%d %H:%M:%S}", record.member_id, record.member_name,
                             "、".join(record.kinds), record.group_id, record.message_id])
    return path


def cjk_font_path() -> Path:
    for candidate in (os.environ.get(FONT_ENV, ""), *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing("no Chinese font found: install fonts-wqy-microhei (apt) or set "
                      f"{FONT_ENV} to a .ttf/.ttc with Chinese characters")


def render_png(found: Tally, path: Path, tz: ZoneInfo) -> Path:
    """Two bar charts with Chinese labels: per hour after the post, and by kind."""
    font_file = str(cjk_font_path())
    title_font = ImageFont.truetype(font_file, 30)
    font = ImageFont.truetype(font_file, 20)
    small = ImageFont.truetype(font_file, 16)
    width, height = 900, 760
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    sent = datetime.fromtimestamp(found.opened_at, tz)
    title = found.title if len(found.title) <= 22 else found.title[:21] + "…"
    draw.text((40, 24), f"“{title}”祝贺统计", font=title_font, fill="#b3261e")
    draw.text((40, 70), f"{sent:%Y年%m月%d日 %H:%M} 发出 · {len(found.names)} 位会长 · "
                        f"{len(found.records)} 条祝贺", font=font, fill="#333333")

    hours = found.per_hour() or [0]
    _bars(draw, (40, 150, width - 40, 400), [f"{h + 1}" for h in range(len(hours))], hours,
          "每小时祝贺数（发出后第几小时）", font, small, "#d9534f")
    kinds = found.by_kind()
    _bars(draw, (40, 470, width - 40, 720), list(kinds), list(kinds.values()),
          "按类型", font, small, "#f0ad4e")
    image.save(path, "PNG")
    return path


def _bars(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], labels: list[str],
          values: list[int], caption: str, font: ImageFont.FreeTypeFont,
          small: ImageFont.FreeTypeFont, colour: str) -> None:
    left, top, right, bottom = box
    draw.text((left, top - 36), caption, font=font, fill="#333333")
    draw.line((left, bottom, right, bottom), fill="#999999", width=2)
    peak = max(values) or 1
    slot = (right - left) / max(len(values), 1)
    step = max(1, len(labels) // 24)  # at most ~24 labels under the bars
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x0 = left + index * slot + slot * 0.15
        x1 = left + (index + 1) * slot - slot * 0.15
        y0 = bottom - (bottom - top - 30) * value / peak
        draw.rectangle((x0, y0, x1, bottom), fill=colour)
        if value:
            draw.text(((x0 + x1) / 2, y0 - 4), str(value), font=small, fill="#333333",
                      anchor="mb")
        if index % step == 0:
            draw.text(((x0 + x1) / 2, bottom + 6), label, font=small, fill="#333333",
                      anchor="mt")
