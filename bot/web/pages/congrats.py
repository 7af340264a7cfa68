"""祝贺: the posts that collect congratulations with their counts; per post the counts by kind,
the names in order, who has not yet, a timeline, the card and the CSV, and 致谢 after a
confirmation. Secretaries and admins, through the same service as #祝贺统计 and #致谢."""

from __future__ import annotations

import asyncio
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.congrats.card import FontMissing
from bot.congrats.report import Tally, how_long, thanks_text
from bot.core.errors import MaybeSent, NotSent, UserError
from bot.core.store import THANKS_SUFFIX
from bot.web.congrats_view import (
    attachment,
    card_bytes,
    collecting_posts,
    csv_bytes,
    timeline_bars,
)
from bot.web.context import NotFound, Web


def routes(web: Web) -> list[BaseRoute]:
    congratulations = web.congratulations
    records = congratulations.records
    topics = web.settings.group_names

    def at(moment: float) -> datetime:
        return datetime.fromtimestamp(moment, web.tz)

    def thanked(post_id: str) -> bool:
        return bool(web.desk.store.ledger(post_id=post_id + THANKS_SUFFIX))

    def tally_of(post_id: str) -> Tally:
        """The post's tally, as #祝贺统计 has it; NotFound (a 404 page) with its sentence."""
        try:
            return congratulations.tally(post_id)
        except UserError as error:
            raise NotFound(str(error)) from None

    async def post_list(request: Request) -> Response:
        viewer = web.viewer(request)
        posts = web.desk.posts()
        rows = collecting_posts(posts, records.collections(), records.counts(),
                                {post.id: post.title for post in posts}, web.now())
        return web.page(request, "congrats.html", viewer, rows=rows)

    async def missing_names(found: Tally) -> list[str] | None:
        """Who has not congratulated, as #祝贺统计 未祝贺 says; None while WeChat is away."""
        try:
            return await congratulations.not_congratulated(found)
        except (NotSent, MaybeSent):
            return None

    async def post_page(request: Request, notice: str = "", notice_kind: str = "ok"
                        ) -> Response:
        viewer = web.viewer(request)
        found = tally_of(request.path_params["post_id"])
        kinds = found.by_kind()
        return web.page(
            request, "congrats_post.html", viewer, found=found, kinds=kinds,
            kinds_add_up=sum(kinds.values()) > len(found.records),
            missing=await missing_names(found), bars=timeline_bars(found, web.tz),
            opened_at=at(found.opened_at), closes_at=at(found.closes_at),
            counted_at=at(found.counted_at), since=how_long(found.counted_at - found.opened_at),
            left=how_long(found.closes_at - found.counted_at), thanked=thanked(found.post_id),
            notice=notice, notice_kind=notice_kind)

    async def csv_file(request: Request) -> Response:
        web.viewer(request)
        found = tally_of(request.path_params["post_id"])
        return Response(csv_bytes(found, web.tz), media_type="text/csv; charset=utf-8",
                        headers=attachment(f"祝贺统计-{found.post_id}.csv",
                                           f"congrats-{found.post_id}.csv"))

    async def card_file(request: Request) -> Response:
        viewer = web.viewer(request)
        found = tally_of(request.path_params["post_id"])
        try:
            picture = await asyncio.to_thread(card_bytes, found, web.tz)
        except FontMissing:
            return web.page(request, "message.html", viewer, status_code=503,
                            sentence="图片未生成：服务器缺少中文字体。请运维人员安装 "
                                     "fonts-wqy-microhei 后再试；名单和表格不受影响。")
        return Response(picture, media_type="image/png",
                        headers=attachment(f"祝贺统计-{found.post_id}.png",
                                           f"congrats-{found.post_id}.png"))

    async def confirm_thanks(request: Request) -> Response:
        """The step before 致谢: the exact sentence and where it goes."""
        viewer = web.viewer(request)
        try:
            post = web.desk.get(request.path_params["post_id"])
        except UserError as error:
            raise NotFound(str(error)) from None
        found = tally_of(post.id)
        groups = [topics.get(c.group_id, c.group_id) for c in records.collections(post.id)]
        return web.page(request, "congrats_thank.html", viewer, found=found,
                        text=thanks_text(found) if found.records else "",
                        groups=list(dict.fromkeys(groups)), thanked=thanked(post.id))

    async def thank(request: Request) -> Response:
        """#致谢 from the web: once per group, whoever asks and however often."""
        _viewer, _form = await web.changer(request)
        try:
            post = web.desk.get(request.path_params["post_id"])
            found, sent_now = await congratulations.thank(post.id)
        except UserError as error:
            return await post_page(request, str(error), "error")
        if sent_now:  # the words of #致谢 (handlers/congrats.py)
            return await post_page(request, f"已在群里致谢：{thanks_text(found)}")
        return await post_page(request, f"“{post.title}”的致谢已经发过了，不再重复。", "warn")

    return [
        Route("/congrats", post_list),
        Route("/congrats/{post_id}.csv", csv_file),
        Route("/congrats/{post_id}/card.png", card_file),
        Route("/congrats/{post_id}/thank", confirm_thanks),
        Route("/congrats/{post_id}/thank", thank, methods=["POST"]),
        Route("/congrats/{post_id}", post_page),
    ]
