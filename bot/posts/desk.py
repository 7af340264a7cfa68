"""The secretariat's desk: every change to posts, from chat or the command line, goes here.

Each change rewrites the post file atomically (comments kept), is recorded in the audit log
(who, when, what), and reloads the library, so the scheduler moves the next run at once.
Mistakes come back as `UserError` sentences naming the closest ids or an example.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.commands import closest
from bot.core.errors import UserError
from bot.core.outbox import Outcome
from bot.core.store import AuditEntry, Store
from bot.posts.files import ID_PATTERN, SUFFIX, Post, edit_post_file, new_post_file
from bot.posts.library import PostLibrary
from bot.posts.publisher import Publisher, RunReport
from bot.posts.schedule_rules import ScheduleRule, parse_schedule
from bot.posts.scheduler import PostScheduler

CLEAR_SCHEDULE = ("无", "取消", "none")


class PostDesk:
    def __init__(self, library: PostLibrary, scheduler: PostScheduler, publisher: Publisher,
                 store: Store, trash: Path, clock: Callable[[], datetime]) -> None:
        self.library = library
        self.scheduler = scheduler
        self.publisher = publisher
        self.store = store
        self.trash = trash
        self.now = clock

    @property
    def tz(self) -> ZoneInfo:
        return self.library.tz

    def get(self, post_id: str) -> Post:
        """The post, or a UserError naming the closest ids."""
        post = self.library.get(post_id)
        if post is None:
            hint = closest(post_id, list(self.library.posts)) or "发送 #公告列表 查看所有公告。"
            raise UserError(f"没有编号为“{post_id}”的公告。{hint}")
        return post

    def posts(self) -> list[Post]:
        return self.library.sorted()

    def next_run(self, post_id: str) -> datetime | None:
        return self.scheduler.next_run(post_id)

    # --- changes ------------------------------------------------------------------------------

    def create(self, actor: str, post_id: str, title: str, body: str) -> Post:
        if not ID_PATTERN.match(post_id):
            raise UserError(f"公告编号“{post_id}”只能用字母、数字、- 和 _，例如：award-2021")
        if post_id in self.library.posts or (self.library.directory / f"{post_id}{SUFFIX}").exists():
            raise UserError(f"编号“{post_id}”已被使用，请换一个，或用 #编辑 {post_id} 修改。")
        new_post_file(self.library.directory, post_id, title, body, groups=[])
        return self._changed(actor, "create", post_id, title)

    def edit(self, actor: str, post_id: str, title: str, body: str) -> Post:
        post = self.get(post_id)

        def retitle(document: Any) -> None:
            document["title"] = title

        edit_post_file(post.path, retitle, body=body)
        return self._changed(actor, "edit", post_id, title)

    def schedule(self, actor: str, post_id: str, phrase: str) -> tuple[Post, ScheduleRule | None]:
        """A ScheduleError (a UserError with examples) if the phrase is not understood."""
        post = self.get(post_id)
        rule = None if phrase in CLEAR_SCHEDULE else parse_schedule(phrase, self.tz, self.now())

        def reschedule(document: Any) -> None:
            if rule is None:
                document.pop("schedule", None)
            else:
                document["schedule"] = rule.text

        edit_post_file(post.path, reschedule)
        return self._changed(actor, "schedule", post_id, rule.text if rule else "无"), rule

    def set_paused(self, actor: str, post_id: str, paused: bool) -> Post:
        post = self.get(post_id)

        def pause(document: Any) -> None:
            document["paused"] = paused

        edit_post_file(post.path, pause)
        return self._changed(actor, "pause" if paused else "resume", post_id)

    def delete(self, actor: str, post_id: str) -> Path:
        """Move the file to the trash in the data directory."""
        post = self.get(post_id)
        self.trash.mkdir(parents=True, exist_ok=True)
        stamp = self.now().strftime("%Y%m%d-%H%M%S")
        target = self.trash / f"{post.path.stem}.{stamp}{SUFFIX}"
        shutil.move(post.path, target)
        self.store.audit(actor, "delete", post_id, f"moved to {target}")
        self.library.load()
        return target

    def history(self, post_id: str) -> list[AuditEntry]:
        return self.store.history(post_id)

    # --- sending ------------------------------------------------------------------------------

    async def publish_now(self, actor: str, post_id: str, again: bool = False) -> RunReport:
        """Send a post to its groups now; a second time the same day only when asked."""
        post = self.get(post_id)
        groups = self.publisher.target_groups(post)
        if not groups:
            raise UserError(f"“{post.title}”的目标群都找不到，请检查公告文件的 groups。")
        now = self.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        if not again and any(self.store.sent_since(post.id, g, midnight) for g in groups):
            raise UserError(f"“{post.title}”今天已经发过了。确需再发一次，请发送：#发布 {post_id} 再次")
        slot = f"manual:{now.isoformat()}"  # unique per request
        self.store.audit(actor, "publish", post_id, slot)
        return await self.publisher.run(post, slot, groups)

    def preview(self, post_id: str, chat_id: str) -> list[asyncio.Future[Outcome]]:
        return self.publisher.preview(self.get(post_id), chat_id)

    def _changed(self, actor: str, action: str, post_id: str, detail: str = "") -> Post:
        self.store.audit(actor, action, post_id, detail)
        self.library.load()
        post = self.library.get(post_id)
        if post is None:
            raise UserError("已保存，但公告文件有误：" + "；".join(self.library.errors_of(post_id)))
        return post
