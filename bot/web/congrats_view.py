"""What the 祝贺 pages show, from the congratulations service's tallies: the list of collecting
posts, a post's timeline as bars, and the CSV and picture as bytes (made in a temporary folder
that is removed before the answer goes out)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.congrats.card import render_png
from bot.congrats.records import Collection
from bot.congrats.report import Tally, Timeline, how_long, timeline, write_csv
from bot.core.chinese_time import minute
from bot.posts.files import Post

BAR_STEPS = 10  # bar heights come in tenths of the highest (CSS classes h0 … h10)


@dataclass(frozen=True)
class CollectingPost:
    """A row of the list: a post that collects congratulations, sent or not yet."""

    post_id: str
    title: str
    opened_at: datetime | None  # None: not sent yet
    closes_at: datetime | None
    messages: int
    members: int
    now: datetime

    @property
    def state(self) -> str:
        if self.opened_at is None or self.closes_at is None:
            return "尚未发出"
        if self.now < self.closes_at:
            return f"征集中，还有 {how_long((self.closes_at - self.now).total_seconds())}"
        return "已截止"


def collecting_posts(posts: list[Post], collections: list[Collection],
                     counts: dict[str, tuple[int, int]], title_of: dict[str, str],
                     now: datetime) -> list[CollectingPost]:
    """Sent posts newest first (deleted ones too: their records stay), then those not sent."""
    windows: dict[str, tuple[float, float]] = {}
    for window in collections:  # newest first
        opened, closes = windows.get(window.post_id, (window.opened_at, window.closes_at))
        windows[window.post_id] = (min(opened, window.opened_at), max(closes, window.closes_at))
    tz = now.tzinfo
    rows = [CollectingPost(post_id, title_of.get(post_id, post_id),
                           datetime.fromtimestamp(opened, tz), datetime.fromtimestamp(closes, tz),
                           *counts.get(post_id, (0, 0)), now)
            for post_id, (opened, closes) in windows.items()]
    rows += [CollectingPost(post.id, post.title, None, None, 0, 0, now) for post in posts
             if post.meta.collect_congratulations and post.id not in windows]
    return rows


@dataclass(frozen=True)
class Bar:
    count: int
    height: int  # 0 … BAR_STEPS
    label: str  # "12-07 09:10 起 3 条"


@dataclass(frozen=True)
class Bars:
    step_words: str  # "10 分钟"
    bars: list[Bar]
    first: str  # the first bucket's start, "2026-12-07 09:10"
    last: str  # the last bucket's end


def timeline_bars(found: Tally, tz: ZoneInfo) -> Bars | None:
    """The tally's timeline as bars a stylesheet can draw, or None when it has none."""
    timing: Timeline | None = timeline(found, tz)
    if timing is None:
        return None
    peak = max(timing.counts)

    def at(moment: float) -> str:
        return minute(datetime.fromtimestamp(moment, tz))

    bars = [Bar(count, round(count / peak * BAR_STEPS),
                f"{at(timing.bucket_start(index))} 起 {count} 条")
            for index, count in enumerate(timing.counts)]
    return Bars(how_long(timing.step), bars, at(timing.start),
                at(timing.bucket_start(len(timing.counts))))


def csv_bytes(found: Tally, tz: ZoneInfo) -> bytes:
    with tempfile.TemporaryDirectory(prefix="congrats-csv-") as folder:
        return write_csv(found, Path(folder) / "tally.csv", tz).read_bytes()


def card_bytes(found: Tally, tz: ZoneInfo) -> bytes:
    """The card secretaries forward (FontMissing without a Chinese font). Slow: run it in a
    thread, not on the bot's loop."""
    with tempfile.TemporaryDirectory(prefix="congrats-card-") as folder:
        return render_png(found, Path(folder) / "card.png", tz).read_bytes()


def attachment(file_name: str, ascii_name: str) -> dict[str, str]:
    """Headers for a download named `file_name`: browsers read the Chinese name from
    filename* (RFC 6266), older clients get `ascii_name`."""
    return {"content-disposition":
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"}
