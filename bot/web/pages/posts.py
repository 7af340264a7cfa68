"""公告: every post with its status, next and last run and groups; a search box; 100 a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.posts.files import Post
from bot.web.context import Web

PAGE_SIZE = 100


@dataclass(frozen=True)
class PostRow:
    number: int  # as #公告列表 numbers it: commands accept it
    post: Post
    next_run: datetime | None
    last_sent: datetime | None
    groups: str
    publishing: bool = False

    @property
    def status(self) -> tuple[str, str]:
        """(word, badge class), in the desk's order (PostDesk.status, which chat lists show)."""
        if self.publishing:
            return "正在发布", "scheduled"
        if self.post.meta.review:
            return f"草稿待核对（{len(self.post.meta.review)} 处）", "review"
        if self.post.meta.paused:
            return "已暂停", "paused"
        if self.next_run is not None:
            return "已定时", "scheduled"
        if self.last_sent is not None:
            return "已发送", "sent"
        return "未定时", ""


def group_names(web: Web, post: Post) -> str:
    """The post's target groups by name; 全部群 when it names none."""
    topics = web.settings.group_names
    return "、".join(topics.get(name) or name for name in post.meta.groups) or "全部群"


def rows(web: Web, query: str) -> list[PostRow]:
    """The posts matching `query` (id, title or body), numbered as in #公告列表."""
    desk, needle = web.desk, query.strip().casefold()
    sent_times = desk.store.last_sent_times()  # one query for all, not one per post
    found = []
    for number, post in enumerate(desk.posts(), start=1):
        if needle and not any(needle in text.casefold() for text in (post.id, post.title, post.body)):
            continue
        sent = sent_times.get(post.id)
        found.append(PostRow(
            number, post, desk.next_run(post.id),
            datetime.fromtimestamp(sent, web.tz) if sent else None, group_names(web, post),
            desk.is_publishing(post.id)))
    return found


def page_number(text: str, pages: int) -> int:
    """The page asked for, within 1..pages; 1 for anything that is not a number."""
    return min(max(int(text), 1), pages) if text.isdecimal() and len(text) < 7 else 1


def routes(web: Web) -> list[BaseRoute]:
    async def post_list(request: Request) -> Response:
        viewer = web.viewer(request)
        query = request.query_params.get("q", "")[:100]
        found = rows(web, query)
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page = page_number(request.query_params.get("page", "1"), pages)
        return web.page(request, "posts.html", viewer, query=query, found=len(found),
                        rows=found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], page=page,
                        pages=pages, total=len(web.desk.posts()), errors=web.desk.library.errors)

    return [Route("/", post_list)]
