"""公告: every post with its status, next and last run and groups; a search box."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.posts.files import Post
from bot.web.context import Web

STATES = {"草稿待核对": "review", "已暂停": "paused", "已定时": "scheduled", "已发送": "sent",
          "未定时": "unscheduled"}


@dataclass(frozen=True)
class PostRow:
    number: int  # as #公告列表 numbers it: commands accept it
    post: Post
    status: str  # 草稿待核对 / 已暂停 / 已定时 / 已发送 / 未定时
    next_run: datetime | None
    last_sent: datetime | None
    groups: str

    @property
    def state(self) -> str:  # for the badge's colour
        return next((css for word, css in STATES.items() if self.status.startswith(word)), "")


def group_names(web: Web, post: Post) -> str:
    topics = {group.id: group.topic for group in web.settings.groups if group.id}
    return "、".join(topics.get(name) or name for name in post.meta.groups) or "全部群"


def rows(web: Web, query: str) -> list[PostRow]:
    desk, needle = web.desk, query.strip().casefold()
    found = []
    for number, post in enumerate(desk.posts(), start=1):
        if needle and not any(needle in text.casefold() for text in (post.id, post.title, post.body)):
            continue
        sent = desk.store.last_sent_at(post.id)
        status = desk.status(post).split("，")[0].split(" ")[0]
        found.append(PostRow(number, post, status, desk.next_run(post.id),
                             datetime.fromtimestamp(sent, web.tz) if sent else None,
                             group_names(web, post)))
    return found


def routes(web: Web) -> list[BaseRoute]:
    async def post_list(request: Request) -> Response:
        viewer = web.viewer(request)
        query = request.query_params.get("q", "")[:100]
        return web.page(request, "posts.html", viewer, rows=rows(web, query), query=query,
                        total=len(web.desk.posts()), errors=web.desk.library.errors)

    return [Route("/", post_list)]
