"""The post library: the posts as read from the post folder, reloaded when a file changes.

It is what everyone reads posts from (the scheduler, the desk, congratulations, #公告列表).
A file that does not parse is skipped and reported to the admins once; while it is being
edited, the last good version of that post keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.posts.files import ParsedFiles, Post, PostError, directory_state, load_posts

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]


class PostLibrary:
    def __init__(self, directory: Path, tz: ZoneInfo, clock: Callable[[], datetime],
                 notify_admins: Notify) -> None:
        self.directory = directory
        self.tz = tz
        self.clock = clock
        self.notify_admins = notify_admins
        self.posts: dict[str, Post] = {}
        self.errors: list[PostError] = []
        # Called after every load, e.g. the scheduler brings its jobs in line.
        self.change_listeners: list[Callable[[], None]] = []
        self.loads = 0  # how many times the files were read: tests wait on reloads
        self.reloaded = asyncio.Condition()
        self._files: dict[str, tuple[float, int]] = {}
        self._parsed: ParsedFiles = {}  # unchanged files are not parsed again
        self._reported_errors: set[str] = set()

    def get(self, post_id: str) -> Post | None:
        return self.posts.get(post_id)

    def title_of(self, post_id: str) -> str:
        """The post's title, or its id once the post is gone."""
        post = self.posts.get(post_id)
        return post.title if post else post_id

    def sorted(self) -> list[Post]:
        return sorted(self.posts.values(), key=lambda post: post.id)

    def errors_of(self, post_id: str) -> list[str]:
        return [str(error) for error in self.errors if error.path.stem == post_id]

    def load(self) -> None:
        """(Re)read the post files; then tell the listeners."""
        if not self.directory.is_dir():
            log.warning("no post directory %s: creating it (no posts yet)", self.directory)
            self.directory.mkdir(parents=True, exist_ok=True)
        self._files = directory_state(self.directory)
        posts, errors = load_posts(self.directory, self.tz, self.clock(), self._parsed)
        self.loads += 1
        broken_files = {error.path for error in errors}
        for post_id, old in self.posts.items():
            # A file broken by an edit in progress: keep running its last good version.
            if post_id not in posts and old.path in broken_files:
                posts[post_id] = old
        self.posts, self.errors = posts, errors
        for error in errors:
            log.error("post file skipped: %s", error)
        for listener in self.change_listeners:
            listener()

    async def reload_if_changed(self) -> None:
        """Hot reload: pick up post files edited, added or removed on disk."""
        if directory_state(self.directory) == self._files:
            return
        before = {post_id: post.meta for post_id, post in self.posts.items()}
        self.load()
        changed = [post_id for post_id, post in self.posts.items()
                   if before.get(post_id) != post.meta]
        removed = [post_id for post_id in before if post_id not in self.posts]
        log.info("post files reloaded: %d post(s), changed %s, removed %s",
                 len(self.posts), changed or "none", removed or "none")
        async with self.reloaded:
            self.reloaded.notify_all()
        await self.report_errors()

    async def report_errors(self) -> None:
        """Tell the admins of each broken file once (at start-up, and when one breaks)."""
        for error in self.errors:
            if str(error) not in self._reported_errors:
                self._reported_errors.add(str(error))
                await self.notify_admins(self._bad_file_notice(error))

    def _bad_file_notice(self, error: PostError) -> str:
        """What the admins read: whether the post still runs (its last good version) or not."""
        if any(post.path == error.path for post in self.posts.values()):
            return f"公告文件有误，修改未生效（旧版本照常执行），请改正文件：{error}"
        return f"公告文件有误，这条公告未载入（改正文件前不会发送），请改正文件：{error}"
