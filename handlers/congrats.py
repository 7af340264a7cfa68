"""Congratulations: counting the group's replies to a post, the report, and the thank-you."""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.congrats.detector import CongratulationDetector, quote_in
from bot.congrats.report import FontMissing, Tally, render_png, report_text, tally, thanks_text
from bot.core.commands import Call, CommandError
from bot.core.messages import Incoming, MessageKind, Outgoing, OutKind
from bot.core.outbox import Outcome
from bot.core.router import Context
from bot.core.store import Congratulation, LedgerKey

COUNTABLE = {MessageKind.RED_ENVELOPE, MessageKind.STICKER, MessageKind.TEXT}


@dataclass(frozen=True)
class Candidate:
    """A group message that may congratulate (the handler checks the post's window)."""

    kinds: tuple[str, ...]


class CongratulationCollector:
    def __init__(self, detector: CongratulationDetector) -> None:
        self.detector = detector
        self.decided = 0  # candidates looked at, counted or not: tests wait on it
        self.decisions = asyncio.Condition()

    def matches(self, message: Incoming) -> Candidate | None:
        if message.room_id is None or message.kind not in COUNTABLE:
            return None
        kinds = self.detector.kinds_in(message)
        if kinds or quote_in(message.text):
            return Candidate(kinds)
        return None

    async def record(self, message: Incoming, ctx: Context, candidate: Candidate) -> None:
        """Counted once per message id, attributed to the group's latest open collecting post;
        committed before this returns."""
        try:
            await self._record(message, ctx, candidate)
        finally:
            async with self.decisions:
                self.decided += 1
                self.decisions.notify_all()

    async def _record(self, message: Incoming, ctx: Context, candidate: Candidate) -> None:
        assert message.room_id is not None
        store = ctx.desk.store
        # Attributed by when the bot sees it: the gateway's clock may be off from ours.
        collection = store.collection_at(message.room_id, time.time())
        if collection is None:
            return
        post = ctx.desk.scheduler.posts.get(collection.post_id)
        kinds = candidate.kinds
        if quote_in(message.text) is not None:  # only a quote needs the post's title to judge
            kinds = self.detector.kinds_in(message, post.title if post else "") or kinds
        if not kinds:
            return
        name = await ctx.people.member_name(message.room_id, message.talker_id)
        store.record_congratulation(Congratulation(
            message.message_id, collection.post_id, message.room_id, message.talker_id, name,
            message.time.timestamp(), kinds))


def _tally_for(call: Call, ctx: Context) -> Tally:
    store = ctx.desk.store
    if call.args:
        post = ctx.desk.get(call.args[0])
        post_id, title = post.id, post.title
    else:
        latest = store.collections()
        if not latest:
            raise CommandError("还没有征集祝贺的公告发出过。公告文件里设 collect_congratulations = true。")
        post_id = latest[0].post_id
        known = ctx.desk.scheduler.posts.get(post_id)
        title = known.title if known else post_id
    found = tally(store, post_id, title)
    if found is None:
        raise CommandError(f"“{title}”还没有发到群里，或没有征集祝贺。")
    return found


async def report(call: Call, ctx: Context) -> None:
    """#祝贺统计 [编号] [未祝贺]: the tally privately, then the same as a picture."""
    found = _tally_for(call, ctx)
    missing = None
    if "未祝贺" in call.args or "missing" in call.args:
        missing = await _not_congratulated(found, ctx)
    who = call.message.talker_id
    tz = ctx.desk.scheduler.tz
    ctx.tell(who, report_text(found, tz, missing))
    try:
        picture = render_png(found, Path(tempfile.mkdtemp()) / f"祝贺统计-{found.post_id}.png", tz)
    except FontMissing as error:
        ctx.tell(who, f"（图片未生成：服务器缺少中文字体。{error}）")
        return
    ctx.outbox.send(Outgoing(who, reason="congratulations picture", kind=OutKind.IMAGE,
                             image_path=str(picture)))


async def _not_congratulated(found: Tally, ctx: Context) -> list[str]:
    """Names of the members of the post's groups who have not congratulated (bot excluded)."""
    done = {*found.members, ctx.people.self_id}
    groups = dict.fromkeys(c.group_id for c in ctx.desk.store.collections(found.post_id))
    return [await ctx.people.member_name(group, member) for group in groups
            for member in await ctx.people.room_member_ids(group) if member not in done]


async def thank(call: Call, ctx: Context) -> None:
    """#致谢 编号: one thank-you to each group, never one per congratulation, never twice."""
    post = ctx.desk.get(call.arg(0, "公告编号"))
    found = tally(ctx.desk.store, post.id, post.title)
    if found is None or not found.records:
        raise CommandError(f"“{post.title}”还没有收到祝贺，暂不致谢。")
    results = [await outcome for outcome in send_thanks(ctx, found)]
    if Outcome.SENT in results:
        ctx.tell(call.message.talker_id, f"已在群里致谢：{thanks_text(found)}")
    else:
        ctx.tell(call.message.talker_id, f"“{post.title}”的致谢已经发过了，不再重复。")


def send_thanks(ctx: Context, found: Tally) -> list[asyncio.Future[Outcome]]:
    """The thank-you for each group of the post's collections, keyed in the send ledger."""
    text = thanks_text(found)
    futures = []
    for collection in ctx.desk.store.collections(found.post_id):
        key = LedgerKey(f"{found.post_id}#thanks", collection.group_id, collection.slot, 1, 1)
        ctx.desk.store.plan([key])
        futures.append(ctx.outbox.send(Outgoing(collection.group_id, text, reason="thanks",
                                                ledger=key)))
    return futures


async def thank_closed_windows(ctx: Context, now: float, lookback: float = 24 * 3600) -> int:
    """auto_thanks: when a collecting post's window has closed (within `lookback`, so a bot
    down over the closing still thanks), one thank-you per group; returns how many posts."""
    thanked = 0
    store = ctx.desk.store
    for post_id in dict.fromkeys(c.post_id for c in store.collections()
                                 if now - lookback <= c.closes_at <= now):
        if store.ledger(post_id=f"{post_id}#thanks"):
            continue
        known = ctx.desk.scheduler.posts.get(post_id)
        found = tally(store, post_id, known.title if known else post_id)
        if found is not None and found.records:
            send_thanks(ctx, found)
            thanked += 1
    return thanked
