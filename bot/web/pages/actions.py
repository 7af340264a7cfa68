"""A post's actions: publish now (and again), pause and resume, 核对完成, delete, and the
回收站 with restore. The buttons are in post_actions.html, included by the post page.

Roles as in chat (handlers/posts.py): secretaries publish; admins also pause, resume, mark
reviewed, delete and restore. Every change goes through the desk (source 网页), after the CSRF
check. Publishing, 核对完成 and deleting first show a confirmation page whose one-time token
(bot/web/confirmations.py) makes the confirmed action run once, however often it is sent.

  GET  /posts/{ref}/publish    the confirmation (再次发布 when it went out today)
  POST /posts/{ref}/publish    csrf, confirm, again
  POST /posts/{ref}/pause      POST /posts/{ref}/resume
  GET, POST /posts/{ref}/reviewed     GET, POST /posts/{ref}/delete
  GET  /trash                  POST /trash/{post_id}/restore
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.chinese_time import day_and_time
from bot.core.errors import UserError
from bot.core.messages import OutKind
from bot.core.router import Role
from bot.posts.files import ID_PATTERN, Post
from bot.posts.publisher import post_messages
from bot.web.confirmations import Confirmations
from bot.web.context import Viewer, Web
from bot.web.trash import deleted_posts

A = Role.ADMIN
PUBLISH, AGAIN, REVIEWED, DELETE = "publish", "publish-again", "reviewed", "delete"
URL_OF = {PUBLISH: "publish", AGAIN: "publish", REVIEWED: "reviewed", DELETE: "delete"}


@dataclass(frozen=True)
class Done:
    """How an action ended, for the result page."""

    sentence: str
    ok: bool
    post_id: str
    offer: str = ""  # the next step offered: "again" (再次发布), "publish", "restore" (还原)
    gone: bool = False  # deleted: no post page to go back to


def describe_parts(web: Web, post: Post, group_id: str) -> list[str]:
    """What one group will get, part by part, in people's words."""
    described = []
    for message in post_messages(post, group_id, web.desk.publisher.max_length):
        if message.kind is OutKind.TEXT:
            described.append(f"文字，{len(message.text):,} 字"
                             + ("，@所有人" if message.mention_ids else ""))
        elif message.kind is OutKind.IMAGE:
            described.append(f"图片 {message.image_path.rsplit('/', 1)[-1]}")
        elif message.kind is OutKind.LINK and message.link is not None:
            described.append(f"链接卡片：{message.link.title}")
        else:
            described.append("设为群公告")
    return described


def routes(web: Web) -> list[BaseRoute]:
    desk = web.desk
    confirmations: Confirmations[Done] = Confirmations()

    def group_names(group_ids: list[str]) -> str:
        topics = web.settings.group_names
        return "、".join(topics.get(group_id) or group_id for group_id in group_ids)

    def sent_today(post: Post) -> datetime | None:
        """When the post last reached one of its groups, if that was today (the desk's rule)."""
        now = desk.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        groups = desk.publisher.target_groups(post)
        if not any(desk.store.sent_since(post.id, group, midnight) for group in groups):
            return None
        last = desk.store.last_sent_at(post.id)
        return datetime.fromtimestamp(last, web.tz) if last is not None else now

    def result(request: Request, viewer: Viewer, done: Done, repeated: bool = False,
               status_code: int | None = None) -> Response:
        code = status_code or (200 if done.ok else 409)
        return web.page(request, "action_done.html", viewer, status_code=code, done=done,
                        repeated=repeated)

    def confirm(request: Request, viewer: Viewer, post: Post, action: str, heading: str,
                sentence: str, button: str, details: list[str] | None = None,
                danger: bool = False) -> Response:
        return web.page(request, "confirm.html", viewer, post=post, heading=heading,
                        sentence=sentence, details=details or [], button=button,
                        button_id=f"confirm-{action}", danger=danger,
                        form_action=f"/posts/{post.id}/{URL_OF[action]}",
                        again=action == AGAIN,
                        token=confirmations.issue(viewer.user_id, action, post.id))

    def refused(request: Request, viewer: Viewer, post: Post, error: UserError) -> Response:
        return result(request, viewer, Done(str(error), False, post.id))

    async def confirmed(request: Request, viewer: Viewer, form: FormData, action: str,
                        run: Callable[[Post], Awaitable[Done]]) -> Response:
        """The POST of a confirmation page (after web.changer): `run` once per confirmation.
        The form names the post by id, as the confirmation token does."""
        post_id = request.path_params["ref"]

        async def guarded() -> Done:
            try:
                return await run(desk.get(post_id))
            except UserError as error:
                return Done(str(error), False, post_id, gone=post_id not in desk.library.posts)

        once = await confirmations.once(form.get("confirm"), viewer.user_id, action, post_id,
                                        guarded)
        if once is None:
            return result(request, viewer, Done(
                "这个确认页面已过期或已失效，没有做任何改动。请回到公告重新操作。", False, post_id))
        return result(request, viewer, once[0], repeated=once[1])

    # --- publish ------------------------------------------------------------------------------

    async def publish_page(request: Request) -> Response:
        viewer = web.viewer(request)
        post = web.post(request)
        try:
            if desk.is_publishing(post.id):
                raise UserError(f"“{post.title}”正在发布，不用再点发布。发完后刷新公告页面就能看到结果。")
            if post.meta.review:
                raise UserError(f"“{post.title}”还有 {len(post.meta.review)} 处待核对，暂不能发布："
                                + "".join(f"\n{n}. {flag}" for n, flag
                                          in enumerate(post.meta.review, start=1))
                                + "\n请管理员通读全文、改好后点“核对完成”。")
            groups = desk.publisher.target_groups(post)
            if not groups:
                raise UserError(f"“{post.title}”的目标群都找不到，请检查公告文件的 groups。")
            parts = describe_parts(web, post, groups[0])
        except UserError as error:
            return refused(request, viewer, post, error)
        where = f"{len(groups)} 个群（{group_names(groups)}）"
        count = f"每个群 {len(parts)} 条" if len(groups) > 1 else f"共 {len(parts)} 条"
        earlier = sent_today(post)
        if earlier is not None:
            return confirm(request, viewer, post, AGAIN, "再次发布",
                           f"“{post.title}”今天 {earlier:%H:%M} 已经发过了。确定再发一次到 {where}吗？"
                           f"{count}。", "确认再次发布", parts)
        return confirm(request, viewer, post, PUBLISH, "立即发布",
                       f"确定现在把“{post.title}”发到 {where}吗？{count}。", "确认发布", parts)

    async def publish(request: Request) -> Response:
        viewer, form = await web.changer(request)
        again = form.get("again") == "1"

        async def run(post: Post) -> Done:
            try:
                report = await desk.publish_now(viewer.user_id, post.id, again=again)
            except UserError:
                publishing = desk.is_publishing(post.id)  # its own sentence says so
                if not again and not publishing and sent_today(post) is not None:
                    return Done(f"“{post.title}”今天已经发过了，这次没有发送。"
                                "确需再发一次，请点“再次发布”。", False, post.id, offer="again")
                raise
            return Done(report.sentence(post.title), report.complete, post.id)

        return await confirmed(request, viewer, form, AGAIN if again else PUBLISH, run)

    # --- admins: pause, resume, 核对完成, delete, restore ---------------------------------------

    async def set_paused(request: Request, paused: bool) -> Response:
        viewer, _form = await web.changer(request, A)
        post = web.post(request)
        try:
            post = desk.set_paused(viewer.user_id, post.id, paused)
        except UserError as error:
            return refused(request, viewer, post, error)
        if paused:
            return result(request, viewer, Done(
                f"已暂停“{post.title}”，到时间也不会发送。需要时点“恢复定时”。", True, post.id))
        return result(request, viewer, Done(
            f"已恢复“{post.title}”。下次：{day_and_time(desk.next_run(post.id))}", True, post.id))

    async def pause(request: Request) -> Response:
        return await set_paused(request, True)

    async def resume(request: Request) -> Response:
        return await set_paused(request, False)

    async def reviewed_page(request: Request) -> Response:
        viewer = web.viewer(request, A)
        post = web.post(request)
        if not post.meta.review:
            return refused(request, viewer, post, UserError(
                f"“{post.title}”没有待核对的地方，可以直接发布或定时。"))
        return confirm(request, viewer, post, REVIEWED, "核对完成",
                       f"“{post.title}”导入时标出了 {len(post.meta.review)} 处待核对。"
                       "确定已经通读全文、都改好了吗？确认后就可以发布和定时。",
                       "确认核对完成", list(post.meta.review))

    async def mark_reviewed(request: Request) -> Response:
        viewer, form = await web.changer(request, A)

        async def run(post: Post) -> Done:
            post = desk.mark_reviewed(viewer.user_id, post.id)
            return Done(f"“{post.title}”已标记为核对完成，现在可以发布或定时。", True, post.id,
                        offer="publish")

        return await confirmed(request, viewer, form, REVIEWED, run)

    async def delete_page(request: Request) -> Response:
        viewer = web.viewer(request, A)
        post = web.post(request)
        try:
            desk.deletable(post.id)
        except UserError as error:
            return refused(request, viewer, post, error)
        return confirm(request, viewer, post, DELETE, "删除公告",
                       f"确定要删除“{post.title}”（{post.id}）吗？它现在{desk.status(post)}；"
                       "删除后不会再发送。删除的公告在回收站里，可以还原。", "确认删除",
                       danger=True)

    async def delete(request: Request) -> Response:
        viewer, form = await web.changer(request, A)

        async def run(post: Post) -> Done:
            desk.delete(viewer.user_id, post.id)
            return Done(f"已删除“{post.title}”，它不会再发送。删除的公告在回收站里，需要时点“还原”。",
                        True, post.id, offer="restore", gone=True)

        return await confirmed(request, viewer, form, DELETE, run)

    async def trash(request: Request) -> Response:
        viewer = web.viewer(request, A)
        return web.page(request, "trash.html", viewer, deleted=await deleted_posts(web))

    async def restore(request: Request) -> Response:
        viewer, _form = await web.changer(request, A)
        post_id = request.path_params["post_id"]
        if not ID_PATTERN.fullmatch(post_id):  # the desk finds the file by this name
            return result(request, viewer, Done(f"回收站里没有“{post_id}”。", False, post_id,
                                                gone=True), status_code=404)
        try:
            post = desk.restore(viewer.user_id, post_id)
        except UserError as error:
            return result(request, viewer, Done(str(error), False, post_id, gone=True))
        return result(request, viewer, Done(f"已还原“{post.title}”，它现在{desk.status(post)}。",
                                            True, post.id))

    return [
        Route("/posts/{ref}/publish", publish_page),
        Route("/posts/{ref}/publish", publish, methods=["POST"]),
        Route("/posts/{ref}/pause", pause, methods=["POST"]),
        Route("/posts/{ref}/resume", resume, methods=["POST"]),
        Route("/posts/{ref}/reviewed", reviewed_page),
        Route("/posts/{ref}/reviewed", mark_reviewed, methods=["POST"]),
        Route("/posts/{ref}/delete", delete_page),
        Route("/posts/{ref}/delete", delete, methods=["POST"]),
        Route("/trash", trash),
        Route("/trash/{post_id}/restore", restore, methods=["POST"]),
    ]
