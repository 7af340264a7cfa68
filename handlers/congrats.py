"""Congratulations in the group: counting them, and the secretary's report and thank-you."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from bot.congrats.card import FontMissing, render_png
from bot.congrats.report import report_text, thanks_text
from bot.congrats.service import Candidate, Congratulations
from bot.core.commands import Call, command
from bot.core.messages import Incoming
from bot.core.replies import Replies
from bot.core.router import Role
from bot.posts.desk import PostDesk
from handlers.posts import EXAMPLE_ID


class CongratulationCollector:
    """The route: group messages that may congratulate, recorded by the service."""

    def __init__(self, congratulations: Congratulations) -> None:
        self.congratulations = congratulations
        self.decided = 0  # candidates looked at, counted or not: tests wait on it
        self.decisions = asyncio.Condition()

    def matches(self, message: Incoming) -> Candidate | None:
        return self.congratulations.candidate(message)

    async def record(self, message: Incoming, candidate: Candidate) -> None:
        try:
            await self.congratulations.record(message, candidate)
        finally:
            async with self.decisions:
                self.decided += 1
                self.decisions.notify_all()


class CongratulationCommands:
    def __init__(self, congratulations: Congratulations, desk: PostDesk,
                 replies: Replies) -> None:
        self.congratulations = congratulations
        self.desk = desk
        self.replies = replies

    @command("祝贺统计", "congrats", role=Role.SECRETARY, usage="#祝贺统计 [编号] [未祝贺]",
             summary="谁祝贺了：人数、类型、名单和图片（默认最近一条）",
             example=f"#祝贺统计 {EXAMPLE_ID} 未祝贺")
    async def report(self, call: Call) -> None:
        """The tally privately, then the card to forward to the group (never the missing)."""
        words = [word for word in call.args if word not in ("未祝贺", "missing")]
        post_id = self.desk.get(words[0]).id if words else None
        found = self.congratulations.tally(post_id)
        missing = None
        if len(words) < len(call.args):
            missing = await self.congratulations.not_congratulated(found)
        text = report_text(found, self.desk.tz, missing)
        folder = Path(tempfile.mkdtemp(prefix="congrats-card-"))
        try:
            picture = render_png(found, folder / f"祝贺统计-{found.post_id}.png", self.desk.tz)
        except FontMissing as error:
            shutil.rmtree(folder, ignore_errors=True)
            call.answer(f"{text}\n（图片未生成：服务器缺少中文字体。{error}）")
            return
        call.answer(f"{text}\n统计图随后发来，可直接转发到群里。")
        sent = self.replies.picture(call.talker_id, picture, reason="congratulations picture")
        sent.add_done_callback(lambda _: shutil.rmtree(folder, ignore_errors=True))

    @command("致谢", "thanks", role=Role.SECRETARY, usage="#致谢 编号",
             summary="在群里发一条总的致谢", example=f"#致谢 {EXAMPLE_ID}")
    async def thank(self, call: Call) -> None:
        """One thank-you to each group, never one per congratulation, never twice."""
        post = self.desk.get(call.arg(0, "公告编号"))
        found, sent_now = await self.congratulations.thank(post.id)
        if sent_now:
            call.answer(f"已在群里致谢：{thanks_text(found)}")
        else:
            call.answer(f"“{post.title}”的致谢已经发过了，不再重复。")
