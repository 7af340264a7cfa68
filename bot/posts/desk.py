"""The secretariat's desk: every change to posts, from chat or the command line, goes here.

Each change rewrites the post file atomically (comments kept), is recorded in the audit log
(who, when, what), and reloads the library, so the scheduler moves the next run at once.
Mistakes come back as `UserError` sentences naming the closest ids or an example.
"""

from __future__ import annotations

import asyncio
import copy
import shutil
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.chinese_time import day_and_time, minute
from bot.core.commands import closest
from bot.core.errors import UserError
from bot.core.outbox import Outcome
from bot.core.store import CHAT, THANKS_SUFFIX, AuditEntry, RunSummary, Store
from bot.posts.editing import CLEAR_SCHEDULE, Draft, PostFields
from bot.posts.files import ID_PATTERN, SUFFIX, Post, edit_post_file, new_post_file
from bot.posts.library import PostLibrary
from bot.posts.publisher import Publisher, RunReport
from bot.posts.schedule_rules import ScheduleRule, parse_schedule
from bot.posts.scheduler import PostScheduler

__all__ = ["CLEAR_SCHEDULE", "PostDesk"]


class PostDesk:
    def __init__(self, library: PostLibrary, scheduler: PostScheduler, publisher: Publisher,
                 store: Store, trash: Path, clock: Callable[[], datetime]) -> None:
        self.library = library
        self.scheduler = scheduler
        self.publisher = publisher
        self.store = store
        self.trash = trash
        self.now = clock
        self.source = CHAT  # where changes come from, for the audit log
        # Posts being published now: a second #发布 (or the web's button) while the first is
        # still sending would pass the "already sent today" check and send it all again.
        self._publishing: set[str] = set()  # shared by the copies via() makes

    def via(self, source: str) -> PostDesk:
        """The same desk, recording its changes as made from `source` (网页: the console)."""
        desk = copy.copy(self)
        desk.source = source
        return desk

    @property
    def tz(self) -> ZoneInfo:
        return self.library.tz

    def get(self, ref: str) -> Post:
        """The post by id, or by its number in #公告列表; else a UserError naming the closest."""
        post = self.library.get(ref)
        posts = self.library.sorted()
        if post is None and ref.isdecimal() and 1 <= int(ref) <= len(posts):
            post = posts[int(ref) - 1]
        if post is None:
            hint = closest(ref, list(self.library.posts)) or "发送 #公告列表 查看所有公告及序号。"
            raise UserError(f"没有编号为“{ref}”的公告。{hint}")
        return post

    def posts(self) -> list[Post]:
        """In the order #公告列表 numbers them (1, 2, ...): by id."""
        return self.library.sorted()

    def status(self, post: Post) -> str:
        """正在发布 / 草稿待核对 / 已暂停 / 已定时 / 已发送 (with the time) / 未定时, for lists."""
        if self.is_publishing(post.id):
            return "正在发布"
        if post.meta.review:
            return f"草稿待核对（{len(post.meta.review)} 处）"
        if post.meta.paused:
            return "已暂停"
        next_run = self.next_run(post.id)
        if next_run is not None:
            return f"已定时，下次 {day_and_time(next_run)}"
        sent = self.store.last_sent_at(post.id)
        if sent is not None:
            return f"已发送 {minute(datetime.fromtimestamp(sent, self.tz))}"
        return "未定时"

    def _reviewed(self, post: Post, doing: str) -> None:
        """Nothing unreviewed reaches the group: a UserError listing what is left to check."""
        if not post.meta.review:
            return
        flags = "\n".join(f"{n}. {flag}" for n, flag in enumerate(post.meta.review, start=1))
        raise UserError(
            f"“{post.title}”还有 {len(post.meta.review)} 处待核对，暂不能{doing}：\n{flags}\n"
            f"请先 #预览 {post.id} 通读全文，改好后由管理员私聊发送：#核对完成 {post.id}")

    def next_run(self, post_id: str) -> datetime | None:
        return self.scheduler.next_run(post_id)

    # --- changes ------------------------------------------------------------------------------

    def check_new_id(self, post_id: str) -> None:
        """A UserError unless `post_id` can name a new post."""
        if not ID_PATTERN.fullmatch(post_id) or post_id.isdecimal():
            raise UserError(f"公告编号“{post_id}”只能用字母、数字、- 和 _，且不能全是数字"
                            "（数字是 #公告列表 里的序号），例如：meeting-1201")
        if post_id in self.library.posts or (self.library.directory / f"{post_id}{SUFFIX}").exists():
            raise UserError(f"编号“{post_id}”已被使用，请换一个，或用 #编辑 {post_id} 修改。")

    def create(self, actor: str, post_id: str, title: str, body: str) -> Post:
        self.check_new_id(post_id)
        new_post_file(self.library.directory, post_id, title, body, groups=[])
        return self._changed(actor, "create", post_id, title)

    def edit(self, actor: str, post_id: str, title: str | None, body: str | None) -> Post:
        """A new title, a new body, or both."""
        post = self.get(post_id)

        def retitle(document: Any) -> None:
            if title is not None:
                document["title"] = title

        edit_post_file(post.path, retitle, body=body)
        action = "edit" if body is not None else "retitle"
        return self._changed(actor, action, post.id, title or "")

    def save(self, actor: str, post_id: str, fields: PostFields,
             uploads: Sequence[tuple[str, bytes]] = ()) -> tuple[Post, str]:
        """The web editor's whole post at once (bot/posts/editing.py), with pictures uploaded
        as (name shown, bytes). Returns the post and what changed ("": nothing was)."""
        post = self.get(post_id)
        draft = Draft.checked(fields, post, uploads, self.tz, self.now())
        if draft.rule is not None and draft.rule.text != post.meta.schedule:
            self._reviewed(post, "定时")
        saved, changes = draft.write(post.path, post)
        return (self._changed(actor, "save", post.id, changes) if changes else saved), changes

    def create_whole(self, actor: str, post_id: str, fields: PostFields,
                     uploads: Sequence[tuple[str, bytes]] = ()) -> Post:
        """A new post from the web editor, with every field at once."""
        self.check_new_id(post_id)
        draft = Draft.checked(fields, None, uploads, self.tz, self.now())
        draft.write(self.library.directory / f"{post_id}{SUFFIX}", None)
        detail = draft.title + (f"，定时 {draft.rule.text}" if draft.rule else "")
        return self._changed(actor, "create", post_id, detail)

    def mark_reviewed(self, actor: str, post_id: str) -> Post:
        """An admin has read the post and cleared the places the import flagged."""
        post = self.get(post_id)
        if not post.meta.review:
            raise UserError(f"“{post.title}”没有待核对的地方，可以直接 #发布 {post.id} 或 #定时。")

        def clear(document: Any) -> None:
            document.pop("review", None)

        edit_post_file(post.path, clear)
        return self._changed(actor, "review", post.id, f"{len(post.meta.review)} 处")

    def schedule(self, actor: str, post_id: str, phrase: str) -> tuple[Post, ScheduleRule | None]:
        """A ScheduleError (a UserError with examples) if the phrase is not understood."""
        post = self.get(post_id)
        post_id = post.id
        rule = None if phrase in CLEAR_SCHEDULE else parse_schedule(phrase, self.tz, self.now())
        if rule is not None:
            self._reviewed(post, "定时")

        def reschedule(document: Any) -> None:
            if rule is None:
                document.pop("schedule", None)
            else:
                document["schedule"] = rule.text

        edit_post_file(post.path, reschedule)
        return self._changed(actor, "schedule", post_id, rule.text if rule else "无"), rule

    def set_paused(self, actor: str, post_id: str, paused: bool) -> Post:
        post = self.get(post_id)
        post_id = post.id
        rule = post.rule
        if not paused and rule is not None and not rule.recurring and not rule.next_runs(self.now()):
            raise UserError(f"“{post.title}”只定时发一次（{rule.text}），这个时间已经过了，"
                            f"恢复后也不会再发。请重新定时：#定时 {post.id} 明天 9:00")

        def pause(document: Any) -> None:
            document["paused"] = paused

        edit_post_file(post.path, pause)
        return self._changed(actor, "pause" if paused else "resume", post_id)

    def deletable(self, post_id: str) -> Post:
        """The post, unless it is being sent now: deleting would not stop the parts to go."""
        post = self.get(post_id)
        if self.is_publishing(post.id):
            raise UserError(f"“{post.title}”正在发布，现在不能删除。请等发完后再删除。")
        return post

    def delete(self, actor: str, post_id: str) -> Path:
        """Move the file to the trash in the data directory (`restore` brings it back)."""
        post = self.deletable(post_id)
        self.trash.mkdir(parents=True, exist_ok=True)
        stamp = self.now().strftime("%Y%m%d-%H%M%S")
        target = self.trash / f"{post.id}.{stamp}{SUFFIX}"
        shutil.move(post.path, target)
        target.chmod(0o600)  # a move keeps the post folder's mode; the data folder is private
        self.store.audit(actor, "delete", post.id, target.name, self.source)
        self.library.load()
        return target

    def restore(self, actor: str, post_id: str) -> Post:
        """The newest deleted version of the post, back in the post folder."""
        if post_id in self.library.posts:
            raise UserError(f"“{post_id}”没有被删除，无需还原。")
        if not ID_PATTERN.fullmatch(post_id):  # a file pattern (#还原 *) would match any
            raise UserError(f"“{post_id[:20]}”不是公告编号。发送 #还原 编号，例如：#还原 meeting-1201")
        found = sorted(self.trash.glob(f"{post_id}.*{SUFFIX}")) if self.trash.is_dir() else []
        if not found:
            deleted = sorted({path.name.split(".")[0] for path in self.trash.glob(f"*{SUFFIX}")}
                             if self.trash.is_dir() else [])
            hint = closest(post_id, deleted) or ("已删除的公告：" + "、".join(deleted) if deleted
                                                 else "回收站是空的。")
            raise UserError(f"回收站里没有“{post_id}”。{hint}")
        target = self.library.directory / f"{post_id}{SUFFIX}"
        if target.exists():
            raise UserError(f"公告目录里已有文件 {target.name}，请先改名或删除它再还原。")
        shutil.move(found[-1], target)
        return self._changed(actor, "restore", post_id, found[-1].name)

    def history(self, post_id: str) -> tuple[list[AuditEntry], list[RunSummary]]:
        """Who changed or sent the post, and every run of it and of its thank-you."""
        return self.store.history(post_id), sorted(
            self.store.runs(post_id) + self.store.runs(post_id + THANKS_SUFFIX),
            key=lambda run: run.at, reverse=True)

    # --- sending ------------------------------------------------------------------------------

    async def publish_now(self, actor: str, post_id: str, again: bool = False) -> RunReport:
        """Send a post to its groups now; a second time the same day only when asked."""
        post = self.get(post_id)
        post_id = post.id
        self._reviewed(post, "发布")
        groups = self.publisher.target_groups(post)
        if not groups:
            raise UserError(f"“{post.title}”的目标群都找不到，请检查公告文件的 groups。")
        if self.is_publishing(post_id):  # before "sent today": its parts are going out now
            raise UserError(f"“{post.title}”正在发布，这次没有重复发送；发完后会告诉您结果。")
        now = self.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        if not again and any(self.store.sent_since(post.id, g, midnight) for g in groups):
            raise UserError(f"“{post.title}”今天已经发过了。确需再发一次，请发送：#发布 {post_id} 再次")
        slot = f"manual:{now.isoformat()}"  # unique per request
        self.store.audit(actor, "publish", post_id, slot, self.source)
        self._publishing.add(post_id)
        try:
            return await self.publisher.run(post, slot, groups)
        finally:
            self._publishing.discard(post_id)

    def is_publishing(self, post_id: str) -> bool:
        """Whether #发布 or the console is sending this post right now (from chat and the web
        alike: one desk, one set)."""
        return post_id in self._publishing

    def preview(self, post_id: str, chat_id: str) -> list[asyncio.Future[Outcome]]:
        return self.publisher.preview(self.get(post_id), chat_id)

    def _changed(self, actor: str, action: str, post_id: str, detail: str = "") -> Post:
        self.store.audit(actor, action, post_id, detail, self.source)
        self.library.load()
        post = self.library.get(post_id)
        if post is None:
            raise UserError("已保存，但公告文件有误：" + "；".join(self.library.errors_of(post_id)))
        return post
