"""The congratulations on one post: the tally, the secretary's report, the timeline, a CSV, thanks.

The picture secretaries forward is drawn from the same tally in bot/congrats/card.py.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.congrats.records import Congratulation, CongratulationRecords
from bot.core.chinese_time import minute
from bot.core.config import CONGRATULATION_KINDS

NAMES_IN_THANKS = 5
NICKNAME_IN_THANKS = 16  # characters of one member's group nickname in the group thank-you
# Timeline buckets by how long the congratulations went on: per 10 minutes within the first
# hours, per hour over a three-day window, per day beyond (at most 72 bars).
BUCKETS = ((4 * 3600, 600), (12 * 3600, 1800), (72 * 3600, 3600), (9 * 86_400, 3 * 3600))
DAY = 86_400
CSV_FORMULA_START = ("=", "+", "-", "@")  # Excel would run such a cell as a formula


@dataclass(frozen=True)
class Tally:
    post_id: str
    title: str
    opened_at: float  # when the post went out (its first window opened)
    closes_at: float  # when the last of its windows closes (or closed)
    counted_at: float  # when this tally was taken
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

    @property
    def names_in_order(self) -> list[str]:
        names = self.names
        return [names[member] for member in self.members]

    def by_kind(self) -> dict[str, int]:
        """Messages per kind (a message with a flower and words counts for both)."""
        counts = Counter(kind for record in self.records for kind in record.kinds)
        return {kind: counts.get(kind, 0) for kind in CONGRATULATION_KINDS}

    @property
    def window_open(self) -> bool:
        return self.counted_at < self.closes_at


@dataclass(frozen=True)
class Timeline:
    """Congratulations per bucket, buckets aligned to the clock (06:20, 06:30 … or 14:00)."""

    start: float
    step: int  # seconds
    counts: list[int]

    def bucket_start(self, index: int) -> float:
        return self.start + index * self.step


def tally(records: CongratulationRecords, post_id: str, title: str,
          now: float | None = None) -> Tally | None:
    collections = records.collections(post_id)
    if not collections:
        return None
    return Tally(post_id, title, min(c.opened_at for c in collections),
                 max(c.closes_at for c in collections), time.time() if now is None else now,
                 records.congratulations(post_id))


def timeline(found: Tally, tz: ZoneInfo) -> Timeline | None:
    """Congratulations over time, or None when they all fall in one bucket (one bar says
    nothing a count does not)."""
    if not found.records:
        return None
    first = min(found.opened_at, found.records[0].at)
    span = max(record.at for record in found.records) - first
    step = next((step for longest, step in BUCKETS if span < longest), DAY)
    start = _floor_to_clock(first, step, tz)
    counts = Counter(int((record.at - start) // step) for record in found.records)
    if len(counts) < 2:
        return None
    return Timeline(start, step, [counts.get(index, 0) for index in range(max(counts) + 1)])


def _floor_to_clock(moment: float, step: int, tz: ZoneInfo) -> float:
    """The start of the bucket of `step` seconds holding `moment`, on the local clock."""
    shift = local_shift(moment, tz)
    return (moment + shift) // step * step - shift


def local_shift(moment: float, tz: ZoneInfo) -> float:
    """Seconds the local clock is ahead of UTC at `moment` (Asia/Shanghai: 8 hours)."""
    offset = datetime.fromtimestamp(moment, tz).utcoffset()
    return offset.total_seconds() if offset else 0.0


def report_text(found: Tally, tz: ZoneInfo, missing: list[str] | None = None) -> str:
    """The secretary's report: when, how many, which kinds, who (and who not yet)."""
    def at(moment: float) -> str:
        return minute(datetime.fromtimestamp(moment, tz))

    since = how_long(found.counted_at - found.opened_at)
    if found.window_open:
        closing = f"征集截止：{at(found.closes_at)}（还有 {how_long(found.closes_at - found.counted_at)}）"
    else:
        closing = f"征集截止：{at(found.closes_at)}（已截止，之后的祝贺不再计入）"
    lines = [f"“{found.title}”祝贺统计", f"发出时间：{at(found.opened_at)}",
             f"统计时间：{at(found.counted_at)}（发出后 {since}）", closing]
    names = found.names_in_order
    if not names:
        lines.append("还没有人祝贺。")
    else:
        kinds = found.by_kind()
        lines += [f"共 {len(names)} 位会长祝贺，合计 {len(found.records)} 条消息。",
                  "按类型：" + " · ".join(f"{kind} {count}" for kind, count in kinds.items())]
        if sum(kinds.values()) > len(found.records):
            lines.append(f"一条消息可同时计入几种类型（如“恭喜[强]”既算文字也算点赞），"
                         f"所以各类相加是 {sum(kinds.values())}，多于 {len(found.records)} 条消息。")
        lines.append(f"按祝贺先后：{'、'.join(names)}")
    if missing is not None:
        lines.append(f"尚未祝贺（{len(missing)} 位）：{'、'.join(missing)}" if missing
                     else "尚未祝贺：无，群里的会长都已祝贺。")
    return "\n".join(lines)


def how_long(seconds: float) -> str:
    """'45 秒', '10 分钟', '3 小时 5 分钟', '2 天 23 小时': whole units, rounded down."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    return f"{minutes} 分钟" if minutes else f"{secs} 秒"


def thanks_text(found: Tally) -> str:
    """One thank-you for everyone: "感谢X会长、Y会长等28位会长的祝贺与支持！". Members choose
    their group nicknames: each is cleaned and cut (`_nickname_in_thanks`) before it goes to
    the whole group; a name nothing is left of is counted but not shown."""
    count = len(found.names_in_order)
    shown = [name for name in map(_nickname_in_thanks, found.names_in_order) if name]
    if not shown:
        return f"感谢{count}位会长的祝贺与支持！"
    listed = "、".join(shown[:NAMES_IN_THANKS])
    if count > len(shown[:NAMES_IN_THANKS]):
        return f"感谢{listed}等{count}位会长的祝贺与支持！"
    return f"感谢{listed}的祝贺与支持！"


def _nickname_in_thanks(name: str) -> str:
    """One short line: line breaks and other spaces made one space; control and invisible
    characters (zero-width spaces and joiners, right-to-left overrides) dropped; at most
    NICKNAME_IN_THANKS characters."""
    kept = "".join(" " if char.isspace() else char for char in name
                   if char.isspace() or char.isprintable())
    line = " ".join(kept.split())
    if len(line) > NICKNAME_IN_THANKS:
        return line[: NICKNAME_IN_THANKS - 1] + "…"
    return line


def write_csv(found: Tally, path: Path, tz: ZoneInfo) -> Path:
    """One row per message, its time on the chamber's clock; UTF-8 with a BOM, so Excel opens
    the Chinese intact."""
    zone = "北京时间" if tz.key == "Asia/Shanghai" else tz.key
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([f"时间（{zone}）", "微信ID", "群昵称", "类型", "内容", "群ID", "消息ID"])
        for record in found.records:
            at = datetime.fromtimestamp(record.at, tz)
            writer.writerow([f"{at:%Y-%m-%d %H:%M:%S}", record.member_id,
                             _cell(record.member_name), "、".join(record.kinds),
                             _cell(record.text), record.group_id, record.message_id])
    return path


def _cell(said: str) -> str:
    """What a member wrote, never read by Excel as a formula."""
    return "'" + said if said.startswith(CSV_FORMULA_START) else said
