"""A post's page and its editor: /posts/{ref} (ref: the id or the #公告列表 number), /posts/new.

Secretaries read the post (status, schedule and its next runs, groups, options, review flags)
and its preview; admins get the editor on the same page. Saving goes through the desk, as
chat does (bot/posts/desk.py: save, create_whole), so a bad form never reaches the disk and the
audit log says 网页. The schedule check and the preview are small htmx endpoints; without
JavaScript the page still saves, and shows both as they were when it was drawn.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.core.chinese_time import day_and_time
from bot.core.errors import UserError
from bot.core.router import Role
from bot.posts.editing import PostFields
from bot.posts.files import SUFFIX, Post, image_path
from bot.posts.pictures import MEDIA_TYPES
from bot.web.context import Viewer, Web
from bot.web.editor_form import (
    check_groups,
    check_schedule,
    fields_from,
    file_version,
    group_choices,
    picture_rows,
    uploads_from,
)
from bot.web.pages.posts import group_names
from bot.web.preview import Preview, preview_of, typed_post

# After a save the page says what happened (only these words: nothing from the URL is shown).
DONE = {"saved": "已保存。", "created": "已新建，请看“群里将看到”的预览。",
        "unchanged": "没有改动，文件未重写。"}
CHANGED_MEANWHILE = ("这条公告在你打开这一页之后被改过（在微信里、由另一位管理员或直接改文件），"
                     "为免覆盖，这次没有保存。上面是最新的设置，你填写的内容还在下面；"
                     "核对后再点一次“保存”即以你填写的为准。")
NEW = "new"  # /posts/new: a post named "new" is still reachable by its number
# The desk's status words (PostDesk.status) -> the badge's class in console.css.
BADGES = {"正在发布": "scheduled", "草稿待核对": "review", "已暂停": "paused", "已定时": "scheduled", "已发送": "sent"}


class PostPages:
    def __init__(self, web: Web) -> None:
        self.web = web

    # --- reading --------------------------------------------------------------------------

    async def show(self, request: Request) -> Response:
        viewer = self.web.viewer(request)
        post = self.web.post(request)
        done = self._done(request.query_params.get("done", ""), post)
        return await self._page(request, viewer, post, PostFields.of(post), done=done)

    def _done(self, what: str, post: Post) -> str:
        """What the save did, and where the post stands now: scheduled, or the next step."""
        if what not in ("saved", "created"):
            return DONE.get(what, "")
        next_run = self.web.desk.next_run(post.id)
        if next_run is not None:
            return f"{DONE[what]}已定时，下次发送：{day_and_time(next_run)}。"
        return DONE[what] + "未定时：要发到群里点“立即发布”，或在“定时”里填上时间后保存。"

    async def new(self, request: Request) -> Response:
        viewer = self.web.viewer(request, Role.ADMIN)
        return await self._page(request, viewer, None, PostFields())

    async def picture(self, request: Request) -> Response:
        """A picture of the post, only by a name in its list and through image_path()."""
        self.web.viewer(request)
        post, name = self.web.post(request), request.path_params["name"]
        try:
            path = image_path(post.path.parent, name) if name in post.meta.images else None
        except ValueError:
            path = None
        media_type = MEDIA_TYPES.get(path.suffix.lower().lstrip(".")) if path else None
        if path is None or media_type is None:
            return Response("没有这张图片。", status_code=404, media_type="text/plain; charset=utf-8")
        return FileResponse(path, media_type=media_type, headers={"cache-control": "no-cache"})

    # --- changing -------------------------------------------------------------------------

    async def save(self, request: Request) -> Response:
        viewer, form = await self._admin_form(request)
        fields, drawn_from = fields_from(form), str(form.get("version") or "")
        uploads = await uploads_from(form)
        post = self.web.post(request)  # after the last await: nothing changes it from here on
        if drawn_from != file_version(post):
            return await self._page(request, viewer, post, fields, problem=CHANGED_MEANWHILE)
        try:
            check_groups(self.web.settings, post, fields)
            saved, changes = self.web.desk.save(viewer.user_id, post.id, fields, uploads)
        except UserError as error:
            return await self._page(request, viewer, post, fields, problem=str(error),
                                    version=drawn_from)
        return RedirectResponse(f"/posts/{saved.id}?done={'saved' if changes else 'unchanged'}",
                                status_code=303)

    async def create(self, request: Request) -> Response:
        viewer, form = await self._admin_form(request)
        fields, new_id = fields_from(form), str(form.get("id") or "").strip()
        try:
            if new_id == NEW:
                raise UserError("“new”是网页后台保留的地址，不能作公告编号。请换一个，例如：meeting-1201")
            check_groups(self.web.settings, None, fields)
            post = self.web.desk.create_whole(viewer.user_id, new_id, fields,
                                              await uploads_from(form))
        except UserError as error:
            return await self._page(request, viewer, None, fields, problem=str(error),
                                    new_id=new_id)
        return RedirectResponse(f"/posts/{post.id}?done=created", status_code=303)

    # --- live bits (htmx) -----------------------------------------------------------------

    async def schedule_check(self, request: Request) -> Response:
        viewer, form = await self._admin_form(request)
        current = self.web.desk.library.get(str(form.get("post") or ""))
        check = check_schedule(self.web, str(form.get("schedule") or ""), current)
        return self.web.page(request, "schedule_check.html", viewer, check=check)

    async def preview(self, request: Request) -> Response:
        viewer, form = await self._admin_form(request)
        current = self.web.desk.library.get(str(form.get("post") or ""))
        return self.web.page(request, "preview.html", viewer,
                             preview=await self._preview(current, fields_from(form)))

    # --- helpers --------------------------------------------------------------------------

    async def _admin_form(self, request: Request) -> tuple[Viewer, FormData]:
        return await self.web.changer(request, Role.ADMIN)

    async def _preview(self, post: Post | None, fields: PostFields) -> Preview:
        if post is None:  # a new post has no file yet, nor pictures to show
            new_file = self.web.desk.library.directory / f"{NEW}{SUFFIX}"
            typed, problems = typed_post(fields, "", new_file, set())
        else:
            typed, problems = typed_post(fields, post.id, post.path, set(post.meta.images))
        return preview_of(typed, self.web.settings.sending.max_text_length,
                          await self._bot_name(), problems)

    async def _bot_name(self) -> str:
        self_id = self.web.people.self_id
        return await self.web.name_of(self_id) if self_id else "商会公告机器人"

    async def _page(self, request: Request, viewer: Viewer, post: Post | None,
                    fields: PostFields, problem: str = "", done: str = "", new_id: str = "",
                    version: str | None = None) -> Response:
        """The post's page; with `problem`, the form sent back as typed, with the sentence.
        `version`: the file the form was first drawn from, when it is sent back."""
        web = self.web
        facts = await self._facts(post) if post is not None else {}
        return web.page(
            request, "post.html", viewer, status_code=400 if problem else 200, post=post,
            fields=fields, problem=problem, done=done, new_id=new_id,
            version=version if version is not None else file_version(post) if post else "",
            preview=await self._preview(post, fields),
            choices=group_choices(web.settings, fields.groups), pictures=picture_rows(post, fields),
            check=check_schedule(web, fields.schedule, post),
            window_default=f"{web.settings.congratulations.window_hours:g}",
            max_length=web.settings.sending.max_text_length, all_groups=len(web.settings.groups),
            **facts)

    async def _facts(self, post: Post) -> dict[str, Any]:
        """What the summary says: status, next runs, groups, who changed it last."""
        web, status = self.web, self.web.desk.status(post)
        changes = web.desk.store.history(post.id, limit=1)
        last = changes[0] if changes else None
        return {
            "status": status,
            "badge": next((css for word, css in BADGES.items() if status.startswith(word)), ""),
            "runs": post.rule.next_runs(web.now(), 3) if post.rule else [],
            "groups": group_names(web, post), "last_change": last,
            "changed_by": await web.name_of(last.actor_id) if last else "",
            "changed_at": datetime.fromtimestamp(last.at, web.tz) if last else None,
            "publishing": web.desk.is_publishing(post.id)}


def routes(web: Web) -> list[BaseRoute]:
    pages = PostPages(web)
    return [
        Route("/posts/new", pages.new, methods=["GET"]),
        Route("/posts/new", pages.create, methods=["POST"]),
        Route("/posts/preview", pages.preview, methods=["POST"]),
        Route("/posts/schedule-check", pages.schedule_check, methods=["POST"]),
        Route("/posts/{ref}", pages.show, methods=["GET"]),
        Route("/posts/{ref}", pages.save, methods=["POST"]),
        Route("/posts/{ref}/images/{name:path}", pages.picture, methods=["GET"]),
    ]
