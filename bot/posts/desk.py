"""The secretariat's desk: every change to posts, from chat or the command line, goes here.

Each change rewrites the post file atomically (comments kept), is recorded in the audit log
(who, when, what), and reloads the scheduler so the next run moves at once.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.commands import CommandError, closest
from bot.core.outbox import Outcome
from bot.core.store import AuditEntry, Store
from bot.posts.files import ID_PATTERN, SUFFIX, Post, edit_post_file, new_post_file
from bot.posts.publisher import RunReport
from bot.posts.schedule_rules import ScheduleError, ScheduleRule, parse_schedule
from bot.posts.scheduler import PostScheduler


class PostDesk:
    def __init__(self, scheduler: PostScheduler, store: Store, trash: Path) -> None:
        self.scheduler = scheduler
        self.store = store
        self.trash = trash

    @property
    def directory(self) -> Path:
        return self.scheduler.directory

    def now(self) -> datetime:
        return self.scheduler.now()

    def get(self, post_id: str) -> Post:
        """The post, or a CommandError naming the closest ids."""
        post = self.scheduler.posts.get(post_id)
        if post is None:
            hint = closest(post_id, list(self.scheduler.posts)) or "发送 #公告列表 查看所有公告。"
            raise CommandError(f"没有编号为“{post_id}”的公告。{hint}")
        return post

    def posts(self) -> list[Post]:
        return sorted(self.scheduler.posts.values(), key=lambda post: post.id)

    def next_run(self, post_id: str) -> datetime | None:
        return self.scheduler.next_run(post_id)

    # --- changes ------------------------------------------------------------------------------

    def create(self, actor: str, post_id: str, title: str, body: str) -> Post:
        if not ID_PATTERN.match(post_id):
            raise CommandError(f"公告编号“{post_id}”只能用字母、数字、- 和 _，例如：award-2021")
        if post_id in self.scheduler.posts or (self.directory / f"{post_id}{SUFFIX}").exists():
            raise CommandError(f"编号“{post_id}”已被使用，请换一个，或用 #编辑 {post_id} 修改。")
        new_post_file(self.directory, post_id, title, body, groups=[])
        return self._changed(actor, "create", post_id, title)

    def edit(self, actor: str, post_id: str, title: str, body: str) -> Post:
        post = self.get(post_id)

        def retitle(document: Any) -> None:
            document["title"] = title

        edit_post_file(post.path, retitle, body=body)
        return self._changed(actor, "edit", post_id, title)

    def schedule(self, actor: str, post_id: str, phrase: str) -> tuple[Post, ScheduleRule | None]:
        post = self.get(post_id)
        rule = None
        if phrase not in ("无", "取消", "none"):
            try:
                rule = parse_schedule(phrase, self.scheduler.tz, self.now())
            except ScheduleError as error:
                raise CommandError(str(error)) from None

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
        """Move the file to the trash in the data directory (deleting is never undoable)."""
        post = self.get(post_id)
        self.trash.mkdir(parents=True, exist_ok=True)
        stamp = self.now().strftime("%Y%m%d-%H%M%S")
        target = self.trash / f"{post.path.stem}.{stamp}{SUFFIX}"
        shutil.move(post.path, target)
        self.store.audit(actor, "delete", post_id, f"moved to {target}")
        self.scheduler.load()
        return target

    def history(self, post_id: str) -> list[AuditEntry]:
        return self.store.history(post_id)

    # --- sending ------------------------------------------------------------------------------

    async def publish_now(self, actor: str, post_id: str, again: bool = False) -> RunReport:
        """Send a post to its groups now; a second time the same day only when asked."""
        post = self.get(post_id)
        groups = self.scheduler.publisher.target_groups(post)
        if not groups:
            raise CommandError(f"“{post.title}”的目标群都找不到，请检查公告文件的 groups。")
        now = self.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        if not again and any(self.store.sent_since(post.id, g, midnight) for g in groups):
            raise CommandError(f"“{post.title}”今天已经发过了。确需再发一次，请发送：#发布 {post_id} 再次")
        slot = f"manual:{now.isoformat()}"  # unique per request
        self.store.audit(actor, "publish", post_id, slot)
        return await self.scheduler.run_now(post, slot, groups)

    def preview(self, post_id: str, chat_id: str) -> list[asyncio.Future[Outcome]]:
        return self.scheduler.publisher.preview(self.get(post_id), chat_id)

    def _changed(self, actor: str, action: str, post_id: str, detail: str = "") -> Post:
        self.store.audit(actor, action, post_id, detail)
        self.scheduler.load()
        post = self.scheduler.posts.get(post_id)
        if post is None:
            errors = [str(e) for e in self.scheduler.errors if e.path.stem == post_id]
            raise CommandError("已保存，但公告文件有误：" + "；".join(errors))
        return post

